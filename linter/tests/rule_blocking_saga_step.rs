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

/// A consumer loop whose handler reaches a `backoff()` helper four calls down: route ->
/// send_and_log -> Mailer::send -> backoff.
fn mailer(backoff_call: &str) -> String {
    consumer(&format!(
        r#"
async fn handle(message: &BorrowedMessage<'_>) -> anyhow::Result<()> {{
    route(message).await
}}

async fn route(message: &BorrowedMessage<'_>) -> anyhow::Result<()> {{
    send_and_log(message).await
}}

async fn send_and_log(message: &BorrowedMessage<'_>) -> anyhow::Result<()> {{
    let mailer = Mailer {{ attempts: 3 }};
    mailer.send(message).await?;
    Ok(())
}}

struct Mailer {{ attempts: u32 }}

impl Mailer {{
    async fn send(&self, message: &BorrowedMessage<'_>) -> anyhow::Result<()> {{
        for attempt in 0..self.attempts {{
            {backoff_call}
        }}
        Ok(())
    }}
}}

fn backoff(attempt: u32) {{
    std::thread::sleep(std::time::Duration::from_millis(200 * u64::from(attempt)));
}}
"#
    ))
}

#[test]
fn a_sleep_four_calls_below_the_consumer_is_reported() {
    let source = mailer("backoff(attempt);");
    let checked = check(
        &[ServiceCrate {
            name: "notifications",
            dependencies: KAFKA,
            files: &[("src/main.rs", &source)],
        }],
        None,
    );
    let found = checked.of("blocking-saga-step");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("blocking call `std::thread::sleep` in `backoff`, called from"),
        "{found:#?}"
    );
}

#[test]
fn the_same_helper_run_in_spawn_blocking_is_fine() {
    let source = mailer("tokio::task::spawn_blocking(move || backoff(attempt)).await?;");
    let checked = check(
        &[ServiceCrate {
            name: "notifications",
            dependencies: KAFKA,
            files: &[("src/main.rs", &source)],
        }],
        None,
    );
    assert_eq!(checked.of("blocking-saga-step"), Vec::<String>::new());
}

/// An HTTP-triggered checkout: a POST handler calls an orchestrator that reserves stock and
/// charges through typed clients, retrying with a helper that sleeps.
fn express_checkout(second_step: &str) -> String {
    format!(
        r#"
use actix_web::{{post, web, HttpResponse}};

pub struct InventoryClient {{ http: reqwest::Client, base: String }}
pub struct PaymentsClient {{ http: reqwest::Client, base: String }}
pub struct Clients {{ pub inventory: InventoryClient, pub payments: PaymentsClient }}

impl InventoryClient {{
    pub async fn reserve(&self, order_id: u64) -> anyhow::Result<()> {{
        self.http.post(format!("{{}}/reservations", self.base)).json(&order_id).send().await?;
        Ok(())
    }}
}}

impl PaymentsClient {{
    pub async fn charge(&self, order_id: u64) -> anyhow::Result<()> {{
        self.http.post(format!("{{}}/charges", self.base)).json(&order_id).send().await?;
        Ok(())
    }}

    pub async fn quote(&self, order_id: u64) -> anyhow::Result<u64> {{
        let quote = self.http.get(format!("{{}}/quotes/{{order_id}}", self.base)).send().await?;
        Ok(quote.json().await?)
    }}
}}

#[post("/orders/express")]
async fn express(clients: web::Data<Clients>, order_id: web::Json<u64>) -> HttpResponse {{
    match checkout(&clients, *order_id).await {{
        Ok(()) => HttpResponse::Created().finish(),
        Err(_) => HttpResponse::BadGateway().finish(),
    }}
}}

async fn checkout(clients: &Clients, order_id: u64) -> anyhow::Result<()> {{
    with_retry(3, || clients.inventory.reserve(order_id)).await?;
    {second_step}
    Ok(())
}}

async fn with_retry<F, Fut>(attempts: u32, mut op: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{{
    for _ in 0..attempts {{
        if op().await.is_ok() {{
            return Ok(());
        }}
        std::thread::sleep(std::time::Duration::from_millis(200));
    }}
    anyhow::bail!("gave up")
}}
"#
    )
}

#[test]
fn an_http_triggered_orchestrator_retrying_with_a_sleep_is_reported() {
    let source = express_checkout("clients.payments.charge(order_id).await?;");
    let checked = check(
        &[ServiceCrate {
            name: "orders",
            dependencies: &["actix-web", "reqwest", "tokio"],
            files: &[("src/main.rs", &source)],
        }],
        None,
    );
    let found = checked.of("blocking-saga-step");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains(
            "blocking call `std::thread::sleep` in `with_retry`, called from saga orchestrator \
             `checkout`"
        ),
        "{found:#?}"
    );
}

#[test]
fn one_remote_step_and_a_read_make_no_saga() {
    let source = express_checkout("clients.payments.quote(order_id).await?;");
    let checked = check(
        &[ServiceCrate {
            name: "orders",
            dependencies: &["actix-web", "reqwest", "tokio"],
            files: &[("src/main.rs", &source)],
        }],
        None,
    );
    assert_eq!(checked.of("blocking-saga-step"), Vec::<String>::new());
}

#[test]
fn connecting_in_main_before_the_consumer_subscribes_is_start_up() {
    let main = |connect_after: bool| {
        let connect = "    let _conn = diesel::PgConnection::establish(\"postgres://db/orders\")?;";
        let (before, after) = if connect_after {
            ("", connect)
        } else {
            (connect, "")
        };
        format!(
            r#"
use diesel::Connection;
use rdkafka::consumer::{{Consumer, StreamConsumer}};

#[tokio::main]
async fn main() -> anyhow::Result<()> {{
{before}
    let consumer: StreamConsumer = rdkafka::ClientConfig::new().create()?;
    consumer.subscribe(&["orders"])?;
    loop {{
        let _message = consumer.recv().await?;
{after}
    }}
}}
"#
        )
    };
    let found_in = |source: &str| {
        check(
            &[ServiceCrate {
                name: "orders",
                dependencies: &["rdkafka", "tokio", "diesel"],
                files: &[("src/main.rs", source)],
            }],
            None,
        )
        .of("blocking-saga-step")
    };
    let found = found_in(&main(false));
    assert!(found.is_empty(), "{found:?}");
    let found = found_in(&main(true));
    assert_eq!(found.len(), 1, "per message: {found:?}");
}
