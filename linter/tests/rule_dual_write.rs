//! `dual-write`: a database write and a publish (or a mutating call to another service)
//! without a transactional outbox, each next to the look-alike that must stay silent.

mod behaviour_support;
use behaviour_support::*;

const RULE: &str = "dual-write";

fn one_service(dependencies: &[&str], files: &[(&str, &str)]) -> Vec<String> {
    check(
        &[ServiceCrate {
            name: "svc",
            dependencies,
            files,
        }],
        None,
    )
    .of(RULE)
}

const KAFKA_DEPS: &[&str] = &["axum", "sqlx", "rdkafka", "tokio", "serde_json"];

fn kafka_handler(body: &str) -> String {
    format!(
        r#"
use axum::{{extract::State, routing::post, Router}};
use rdkafka::producer::{{FutureProducer, FutureRecord}};
use std::time::Duration;

#[derive(Clone)]
struct AppState {{ pool: sqlx::PgPool, producer: FutureProducer }}

#[tokio::main]
async fn main() {{
    let pool = sqlx::PgPool::connect("postgres://db/orders").await.unwrap();
    let producer: FutureProducer = rdkafka::ClientConfig::new().create().unwrap();
    let app = Router::new().route("/orders", post(place_order)).with_state(AppState {{ pool, producer }});
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}}

async fn place_order(State(state): State<AppState>) -> Result<(), String> {{
    let id = "o-1";
{body}
    Ok(())
}}
"#
    )
}

const INSERT_ORDER: &str = r#"    sqlx::query("INSERT INTO orders (id) VALUES ($1)")
        .bind(id)
        .execute(&state.pool)
        .await
        .map_err(|e| e.to_string())?;"#;

const SEND_KAFKA: &str = r#"    state
        .producer
        .send(FutureRecord::to("orders.placed").key(id).payload(id), Duration::from_secs(5))
        .await
        .map_err(|(e, _)| e.to_string())?;"#;

#[test]
fn sqlx_insert_then_kafka_send_is_reported_at_the_send() {
    let main = kafka_handler(&format!("{INSERT_ORDER}\n{SEND_KAFKA}"));
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &main)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(
            "line 27: `place_order` writes `INSERT INTO orders` (svc/src/main.rs:20) and \
             publishes to `orders.placed` (Kafka) here without a transactional outbox"
        ),
        "{found:?}"
    );
    assert!(!found[0].contains("not propagated"), "{found:?}");
}

#[test]
fn outbox_insert_in_the_same_transaction_is_silent() {
    let body = r#"    let mut tx = state.pool.begin().await.map_err(|e| e.to_string())?;
    sqlx::query("INSERT INTO orders (id) VALUES ($1)")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query("INSERT INTO orders_outbox (topic, payload) VALUES ('orders.placed', $1)")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;"#;
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &kafka_handler(body))]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn publish_before_commit_and_discarded_commit_are_named() {
    let body = format!(
        r#"    let mut tx = state.pool.begin().await.map_err(|e| e.to_string())?;
    sqlx::query("UPDATE orders SET status = 'paid' WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
{SEND_KAFKA}
    let _ = tx.commit().await;"#
    );
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &kafka_handler(&body))]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`UPDATE orders`")
            && found[0].contains("before the transaction commits")
            && found[0].contains("`let _ = tx.commit()` throws the commit's result away"),
        "{found:?}"
    );
}

#[test]
fn writes_to_bookkeeping_tables_only_are_silent() {
    let body = format!(
        r#"    sqlx::query("INSERT INTO processed_messages (message_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(id)
        .execute(&state.pool)
        .await
        .map_err(|e| e.to_string())?;
{SEND_KAFKA}"#
    );
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &kafka_handler(&body))]);
    assert!(found.is_empty(), "{found:?}");
}

const LAPIN_DEPS: &[&str] = &["lapin", "tokio-postgres", "tokio", "futures"];

#[test]
fn tokio_postgres_update_then_logged_lapin_publish_is_reported() {
    let main = r#"
use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{BasicConsumeOptions, BasicPublishOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (client, _conn) = tokio_postgres::connect("host=db", tokio_postgres::NoTls).await?;
    let conn = lapin::Connection::connect("amqp://mq", Default::default()).await?;
    let channel = conn.create_channel().await?;
    let mut consumer = channel
        .basic_consume("payments", "billing", BasicConsumeOptions::default(), Default::default())
        .await?;
    while let Some(delivery) = consumer.next().await {
        on_payment(&client, &channel, &delivery?).await?;
    }
    Ok(())
}

async fn on_payment(
    client: &tokio_postgres::Client,
    channel: &lapin::Channel,
    delivery: &Delivery,
) -> anyhow::Result<()> {
    client
        .execute("UPDATE invoices SET status = 'paid' WHERE id = $1", &[&delivery.delivery_tag.to_string()])
        .await?;
    let published = channel
        .basic_publish("billing", "invoices.paid", BasicPublishOptions::default(), &delivery.data, Default::default())
        .await;
    if let Err(error) = published {
        eprintln!("invoice event lost: {error}");
    }
    Ok(())
}
"#;
    let found = one_service(LAPIN_DEPS, &[("src/main.rs", main)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("line 29: `on_payment` writes `UPDATE invoices`")
            && found[0].contains("publishes to `billing/invoices.paid` (AMQP)")
            && found[0].contains("its error is not propagated with `?`"),
        "{found:?}"
    );
}

#[test]
fn the_outbox_relay_is_silent() {
    let main = r#"
use lapin::options::BasicPublishOptions;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let pool = sqlx::PgPool::connect("postgres://db/orders").await?;
    let conn = lapin::Connection::connect("amqp://mq", Default::default()).await?;
    let channel = conn.create_channel().await?;
    loop {
        relay_batch(&pool, &channel).await?;
    }
}

async fn relay_batch(pool: &sqlx::PgPool, channel: &lapin::Channel) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    let rows: Vec<(i64, String, Vec<u8>)> = sqlx::query_as(
        "SELECT id, routing_key, payload FROM outbox WHERE published_at IS NULL \
         ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED",
    )
    .fetch_all(&mut *tx)
    .await?;
    for (id, key, payload) in rows {
        channel
            .basic_publish("orders", &key, BasicPublishOptions::default(), &payload, Default::default())
            .await?;
        sqlx::query("UPDATE outbox SET published_at = now() WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
"#;
    let found = one_service(&["lapin", "sqlx", "tokio"], &[("src/main.rs", main)]);
    assert!(found.is_empty(), "{found:?}");
}

const NATS_DEPS: &[&str] = &["actix-web", "diesel", "diesel-async", "async-nats", "tokio"];

fn actix_nats(extra: &str) -> String {
    format!(
        r#"
use actix_web::{{post, web, App, HttpResponse, HttpServer}};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

diesel::table! {{
    shipments (id) {{
        id -> Int8,
        order_id -> Int8,
    }}
}}

struct AppState {{ pool: Pool, nats: async_nats::Client }}

#[post("/shipments")]
async fn create_shipment(state: web::Data<AppState>) -> HttpResponse {{
    let mut conn = state.pool.get().await.unwrap();
    diesel::insert_into(shipments::table)
        .values(shipments::order_id.eq(7))
        .execute(&mut conn)
        .await
        .ok();
{extra}
    HttpResponse::Created().finish()
}}

#[actix_web::main]
async fn main() -> std::io::Result<()> {{
    HttpServer::new(|| App::new().service(create_shipment))
        .bind(("0.0.0.0", 8080))?
        .run()
        .await
}}
"#
    )
}

#[test]
fn diesel_insert_then_nats_publish_is_reported_and_an_outbox_call_is_silent() {
    let publish =
        actix_nats(r#"    state.nats.publish("shipments.created", "7".into()).await.ok();"#);
    let found = one_service(NATS_DEPS, &[("src/main.rs", &publish)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`create_shipment` writes `diesel::insert_into(shipments)`")
            && found[0].contains("publishes to `shipments.created` (NATS)"),
        "{found:?}"
    );

    let outbox = actix_nats(r#"    state.outbox.add("shipments.created", 7).await.ok();"#);
    let found = one_service(NATS_DEPS, &[("src/main.rs", &outbox)]);
    assert!(found.is_empty(), "{found:?}");
}

/// A publishing callee: sends `orders.placed` for an order id.
const NOTIFY: &str = r#"
async fn notify(producer: &FutureProducer, id: &str) -> Result<(), String> {
    producer
        .send(FutureRecord::to("orders.placed").key(id).payload(id), Duration::from_secs(5))
        .await
        .map_err(|(e, _)| e.to_string())?;
    Ok(())
}
"#;

#[test]
fn a_publishing_callee_is_reported_with_its_callers_write() {
    let body = format!(
        r#"{INSERT_ORDER}
    notify(&state.producer, id).await?;"#
    );
    let main = format!(
        r#"{}
{NOTIFY}"#,
        kafka_handler(&body)
    );
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &main)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`place_order` writes `INSERT INTO orders` (svc/src/main.rs:")
            && found[0].contains("through `notify`, publishes to `orders.placed` (Kafka)"),
        "{found:?}"
    );
}

#[test]
fn each_caller_that_writes_before_a_shared_publishing_callee_is_its_own_unit() {
    let body = format!(
        r#"{INSERT_ORDER}
    notify(&state.producer, id).await?;"#
    );
    let main = format!(
        r#"{}
async fn cancel_order(State(state): State<AppState>) -> Result<(), String> {{
    let id = "o-1";
    sqlx::query("UPDATE orders SET status = 'cancelled' WHERE id = $1")
        .bind(id)
        .execute(&state.pool)
        .await
        .map_err(|e| e.to_string())?;
    notify(&state.producer, id).await?;
    Ok(())
}}

// Reaches `cancel_order`'s flow from further out: the same unit, not a third.
async fn cancel_expired(State(state): State<AppState>) -> Result<(), String> {{
    cancel_order(State(state)).await
}}

{NOTIFY}"#,
        kafka_handler(&body)
    );
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &main)]);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found
            .iter()
            .any(|f| f.contains("`place_order` writes `INSERT INTO orders`")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.contains("`cancel_order` writes `UPDATE orders`")),
        "{found:#?}"
    );
}

#[test]
fn a_publish_wrapper_that_writes_the_outbox_is_silent() {
    let body = format!(
        r#"{INSERT_ORDER}
    publish_event(&state.pool, "orders.placed", id).await?;"#
    );
    let main = format!(
        r#"{}
async fn publish_event(pool: &sqlx::PgPool, topic: &str, id: &str) -> Result<(), String> {{
    sqlx::query("INSERT INTO outbox (topic, payload) VALUES ($1, $2)")
        .bind(topic)
        .bind(id)
        .execute(pool)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}}
"#,
        kafka_handler(&body)
    );
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &main)]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_publish_wrapper_that_publishes_is_reported_once() {
    let body = format!(
        r#"{INSERT_ORDER}
    publish_event(&state.producer, id).await?;"#
    );
    let main = format!(
        r#"{}
async fn publish_event(producer: &FutureProducer, id: &str) -> Result<(), String> {{
    producer
        .send(FutureRecord::to("orders.placed").key(id).payload(id), Duration::from_secs(5))
        .await
        .map_err(|(e, _)| e.to_string())?;
    Ok(())
}}
"#,
        kafka_handler(&body)
    );
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &main)]);
    assert_eq!(found.len(), 1, "{found:?}");
}

const HTTP_DEPS: &[&str] = &["axum", "sqlx", "reqwest", "tokio"];

fn refund_handler(call: &str) -> String {
    format!(
        r#"
use axum::{{extract::State, routing::put, Router}};

#[derive(Clone)]
struct AppState {{ pool: sqlx::PgPool, http: reqwest::Client, payments_url: String }}

#[tokio::main]
async fn main() {{
    let state = AppState {{
        pool: sqlx::PgPool::connect("postgres://db/returns").await.unwrap(),
        http: reqwest::Client::new(),
        payments_url: std::env::var("PAYMENTS_URL").unwrap(),
    }};
    let app = Router::new().route("/returns/{{id}}", put(approve)).with_state(state);
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}}

async fn approve(State(state): State<AppState>) -> Result<(), String> {{
    sqlx::query("UPDATE returns SET status = 'approved' WHERE id = $1")
        .bind(1)
        .execute(&state.pool)
        .await
        .map_err(|e| e.to_string())?;
    state
        .http
        .{call}(format!("{{}}/refunds", state.payments_url))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}}
"#
    )
}

#[test]
fn a_mutating_call_after_a_write_is_a_saga_step_not_a_dual_write() {
    // Judged by missing-compensation when a later step can fail; never reported twice.
    let found = one_service(HTTP_DEPS, &[("src/main.rs", &refund_handler("post"))]);
    assert!(found.is_empty(), "{found:?}");

    let found = one_service(HTTP_DEPS, &[("src/main.rs", &refund_handler("get"))]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_dead_letter_publish_on_the_error_path_is_silent() {
    let body = r#"    let written = sqlx::query("INSERT INTO orders (id) VALUES ($1)")
        .bind(id)
        .execute(&state.pool)
        .await;
    if let Err(error) = written {
        state
            .producer
            .send(FutureRecord::to("orders.dlq").key(id).payload(id), Duration::from_secs(5))
            .await
            .ok();
        return Err(error.to_string());
    }"#;
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &kafka_handler(body))]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_post_that_only_asks_is_silent() {
    let quote = refund_handler("post").replace("/refunds", "/quotes");
    let found = one_service(HTTP_DEPS, &[("src/main.rs", &quote)]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_publish_inside_a_transaction_closure_runs_before_commit() {
    let inside = actix_nats("").replace(
        r#"    diesel::insert_into(shipments::table)
        .values(shipments::order_id.eq(7))
        .execute(&mut conn)
        .await
        .ok();"#,
        r#"    let nats = state.nats.clone();
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        async move {
            diesel::insert_into(shipments::table)
                .values(shipments::order_id.eq(7))
                .execute(conn)
                .await?;
            nats.publish("shipments.created", "7".into()).await.ok();
            Ok(())
        }
        .scope_boxed()
    })
    .await
    .ok();"#,
    );
    let found = one_service(NATS_DEPS, &[("src/main.rs", &inside)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("before the transaction commits"),
        "{found:?}"
    );
}

#[test]
fn a_relay_of_an_events_table_is_silent() {
    let main = r#"
use lapin::options::BasicPublishOptions;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let pool = sqlx::PgPool::connect("postgres://db/orders").await?;
    let conn = lapin::Connection::connect("amqp://mq", Default::default()).await?;
    let channel = conn.create_channel().await?;
    loop {
        let rows: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT id, payload FROM domain_event_log WHERE sent = false LIMIT 10")
                .fetch_all(&pool)
                .await?;
        for (id, payload) in rows {
            channel
                .basic_publish("orders", "orders.events", BasicPublishOptions::default(), &payload, Default::default())
                .await?;
            sqlx::query("UPDATE domain_event_log SET sent = true WHERE id = $1")
                .bind(id)
                .execute(&pool)
                .await?;
        }
    }
}
"#;
    let found = one_service(&["lapin", "sqlx", "tokio"], &[("src/main.rs", main)]);
    assert!(found.is_empty(), "{found:?}");
}

/// `place_order` stores the order through a repository method named like a collection's
/// (`insert`), defined in the project, then publishes.
fn order_repo_then_send(store: &str) -> Vec<String> {
    let main = kafka_handler(&format!("{store}\n{SEND_KAFKA}"))
        + r#"
mod repo {
    pub struct OrderRepo { pool: sqlx::PgPool }
    impl OrderRepo {
        pub fn new(pool: sqlx::PgPool) -> Self {
            Self { pool }
        }
        pub async fn insert(&self, id: &str) -> sqlx::Result<()> {
            sqlx::query("INSERT INTO orders (id) VALUES ($1)").bind(id).execute(&self.pool).await?;
            Ok(())
        }
    }
}
"#;
    one_service(KAFKA_DEPS, &[("src/main.rs", &main)])
}

#[test]
fn a_repository_insert_then_a_send_is_reported() {
    let found = order_repo_then_send(
        r#"    let orders = repo::OrderRepo::new(state.pool.clone());
    orders.insert(id).await.map_err(|e| e.to_string())?;"#,
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`place_order` writes `INSERT INTO orders`"),
        "{found:?}"
    );
}

#[test]
fn an_insert_into_a_local_vec_is_no_database_write() {
    let found = order_repo_then_send(
        r#"    let mut orders: Vec<&str> = Vec::new();
    orders.insert(0, id);"#,
    );
    assert!(found.is_empty(), "{found:?}");
}

/// A Kafka send to `topic`, as in [`SEND_KAFKA`].
fn send_kafka(topic: &str) -> String {
    SEND_KAFKA.replace("orders.placed", topic)
}

#[test]
fn several_publishes_after_one_write_are_one_finding() {
    let body = format!(
        "{INSERT_ORDER}\n{}\n{}",
        send_kafka("orders.placed"),
        send_kafka("orders.audit")
    );
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &kafka_handler(&body))]);
    assert_eq!(found.len(), 1, "one unit, one finding: {found:?}");
}

#[test]
fn a_write_and_a_publish_in_exclusive_arms_are_not_one_flow() {
    let arms = |kind: &str| {
        format!(
            r#"    match {kind} {{
        "insert" => {{
{INSERT_ORDER}
        }}
        _ => {{
{SEND_KAFKA}
        }}
    }}"#
        )
    };
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &kafka_handler(&arms("id")))]);
    assert!(found.is_empty(), "match arms: {found:?}");

    let if_else =
        format!("    if id.is_empty() {{\n{INSERT_ORDER}\n    }} else {{\n{SEND_KAFKA}\n    }}");
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &kafka_handler(&if_else))]);
    assert!(found.is_empty(), "if/else: {found:?}");

    let early_return = format!(
        "    if id.is_empty() {{\n{SEND_KAFKA}\n        return Ok(());\n    }}\n{INSERT_ORDER}"
    );
    let found = one_service(
        KAFKA_DEPS,
        &[("src/main.rs", &kafka_handler(&early_return))],
    );
    assert!(found.is_empty(), "early return: {found:?}");

    // The look-alike: the write comes first, the publish in one arm after it.
    let write_then_arm = format!(
        "{INSERT_ORDER}\n    if id.is_empty() {{\n{SEND_KAFKA}\n    }} else {{\n        return Ok(());\n    }}"
    );
    let found = one_service(
        KAFKA_DEPS,
        &[("src/main.rs", &kafka_handler(&write_then_arm))],
    );
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn a_failure_published_after_a_rollback_is_silent_but_not_on_the_commit_path() {
    let body = |ending: &str| {
        format!(
            r#"    let mut tx = state.pool.begin().await.map_err(|e| e.to_string())?;
    sqlx::query("INSERT INTO orders (id) VALUES ($1)")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
{ending}"#
        )
    };
    let rolled_back = body(&format!(
        "    tx.rollback().await.map_err(|e| e.to_string())?;\n{}",
        send_kafka("orders.failed")
    ));
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &kafka_handler(&rolled_back))]);
    assert!(found.is_empty(), "{found:?}");

    // Rolled back in one arm only: the publish after the `if` also follows the commit.
    let one_arm = body(&format!(
        "    if id.is_empty() {{\n        tx.rollback().await.map_err(|e| e.to_string())?;\n    }} else {{\n        tx.commit().await.map_err(|e| e.to_string())?;\n    }}\n{SEND_KAFKA}"
    ));
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &kafka_handler(&one_arm))]);
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn an_outbox_row_does_not_cover_a_direct_publish_beside_it_but_an_eager_relay_is_silent() {
    let outbox = r#"    sqlx::query("INSERT INTO outbox (topic, payload) VALUES ('orders.placed', $1)")
        .bind(id)
        .execute(&state.pool)
        .await
        .map_err(|e| e.to_string())?;"#;
    let beside = format!("{INSERT_ORDER}\n{outbox}\n{}", send_kafka("orders.replies"));
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &kafka_handler(&beside))]);
    assert_eq!(found.len(), 1, "{found:?}");

    // Publishing the row at once and marking it sent is the relay's half.
    let mark_sent = r#"    sqlx::query("UPDATE outbox SET sent_at = now() WHERE payload = $1")
        .bind(id)
        .execute(&state.pool)
        .await
        .map_err(|e| e.to_string())?;"#;
    let eager = format!("{INSERT_ORDER}\n{outbox}\n{SEND_KAFKA}\n{mark_sent}");
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &kafka_handler(&eager))]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_call_on_a_named_type_reaches_that_types_method_only() {
    let repositories = r#"
struct UserRepo;
impl UserRepo {
    async fn create(pool: &sqlx::PgPool, id: &str) -> Result<(), String> {
        sqlx::query("INSERT INTO users (id) VALUES ($1)").bind(id).execute(pool).await.map_err(|e| e.to_string())?;
        Ok(())
    }
}
struct CodeRepo;
impl CodeRepo { async fn create(_pool: &sqlx::PgPool, _id: &str) -> Result<(), String> { Ok(()) } }
struct ClientRepo;
impl ClientRepo { async fn create(_pool: &sqlx::PgPool, _id: &str) -> Result<(), String> { Ok(()) } }
struct TokenRepo;
impl TokenRepo { async fn create(_pool: &sqlx::PgPool, _id: &str) -> Result<(), String> { Ok(()) } }
"#;
    let calling = |repo: &str| {
        let body = format!("    {repo}::create(&state.pool, id).await?;\n{SEND_KAFKA}");
        format!("{}{repositories}", kafka_handler(&body))
    };
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &calling("UserRepo"))]);
    assert_eq!(found.len(), 1, "{found:?}");
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &calling("CodeRepo"))]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_file_no_mod_declares_is_not_judged_unless_a_macro_may_declare_it() {
    let handler = kafka_handler(&format!("{INSERT_ORDER}\n{SEND_KAFKA}"));
    // The handler lives in `orders.rs`; `main.rs` declares it, or not.
    let main = |declaration: &str| format!("{declaration}\n#[tokio::main]\nasync fn main() {{}}\n");
    let module = handler.replace("#[tokio::main]\nasync fn main()", "async fn start()");
    let found = one_service(
        KAFKA_DEPS,
        &[
            ("src/main.rs", &main("mod orders;")),
            ("src/orders.rs", &module),
        ],
    );
    assert_eq!(found.len(), 1, "declared: {found:?}");
    let found = one_service(
        KAFKA_DEPS,
        &[("src/main.rs", &main("")), ("src/orders.rs", &module)],
    );
    assert!(found.is_empty(), "undeclared: {found:?}");
    // `cfg_if!` may declare modules archlint does not see: the crate is kept whole.
    let found = one_service(
        KAFKA_DEPS,
        &[
            (
                "src/main.rs",
                &main("cfg_if::cfg_if! { if #[cfg(unix)] { mod orders; } }"),
            ),
            ("src/orders.rs", &module),
        ],
    );
    assert_eq!(found.len(), 1, "behind a macro: {found:?}");
}

/// A lapin consumer loop that stores each delivery and then publishes it to `routing_key`.
fn storing_consumer(routing_key: &str) -> String {
    format!(
        r#"
use futures::StreamExt;
use lapin::options::{{BasicAckOptions, BasicConsumeOptions, BasicPublishOptions}};

#[tokio::main]
async fn main() -> anyhow::Result<()> {{
    let (client, _conn) = tokio_postgres::connect("host=db", tokio_postgres::NoTls).await?;
    let conn = lapin::Connection::connect("amqp://mq", Default::default()).await?;
    let channel = conn.create_channel().await?;
    let mut consumer = channel
        .basic_consume("analytics_queue", "analytics", BasicConsumeOptions::default(), Default::default())
        .await?;
    while let Some(delivery) = consumer.next().await {{
        let delivery = delivery?;
        client
            .execute("INSERT INTO events (body) VALUES ($1)", &[&delivery.data])
            .await?;
        channel
            .basic_publish("analytics", "{routing_key}", BasicPublishOptions::default(), &delivery.data, Default::default())
            .await?;
        channel.basic_ack(delivery.delivery_tag, BasicAckOptions::default()).await?;
    }}
    Ok(())
}}
"#
    )
}

#[test]
fn a_consumer_requeueing_to_its_own_queue_is_silent_and_one_publishing_elsewhere_is_not() {
    let found = one_service(
        LAPIN_DEPS,
        &[("src/main.rs", &storing_consumer("analytics_queue"))],
    );
    assert!(found.is_empty(), "{found:?}");

    let found = one_service(
        LAPIN_DEPS,
        &[("src/main.rs", &storing_consumer("events.stored"))],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("publishes to `analytics/events.stored`"),
        "{found:?}"
    );
}

const MONGO_KAFKA_DEPS: &[&str] = &["axum", "mongodb", "rdkafka", "tokio"];

/// A function writing to a MongoDB collection with `write` and then sending to Kafka.
fn mongo_then_kafka(collection: &str, write: &str) -> String {
    format!(
        r#"
use rdkafka::producer::{{FutureProducer, FutureRecord}};
use std::time::Duration;

#[tokio::main]
async fn main() -> anyhow::Result<()> {{
    let client = mongodb::Client::with_uri_str("mongodb://mongo:27017").await?;
    let producer: FutureProducer = rdkafka::ClientConfig::new().create()?;
    loop {{
        forward(&client, &producer).await?;
    }}
}}

async fn forward(client: &mongodb::Client, producer: &FutureProducer) -> anyhow::Result<()> {{
    let docs = client.database("app").collection::<mongodb::bson::Document>("{collection}");
    {write}
    producer
        .send(FutureRecord::to("accounts").key("a").payload("p"), Duration::from_secs(5))
        .await
        .map_err(|(e, _)| e)?;
    Ok(())
}}
"#
    )
}

#[test]
fn a_mongodb_insert_and_a_kafka_send_are_a_dual_write() {
    let source = mongo_then_kafka(
        "accounts",
        r#"docs.insert_one(mongodb::bson::doc! { "name": "a" }, None).await?;"#,
    );
    let found = one_service(MONGO_KAFKA_DEPS, &[("src/main.rs", &source)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`mongodb insert_one(accounts)`"),
        "{found:?}"
    );
}

#[test]
fn deleting_published_documents_of_an_event_collection_is_a_relay() {
    let source = mongo_then_kafka(
        "events",
        r#"docs.delete_many(mongodb::bson::doc! { "sent": true }, None).await?;"#,
    );
    assert_eq!(
        one_service(MONGO_KAFKA_DEPS, &[("src/main.rs", &source)]),
        Vec::<String>::new()
    );
}

/// The same dual-writing handler in a workspace member kept at `dir`.
fn member_at(dir: &str) -> Vec<String> {
    let root_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let root = camino::Utf8Path::from_path(root_dir.path())
        .unwrap_or_else(|| panic!("non-UTF-8 temp dir"))
        .to_owned();
    let write = |path: &str, text: &str| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap_or(&root))
            .unwrap_or_else(|e| panic!("mkdir: {e}"));
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {path}: {e}"));
    };
    write(
        "Cargo.toml",
        &format!("[workspace]\nresolver = \"2\"\nmembers = [\"{dir}\"]\n"),
    );
    let deps: String = KAFKA_DEPS
        .iter()
        .map(|d| format!("{d} = \"*\"\n"))
        .collect();
    write(
        &format!("{dir}/Cargo.toml"),
        &format!("[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{deps}"),
    );
    write(
        &format!("{dir}/src/main.rs"),
        &kafka_handler(&format!("{INSERT_ORDER}\n{SEND_KAFKA}")),
    );
    let report = archlint::check(&archlint::Options::new(root.join("Cargo.toml")))
        .unwrap_or_else(|e| panic!("check failed: {e}"));
    report
        .findings
        .iter()
        .filter(|f| f.rule == RULE)
        .map(|f| f.message.clone())
        .collect()
}

#[test]
fn a_member_kept_under_the_workspace_examples_is_example_code() {
    assert_eq!(member_at("examples/demo"), Vec::<String>::new());
    assert_eq!(member_at("services/demo").len(), 1);
}

#[test]
fn a_publish_to_an_audit_trail_keeps_a_record_and_is_silent() {
    let audit = SEND_KAFKA.replace("orders.placed", "audit.events");
    let main = kafka_handler(&format!("{INSERT_ORDER}\n{audit}"));
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &main)]);
    assert!(found.is_empty(), "{found:?}");
    // `orders.audited` is news of the order, not an audit trail.
    let news = SEND_KAFKA.replace("orders.placed", "orders.audited");
    let main = kafka_handler(&format!("{INSERT_ORDER}\n{news}"));
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &main)]);
    assert_eq!(found.len(), 1, "{found:?}");
}

/// A handler that writes and then hands the topic from configuration to `publisher`.
fn publisher_of_configured_topic(publisher: &str) -> String {
    let body = format!(
        r#"{INSERT_ORDER}
    {publisher}(&state.producer, &state.topic, id.len()).await?;"#
    );
    kafka_handler(&body)
        .replace(
            "struct AppState { pool: sqlx::PgPool, producer: FutureProducer }",
            "struct AppState { pool: sqlx::PgPool, producer: FutureProducer, topic: String }",
        )
        .replace(
            "AppState { pool, producer }",
            "AppState { pool, producer, topic: std::env::var(\"TOPIC\").unwrap() }",
        )
        + &format!(
            r#"
async fn {publisher}(producer: &FutureProducer, topic: &str, count: usize) -> Result<(), String> {{
    let payload = count.to_string();
    producer
        .send(FutureRecord::to(topic).key("k").payload(&payload), Duration::from_secs(5))
        .await
        .map_err(|(e, _)| e.to_string())?;
    Ok(())
}}
"#
        )
}

#[test]
fn a_publisher_named_for_activity_keeps_a_record_when_its_topic_is_unknown() {
    let main = publisher_of_configured_topic("publish_login_activity");
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &main)]);
    assert!(found.is_empty(), "{found:?}");
    let main = publisher_of_configured_topic("publish_order_placed");
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &main)]);
    assert_eq!(found.len(), 1, "{found:?}");
}

/// Two timers started by one function: one flushes counters to the database, the other
/// publishes a summary; or one timer that does both.
fn timers(separate: bool) -> String {
    let (first, second) = if separate {
        (
            "flush_counts(&pool).await;",
            "publish_summary(&producer).await;",
        )
    } else {
        (
            "flush_counts(&pool).await;\n            publish_summary(&producer).await;",
            "",
        )
    };
    format!(
        r#"
use rdkafka::producer::{{FutureProducer, FutureRecord}};
use std::time::Duration;

#[tokio::main]
async fn main() {{
    let pool = sqlx::PgPool::connect("postgres://db/usage").await.unwrap();
    let producer: FutureProducer = rdkafka::ClientConfig::new().create().unwrap();
    start_timers(pool, producer);
    tokio::signal::ctrl_c().await.unwrap();
}}

fn start_timers(pool: sqlx::PgPool, producer: FutureProducer) {{
    tokio::spawn(async move {{
        loop {{
            tokio::time::sleep(Duration::from_secs(60)).await;
            {first}
        }}
    }});
    tokio::spawn(async move {{
        loop {{
            tokio::time::sleep(Duration::from_secs(300)).await;
            {second}
        }}
    }});
}}

async fn flush_counts(pool: &sqlx::PgPool) {{
    let _ = sqlx::query("INSERT INTO key_usage (window_count) VALUES (1)").execute(pool).await;
}}

async fn publish_summary(producer: &FutureProducer) {{
    let _ = producer
        .send(FutureRecord::to("usage.summary").key("k").payload("1"), Duration::from_secs(5))
        .await;
}}
"#
    )
}

#[test]
fn two_tasks_that_only_share_a_spawner_are_not_one_flow() {
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &timers(true))]);
    assert!(found.is_empty(), "{found:?}");
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &timers(false))]);
    assert_eq!(found.len(), 1, "{found:?}");
}

/// A poller in module `module` that publishes each row it finds and then marks it sent through
/// the module's own sea-orm `ActiveModel`.
fn sea_orm_poller(module: &str) -> Vec<String> {
    let main = format!(
        r#"
mod {module};

#[tokio::main]
async fn main() {{
    let app: axum::Router = axum::Router::new();
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}}
"#
    );
    let poller = r#"
use sea_orm::entity::prelude::*;
use sea_orm::ActiveValue::Set;
use rdkafka::producer::{FutureProducer, FutureRecord};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "TABLE")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: Uuid,
    pub payload: String,
    pub send_at: Option<DateTimeWithTimeZone>,
}

pub struct Poller { conn: DatabaseConnection, producer: FutureProducer }

impl Poller {
    pub async fn poll_and_publish(&self) -> Result<(), DbErr> {
        let rows = Entity::find().filter(Column::SendAt.is_null()).all(&self.conn).await?;
        for row in rows {
            let record = FutureRecord::to("blog-events").key("k").payload(&row.payload);
            let _ = self.producer.send(record, std::time::Duration::from_secs(1)).await;
            let mut active: ActiveModel = row.into();
            active.send_at = Set(Some(chrono::Utc::now().into()));
            active.update(&self.conn).await?;
        }
        Ok(())
    }
}
"#
    .replace("TABLE", module);
    one_service(
        &["axum", "sea-orm", "rdkafka", "tokio", "chrono"],
        &[
            ("src/main.rs", &main),
            (&format!("src/{module}.rs"), &poller),
        ],
    )
}

#[test]
fn a_relay_marking_rows_sent_through_its_modules_active_model_is_silent() {
    assert_eq!(sea_orm_poller("outbox"), Vec::<String>::new());
    // The same loop on a business table publishes after each committed write.
    let found = sea_orm_poller("posts");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("sea_orm update(posts)"), "{found:#?}");
}

#[test]
fn sqlx_insert_then_pubsub_publish_is_reported() {
    let main = |deps_note: &str| {
        format!(
            r#"
// {deps_note}
use axum::{{extract::State, routing::post, Router}};

#[derive(Clone)]
struct AppState {{ pool: sqlx::PgPool, publisher: Publisher }}

async fn create_post(State(state): State<AppState>) -> Result<(), String> {{
    sqlx::query("INSERT INTO posts (id) VALUES (gen_random_uuid())")
        .execute(&state.pool)
        .await
        .map_err(|e| e.to_string())?;
    let awaiter = state.publisher.publish(PubsubMessage {{ data: b"created".to_vec(), ..Default::default() }}).await;
    awaiter.get().await.map_err(|e| e.to_string())?;
    Ok(())
}}

#[tokio::main]
async fn main() {{
    let app: Router<AppState> = Router::new().route("/posts", post(create_post));
    let _ = app;
}}
"#
        )
    };
    let with_pubsub = main("google-cloud-pubsub publisher");
    let found = one_service(
        &["axum", "sqlx", "tokio", "google-cloud-pubsub"],
        &[("src/main.rs", &with_pubsub)],
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("(Pub/Sub)"), "{found:#?}");
}

/// A handler that inserts a post with a sea-orm statement built in a local and run later,
/// then sends it with the `kafka` crate.
fn sea_orm_builder_then_kafka_crate(statement: &str) -> Vec<String> {
    let main = format!(
        r#"
use axum::{{extract::State, routing::post, Router}};
use kafka::producer::{{Producer, Record}};
use sea_orm::{{entity::prelude::*, DatabaseConnection}};

#[derive(Clone)]
struct AppState {{ db: DatabaseConnection }}

async fn create_post(State(state): State<AppState>, mut producer: Producer) -> Result<(), DbErr> {{
    let db = &state.db;
{statement}
    producer.send(&Record::from_value("posts", b"created".as_slice())).ok();
    Ok(())
}}

#[tokio::main]
async fn main() {{
    let app: Router<AppState> = Router::new().route("/posts", post(create_post));
    let _ = app;
}}
"#
    );
    one_service(
        &["axum", "sea-orm", "kafka", "tokio"],
        &[("src/main.rs", &main)],
    )
}

#[test]
fn a_sea_orm_statement_built_in_a_local_and_run_later_is_the_write() {
    let found = sea_orm_builder_then_kafka_crate(
        r#"    let mut insert = post::Entity::insert(post::ActiveModel::default());
    insert.query();
    insert.exec(db).await?;"#,
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("post::Entity::insert(post)") && found[0].contains("`posts` (Kafka)"),
        "{found:#?}"
    );
    // A query built in a local and run later reads.
    let found = sea_orm_builder_then_kafka_crate(
        r#"    let select = post::Entity::find();
    let _ = select.all(db).await?;"#,
    );
    assert!(found.is_empty(), "{found:#?}");
}

/// An actix service whose `Publisher` actor runs `ACTION` for each `Publish` message handed to
/// it with `publisher.send(..)`, after the handler stored the customer in MongoDB.
const ACTOR_SERVICE: &str = r#"
use actix::prelude::*;
use actix_web::{post, web, Error, HttpResponse};

pub struct Publisher { pub channel: lapin::Channel }
impl Actor for Publisher { type Context = Context<Self>; }

#[derive(Message)]
#[rtype(result = "Result<(), ()>")]
pub struct Publish { pub routing_key: String, pub payload: String }

impl Handler<Publish> for Publisher {
    type Result = ResponseActFuture<Self, Result<(), ()>>;
    fn handle(&mut self, msg: Publish, _ctx: &mut Context<Self>) -> Self::Result {
        let channel = self.channel.clone();
        Box::pin(async move {
            ACTION
            Ok(())
        }.into_actor(self))
    }
}

pub struct Store { customers: mongodb::Collection<String> }

impl Store {
    async fn create(&self, name: String) -> Result<String, String> {
        self.customers.insert_one(name.clone(), None).await.map_err(|e| e.to_string())?;
        Ok(name)
    }
}

#[post("/customers")]
async fn create_customer(store: web::Data<Store>, publisher: web::Data<Addr<Publisher>>, body: String) -> Result<HttpResponse, Error> {
    match store.create(body).await {
        Ok(created) => {
            let msg = Publish { routing_key: "customer.created".to_string(), payload: created.clone() };
            if publisher.send(msg).await.is_err() {
                return Ok(HttpResponse::InternalServerError().finish());
            }
            Ok(HttpResponse::Ok().body(created))
        }
        Err(e) => Ok(HttpResponse::InternalServerError().body(e)),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    actix_web::HttpServer::new(|| actix_web::App::new().service(create_customer))
        .bind("0.0.0.0:8080")?
        .run()
        .await
}
"#;

const ACTOR_DEPS: &[&str] = &["actix", "actix-web", "lapin", "mongodb"];

#[test]
fn a_message_handed_to_an_actor_that_publishes_is_a_publish_of_the_handler() {
    let main = ACTOR_SERVICE.replace(
        "ACTION",
        r#"channel.basic_publish("customers", &msg.routing_key, Default::default(), msg.payload.as_bytes(), Default::default()).await.map_err(|_| ())?;"#,
    );
    let found = one_service(ACTOR_DEPS, &[("src/main.rs", &main)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`create_customer` writes `mongodb `insert_one``")
            && found[0].contains("through `handle`, publishes to `customers`"),
        "{found:?}"
    );
}

#[test]
fn a_message_handed_to_an_actor_that_only_logs_is_silent() {
    let main = ACTOR_SERVICE.replace(
        "ACTION",
        r#"println!("{} {} on {}", msg.routing_key, msg.payload, channel.id());"#,
    );
    let found = one_service(ACTOR_DEPS, &[("src/main.rs", &main)]);
    assert!(found.is_empty(), "{found:?}");
}
