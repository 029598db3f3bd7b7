//! `blocking-saga-step`: blocking I/O on the async runtime in handlers, sagas and steps.

mod behaviour_support;
use behaviour_support::*;

const KAFKA: &[&str] = &["rdkafka", "tokio", "reqwest", "serde_json"];

fn consumer(body: &str) -> String {
    format!(
        r#"
use rdkafka::consumer::{{Consumer, StreamConsumer}};
use rdkafka::message::BorrowedMessage;

async fn run(consumer: StreamConsumer) -> anyhow::Result<()> {{
    consumer.subscribe(&["payments.failed"])?;
    loop {{
        let message = consumer.recv().await?;
        handle(&message).await?;
    }}
}}

{body}
"#
    )
}

#[test]
fn a_sleep_and_a_blocking_client_in_a_consumer_are_reported() {
    let source = consumer(
        r#"
async fn handle(message: &BorrowedMessage<'_>) -> anyhow::Result<()> {
    std::thread::sleep(std::time::Duration::from_millis(200));
    release_stock(message)?;
    Ok(())
}

fn release_stock(message: &BorrowedMessage<'_>) -> anyhow::Result<()> {
    reqwest::blocking::Client::new()
        .post("http://inventory:8080/stock/release")
        .send()?;
    Ok(())
}
"#,
    );
    let checked = check(
        &[ServiceCrate {
            name: "inventory",
            dependencies: KAFKA,
            files: &[("src/main.rs", &source)],
        }],
        None,
    );
    let found = checked.of("blocking-saga-step");
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].contains("std::thread::sleep"), "{found:#?}");
    assert!(
        found[1].contains("reqwest::blocking::Client::new"),
        "{found:#?}"
    );
    assert!(found[1].contains("in `release_stock`"), "{found:#?}");
}

#[test]
fn blocking_work_moved_to_spawn_blocking_is_fine() {
    let source = consumer(
        r#"
async fn handle(message: &BorrowedMessage<'_>) -> anyhow::Result<()> {
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let payload = message.payload().map(<[u8]>::to_vec);
    tokio::task::spawn_blocking(move || {
        std::thread::sleep(std::time::Duration::from_millis(5));
        archive(payload)
    })
    .await??;
    Ok(())
}

fn archive(payload: Option<Vec<u8>>) -> anyhow::Result<()> {
    reqwest::blocking::Client::new().post("http://archive/put").send()?;
    Ok(())
}
"#,
    );
    let checked = check(
        &[ServiceCrate {
            name: "inventory",
            dependencies: KAFKA,
            files: &[("src/main.rs", &source)],
        }],
        None,
    );
    assert_eq!(checked.of("blocking-saga-step"), Vec::<String>::new());
}

#[test]
fn sync_diesel_in_a_saga_step_is_reported_but_not_in_start_up_code() {
    let source = r#"
use diesel::prelude::*;

struct ReserveStock { sku: String }

#[async_trait::async_trait]
impl SagaStep for ReserveStock {
    async fn execute(&self, ctx: &mut Context) -> Result<(), StepError> {
        let mut conn = PgConnection::establish(&ctx.database_url)?;
        diesel::update(stock::table.filter(stock::sku.eq(&self.sku)))
            .set(stock::reserved.eq(true))
            .execute(&mut conn)?;
        Ok(())
    }

    async fn compensate(&self, ctx: &mut Context) -> Result<(), StepError> {
        ctx.inventory_client.release(&self.sku).await?;
        Ok(())
    }
}

fn main() {
    let mut conn = PgConnection::establish("postgres://localhost/inventory").unwrap();
    std::thread::sleep(std::time::Duration::from_secs(1));
}
"#;
    let checked = check(
        &[ServiceCrate {
            name: "inventory",
            dependencies: &["axum", "diesel", "tokio"],
            files: &[("src/main.rs", source)],
        }],
        None,
    );
    let found = checked.of("blocking-saga-step");
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].contains("PgConnection::establish"), "{found:#?}");
    assert!(
        found[0].contains("saga step `ReserveStock::execute`"),
        "{found:#?}"
    );
    assert!(
        found[1].contains("diesel::RunQueryDsl::execute (sync connection)"),
        "{found:#?}"
    );
}

#[test]
fn diesel_async_is_not_blocking() {
    let source = r#"
use diesel_async::RunQueryDsl;

#[async_trait::async_trait]
impl SagaStep for ReserveStock {
    async fn execute(&self, ctx: &mut Context) -> Result<(), StepError> {
        let mut conn = ctx.pool.get().await?;
        diesel::update(stock::table.filter(stock::sku.eq(&self.sku)))
            .set(stock::reserved.eq(true))
            .execute(&mut conn)
            .await?;
        Ok(())
    }
}
"#;
    let checked = check(
        &[ServiceCrate {
            name: "inventory",
            dependencies: &["axum", "diesel", "diesel-async", "tokio"],
            files: &[("src/main.rs", source)],
        }],
        None,
    );
    assert_eq!(checked.of("blocking-saga-step"), Vec::<String>::new());
}

#[test]
fn an_orchestrator_with_ureq_is_reported() {
    let source = r#"
pub struct Checkout { inventory_url: String, payments_url: String, http: reqwest::Client }

impl Checkout {
    pub async fn place(&self, order: &Order) -> Result<(), Error> {
        self.http.post(format!("{}/reservations", self.inventory_url)).json(order).send().await?;
        let _ = ureq::post(&format!("{}/charges", self.payments_url)).send_json(order)?;
        self.http.post(format!("{}/shipments", self.shipping_url)).json(order).send().await?;
        Ok(())
    }
}
"#;
    let checked = check(
        &[ServiceCrate {
            name: "orders",
            dependencies: &["axum", "reqwest", "ureq", "tokio"],
            files: &[("src/main.rs", source)],
        }],
        None,
    );
    let found = checked.of("blocking-saga-step");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("ureq::post"), "{found:#?}");
    assert!(found[0].contains("saga orchestrator `place`"), "{found:#?}");
}
