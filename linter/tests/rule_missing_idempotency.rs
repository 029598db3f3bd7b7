//! `missing-idempotency`: message handlers and POST handlers with non-idempotent writes and
//! no deduplication guard, each next to the look-alike that must stay silent.

mod behaviour_support;
use behaviour_support::*;

const RULE: &str = "missing-idempotency";

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

const KAFKA_DEPS: &[&str] = &["rdkafka", "sqlx", "tokio", "serde_json"];

const KAFKA_LOOP: &str = r#"
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::Message;
mod handler;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let pool = sqlx::PgPool::connect(&std::env::var("DATABASE_URL")?).await?;
    let consumer: StreamConsumer = rdkafka::ClientConfig::new()
        .set("group.id", "loyalty")
        .set("enable.idempotence", "true")
        .create()?;
    consumer.subscribe(&["orders.completed"])?;
    loop {
        let message = consumer.recv().await?;
        if let Some(payload) = message.payload() {
            handler::on_order_completed(&pool, payload).await?;
        }
    }
}
"#;

/// The findings of a Kafka consumer loop dispatching to `handler` (`src/handler.rs`).
fn kafka_consumer(handler: &str) -> Vec<String> {
    one_service(
        KAFKA_DEPS,
        &[("src/main.rs", KAFKA_LOOP), ("src/handler.rs", handler)],
    )
}

#[test]
fn kafka_consumer_inserting_without_dedup_is_reported_at_the_dispatched_handler() {
    let handler = r#"
pub async fn on_order_completed(pool: &sqlx::PgPool, payload: &[u8]) -> anyhow::Result<()> {
    let event: serde_json::Value = serde_json::from_slice(payload)?;
    sqlx::query("INSERT INTO point_entries (customer_id, points) VALUES ($1, $2)")
        .bind(event["customer"].as_str())
        .bind(10)
        .execute(pool)
        .await?;
    Ok(())
}
"#;
    let found = kafka_consumer(handler);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("line 2: `on_order_completed`"),
        "{found:?}"
    );
    assert!(
        found[0].contains("consumer loop `main`")
            && found[0].contains("Kafka messages from `orders.completed`")
            && found[0].contains("`INSERT INTO point_entries` at svc/src/handler.rs:4"),
        "{found:?}"
    );
}

#[test]
fn kafka_consumer_checking_processed_messages_is_silent() {
    let handler = r#"
pub async fn on_order_completed(pool: &sqlx::PgPool, payload: &[u8]) -> anyhow::Result<()> {
    let event: serde_json::Value = serde_json::from_slice(payload)?;
    let mut tx = pool.begin().await?;
    let seen = sqlx::query("SELECT 1 FROM processed_messages WHERE message_id = $1")
        .bind(event["id"].as_str())
        .fetch_optional(&mut *tx)
        .await?;
    if seen.is_some() {
        return Ok(());
    }
    sqlx::query("INSERT INTO processed_messages (message_id) VALUES ($1)")
        .bind(event["id"].as_str())
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO point_entries (customer_id, points) VALUES ($1, $2)")
        .bind(event["customer"].as_str())
        .bind(10)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
"#;
    let found = kafka_consumer(handler);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_loop_dispatching_to_two_handlers_reports_each_handler_once() {
    let main = r#"
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::Message;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let pool = sqlx::PgPool::connect("postgres://db/app").await?;
    let consumer: StreamConsumer = rdkafka::ClientConfig::new().create()?;
    consumer.subscribe(&["orders"])?;
    loop {
        let message = consumer.recv().await?;
        match message.key() {
            Some(b"placed") => on_placed(&pool).await?,
            Some(b"cancelled") => on_cancelled(&pool).await?,
            _ => {}
        }
    }
}

async fn on_placed(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    sqlx::query("UPDATE stock SET reserved = reserved + 1 WHERE sku = $1")
        .bind("a")
        .execute(pool)
        .await?;
    Ok(())
}

async fn on_cancelled(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    sqlx::query("UPDATE stock SET reserved = reserved - 1 WHERE sku = $1")
        .bind("a")
        .execute(pool)
        .await?;
    Ok(())
}
"#;
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", main)]);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("line 20: `on_placed`"), "{found:?}");
    assert!(found[1].starts_with("line 28: `on_cancelled`"), "{found:?}");
    assert!(found[0].contains("relative `UPDATE stock`"), "{found:?}");
}

const LAPIN_DEPS: &[&str] = &["lapin", "tokio-postgres", "tokio", "futures"];

fn lapin_consumer(sql: &str) -> String {
    format!(
        r#"
use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{{BasicAckOptions, BasicConsumeOptions}};

#[tokio::main]
async fn main() -> anyhow::Result<()> {{
    let (client, _conn) = tokio_postgres::connect("host=db", tokio_postgres::NoTls).await?;
    let conn = lapin::Connection::connect("amqp://mq", Default::default()).await?;
    let channel = conn.create_channel().await?;
    let mut consumer = channel
        .basic_consume("shipments", "shipping", BasicConsumeOptions::default(), Default::default())
        .await?;
    while let Some(delivery) = consumer.next().await {{
        let delivery = delivery?;
        handle(&client, &delivery).await?;
        delivery.ack(BasicAckOptions::default()).await?;
    }}
    Ok(())
}}

async fn handle(client: &tokio_postgres::Client, delivery: &Delivery) -> anyhow::Result<()> {{
    let id = std::str::from_utf8(&delivery.data)?;
    client.execute("{sql}", &[&id]).await?;
    Ok(())
}}
"#
    )
}

#[test]
fn lapin_consumer_with_relative_update_is_reported() {
    let main = lapin_consumer("UPDATE orders SET attempts = attempts + 1 WHERE id = $1");
    let found = one_service(LAPIN_DEPS, &[("src/main.rs", &main)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("line 22: `handle`"), "{found:?}");
    assert!(
        found[0].contains("AMQP messages from `shipments`")
            && found[0].contains("relative `UPDATE orders`"),
        "{found:?}"
    );
}

#[test]
fn lapin_consumer_with_absolute_update_or_delete_by_key_is_silent() {
    for sql in [
        "UPDATE orders SET status = 'shipped' WHERE id = $1",
        "DELETE FROM reservations WHERE id = $1",
        "INSERT INTO shipments (order_id) VALUES ($1) ON CONFLICT (order_id) DO NOTHING",
    ] {
        let main = lapin_consumer(sql);
        let found = one_service(LAPIN_DEPS, &[("src/main.rs", &main)]);
        assert!(found.is_empty(), "{sql}: {found:?}");
    }
}

const NATS_DEPS: &[&str] = &["async-nats", "sqlx", "tokio", "futures"];

fn jetstream_consumer(handler_body: &str) -> String {
    format!(
        r#"
use futures::StreamExt;

#[tokio::main]
async fn main() -> anyhow::Result<()> {{
    let pool = sqlx::PgPool::connect("postgres://db/payments").await?;
    let client = async_nats::connect("nats://nats:4222").await?;
    let jetstream = async_nats::jetstream::new(client);
    let consumer: async_nats::jetstream::consumer::PullConsumer =
        jetstream.get_consumer_from_stream("payments", "ORDERS").await?;
    let mut messages = consumer.messages().await?;
    while let Some(message) = messages.next().await {{
        let message = message?;
        apply_payment(&pool, &message.payload).await?;
        message.ack().await.ok();
    }}
    Ok(())
}}

async fn apply_payment(pool: &sqlx::PgPool, payload: &[u8]) -> anyhow::Result<()> {{
    let id = std::str::from_utf8(payload)?;
{handler_body}
    Ok(())
}}
"#
    )
}

#[test]
fn jetstream_consumer_inserting_is_reported_and_its_upsert_twin_is_silent() {
    let insert = jetstream_consumer(
        r#"    sqlx::query("INSERT INTO payments (order_id) VALUES ($1)").bind(id).execute(pool).await?;"#,
    );
    let found = one_service(NATS_DEPS, &[("src/main.rs", &insert)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`apply_payment`") && found[0].contains("NATS messages"),
        "{found:?}"
    );

    let claim = jetstream_consumer(
        r#"    let claimed = sqlx::query("INSERT INTO inbox (message_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(id).execute(pool).await?;
    if claimed.rows_affected() == 0 { return Ok(()); }
    sqlx::query("INSERT INTO payments (order_id) VALUES ($1)").bind(id).execute(pool).await?;"#,
    );
    let found = one_service(NATS_DEPS, &[("src/main.rs", &claim)]);
    assert!(found.is_empty(), "{found:?}");
}

const SQS_DEPS: &[&str] = &["aws-sdk-sqs", "redis", "tokio"];

fn sqs_consumer(guard: &str) -> String {
    format!(
        r#"
struct Payments {{ payments_client: PaymentsClient }}
struct PaymentsClient;

#[tokio::main]
async fn main() -> anyhow::Result<()> {{
    let config = aws_config::load_from_env().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let redis = redis::Client::open("redis://cache")?;
    let mut conn = redis.get_multiplexed_async_connection().await?;
    let payments = Payments {{ payments_client: PaymentsClient }};
    loop {{
        let output = sqs.receive_message().queue_url("q").send().await?;
        for message in output.messages.unwrap_or_default() {{
            charge_order(&payments, &mut conn, message.body().unwrap_or_default()).await?;
        }}
    }}
}}

async fn charge_order(
    payments: &Payments,
    conn: &mut redis::aio::MultiplexedConnection,
    body: &str,
) -> anyhow::Result<()> {{
{guard}
    payments.payments_client.charge(body, 100).await?;
    Ok(())
}}
"#
    )
}

#[test]
fn sqs_consumer_that_charges_is_reported_and_set_nx_silences_it() {
    let found = one_service(SQS_DEPS, &[("src/main.rs", &sqs_consumer(""))]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`charge_order`")
            && found[0].contains("SQS messages")
            && found[0].contains("`payments_client.charge(..)`"),
        "{found:?}"
    );

    let guarded = sqs_consumer(
        r#"    let fresh: bool = conn.set_nx(format!("charged:{body}"), 1).await?;
    if !fresh { return Ok(()); }"#,
    );
    let found = one_service(SQS_DEPS, &[("src/main.rs", &guarded)]);
    assert!(found.is_empty(), "{found:?}");
}

/// A Google Cloud Pub/Sub subscriber pulling messages in a wrapper and handing each to a
/// closure that runs `record_notification`, which starts with `guard`.
fn pubsub_subscriber(guard: &str) -> String {
    format!(
        r#"
use google_cloud_pubsub::subscription::Subscription;

pub struct Subscriber {{ subscription: Subscription }}

impl Subscriber {{
    pub async fn listen<F, Fut>(&self, handler: F) -> anyhow::Result<()>
    where
        F: Fn(google_cloud_pubsub::subscriber::ReceivedMessage) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {{
        loop {{
            for message in self.subscription.pull(10, None).await? {{
                handler(message).await;
            }}
        }}
    }}
}}

async fn record_notification(pool: &sqlx::PgPool, event_id: &str, user_id: &str) -> anyhow::Result<()> {{
{guard}
    sqlx::query("INSERT INTO notifications (id, user_id) VALUES (gen_random_uuid(), $1)")
        .bind(user_id)
        .execute(pool)
        .await?;
    Ok(())
}}

#[tokio::main]
async fn main() -> anyhow::Result<()> {{
    let pool = sqlx::PgPool::connect(&std::env::var("DATABASE_URL")?).await?;
    let subscriber: Subscriber = todo!();
    subscriber
        .listen(move |message| {{
            let pool = pool.clone();
            async move {{
                let data = String::from_utf8_lossy(&message.message.data).to_string();
                let _ = record_notification(&pool, &message.message.message_id, &data).await;
                let _ = message.ack().await;
            }}
        }})
        .await
}}
"#
    )
}

#[test]
fn pubsub_subscriber_inserting_is_reported_and_a_processed_events_claim_silences_it() {
    const DEPS: &[&str] = &["google-cloud-pubsub", "sqlx", "tokio", "anyhow"];
    let found = one_service(DEPS, &[("src/main.rs", &pubsub_subscriber(""))]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`record_notification`") && found[0].contains("Pub/Sub messages"),
        "{found:?}"
    );
    let guarded = pubsub_subscriber(
        r#"    let claimed = sqlx::query("INSERT INTO processed_events (id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(event_id)
        .execute(pool)
        .await?;
    if claimed.rows_affected() == 0 { return Ok(()); }"#,
    );
    let found = one_service(DEPS, &[("src/main.rs", &guarded)]);
    assert!(found.is_empty(), "{found:?}");
}

// `redis` makes a service only with its `streams` feature; the health endpoint does here.
const REDIS_DEPS: &[&str] = &["redis", "sqlx", "tokio", "axum"];

fn redis_stream_consumer(sql: &str) -> String {
    format!(
        r#"
#[tokio::main]
async fn main() -> anyhow::Result<()> {{
    let pool = sqlx::PgPool::connect("postgres://db/mail").await?;
    let client = redis::Client::open("redis://cache")?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    loop {{
        let reply: redis::Value = redis::cmd("XREADGROUP")
            .arg("GROUP").arg("mail").arg("c1").arg("STREAMS").arg("orders").arg(">")
            .query_async(&mut conn)
            .await?;
        record(&pool, &format!("{{reply:?}}")).await?;
    }}
}}

async fn record(pool: &sqlx::PgPool, id: &str) -> anyhow::Result<()> {{
    sqlx::query("{sql}").bind(id).execute(pool).await?;
    Ok(())
}}
"#
    )
}

#[test]
fn redis_streams_consumer_inserting_is_reported_and_delete_by_key_is_silent() {
    let found = one_service(
        REDIS_DEPS,
        &[(
            "src/main.rs",
            &redis_stream_consumer("INSERT INTO sent_mails (order_id) VALUES ($1)"),
        )],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`record`") && found[0].contains("Redis messages"),
        "{found:?}"
    );

    let found = one_service(
        REDIS_DEPS,
        &[(
            "src/main.rs",
            &redis_stream_consumer("DELETE FROM carts WHERE order_id = $1"),
        )],
    );
    assert!(found.is_empty(), "{found:?}");
}

const AXUM_DEPS: &[&str] = &["axum", "sqlx", "tokio"];

/// An axum `main` serving `handler` for `POST path` with a pool on `database`.
fn axum_pool_main(database: &str, path: &str, handler: &str) -> String {
    format!(
        r#"#[tokio::main]
async fn main() {{
    let pool = sqlx::PgPool::connect("postgres://db/{database}").await.unwrap();
    let app = Router::new().route("{path}", post({handler})).with_state(pool);
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}}"#
    )
}

fn axum_service(guard: &str) -> String {
    let main = axum_pool_main("orders", "/orders", "create_order");
    format!(
        r#"
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{{extract::State, Router}};

{main}

async fn create_order(State(pool): State<sqlx::PgPool>, headers: HeaderMap) -> Result<(), String> {{
{guard}
    sqlx::query("UPDATE stock SET quantity = quantity - 1 WHERE sku = 'a'")
        .execute(&pool)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}}
"#
    )
}

#[test]
fn axum_post_handler_without_idempotency_key_is_reported() {
    let found = one_service(AXUM_DEPS, &[("src/main.rs", &axum_service(""))]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("line 14: POST handler `create_order` (`POST /orders`)")
            && found[0].contains("relative `UPDATE stock` at svc/src/main.rs:16"),
        "{found:?}"
    );
}

#[test]
fn axum_post_handler_reading_idempotency_key_is_silent() {
    let guard = r#"    let key = headers.get("Idempotency-Key").ok_or("Idempotency-Key required")?;
    sqlx::query("INSERT INTO idempotency_keys (key) VALUES ($1)")
        .bind(key.to_str().unwrap_or_default())
        .execute(&pool)
        .await
        .map_err(|e| e.to_string())?;"#;
    let found = one_service(AXUM_DEPS, &[("src/main.rs", &axum_service(guard))]);
    assert!(found.is_empty(), "{found:?}");
}

const ACTIX_DEPS: &[&str] = &["actix-web", "diesel", "diesel-async", "tokio"];

fn actix_service(attribute: &str) -> String {
    format!(
        r#"
use actix_web::{{{attribute}, web, App, HttpResponse, HttpServer}};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

diesel::table! {{
    transfers (id) {{
        id -> Int8,
        amount -> Int8,
    }}
}}

#[{attribute}("/transfers")]
async fn record_transfer(pool: web::Data<Pool>) -> HttpResponse {{
    let mut conn = pool.get().await.unwrap();
    diesel::update(transfers::table)
        .set(transfers::amount.eq(transfers::amount + 10))
        .execute(&mut conn)
        .await
        .ok();
    HttpResponse::Created().finish()
}}

#[actix_web::main]
async fn main() -> std::io::Result<()> {{
    HttpServer::new(|| App::new().service(record_transfer))
        .bind(("0.0.0.0", 8080))?
        .run()
        .await
}}
"#
    )
}

#[test]
fn actix_post_with_diesel_relative_update_is_reported_and_put_is_not_judged() {
    let found = one_service(ACTIX_DEPS, &[("src/main.rs", &actix_service("post"))]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("POST handler `record_transfer`")
            && found[0].contains("`diesel::update(transfers)` (relative update)"),
        "{found:?}"
    );

    let found = one_service(ACTIX_DEPS, &[("src/main.rs", &actix_service("put"))]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn tests_are_not_judged() {
    let main = axum_service("");
    let found = one_service(
        AXUM_DEPS,
        &[("src/main.rs", "fn main() {}\n"), ("tests/api.rs", &main)],
    );
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn an_actix_actor_handler_is_not_a_message_handler() {
    let main = r#"
use actix::prelude::*;

struct Recorder { pool: sqlx::PgPool }
impl Actor for Recorder { type Context = Context<Self>; }

#[derive(Message)]
#[rtype(result = "()")]
struct Visit(String);

impl Handler<Visit> for Recorder {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, visit: Visit, _: &mut Context<Self>) -> Self::Result {
        let pool = self.pool.clone();
        Box::pin(async move {
            sqlx::query("INSERT INTO visits (path) VALUES ($1)").bind(visit.0).execute(&pool).await.ok();
        })
    }
}

#[actix_web::main]
async fn main() {}
"#;
    let found = one_service(&["actix", "actix-web", "sqlx"], &[("src/main.rs", main)]);
    assert!(found.is_empty(), "{found:?}");
    // Also next to a broker client.
    let found = one_service(
        &["actix", "actix-web", "sqlx", "rdkafka"],
        &[("src/main.rs", main)],
    );
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn set_up_before_the_subscription_is_not_per_message() {
    let main = r#"
use rdkafka::consumer::{Consumer, StreamConsumer};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let pool = sqlx::PgPool::connect("postgres://db/app").await?;
    sqlx::query("INSERT INTO consumer_starts (host) VALUES ($1)").bind("a").execute(&pool).await?;
    let consumer: StreamConsumer = rdkafka::ClientConfig::new().create()?;
    consumer.subscribe(&["orders"])?;
    loop {
        let _message = consumer.recv().await?;
        sqlx::query("UPDATE orders SET status = 'seen' WHERE id = $1").bind(1).execute(&pool).await?;
    }
}
"#;
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", main)]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn session_rows_and_typed_idempotency_keys_are_silent() {
    let login = axum_service("").replace(
        "UPDATE stock SET quantity = quantity - 1 WHERE sku = 'a'",
        "UPDATE user_sessions SET hits = hits + 1",
    );
    let found = one_service(AXUM_DEPS, &[("src/main.rs", &login)]);
    assert!(found.is_empty(), "{found:?}");

    let typed = axum_service("").replace(
        "headers: HeaderMap",
        "key: axum_extra::TypedHeader<IdempotencyKey>",
    );
    let found = one_service(AXUM_DEPS, &[("src/main.rs", &typed)]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn sea_orm_inbox_entity_is_a_guard() {
    let handler = |guard: &str| {
        format!(
            r#"
use sea_orm::{{ActiveModelTrait, DatabaseConnection, Set}};

pub async fn on_order_completed(db: &DatabaseConnection, payload: &[u8]) -> anyhow::Result<()> {{
{guard}
    let entry = point_entry::ActiveModel {{ points: Set(10), ..Default::default() }};
    entry.insert(db).await?;
    Ok(())
}}
"#
        )
    };
    let deps = &["rdkafka", "sea-orm", "sqlx", "tokio"];
    let found = one_service(
        deps,
        &[
            ("src/main.rs", KAFKA_LOOP),
            ("src/handler.rs", &handler("")),
        ],
    );
    assert_eq!(found.len(), 1, "{found:?}");

    let guard = r#"    inbox_message::ActiveModel { id: Set(payload.to_vec()), ..Default::default() }
        .insert(db)
        .await?;"#;
    let found = one_service(
        deps,
        &[
            ("src/main.rs", KAFKA_LOOP),
            ("src/handler.rs", &handler(guard)),
        ],
    );
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn absolute_update_with_an_outbox_row_is_silent() {
    let guardless = axum_service("").replace(
        r#"    sqlx::query("UPDATE stock SET quantity = quantity - 1 WHERE sku = 'a'")"#,
        r#"    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    sqlx::query("UPDATE orders SET status = 'cancelled' WHERE id = $1").bind(1).execute(&mut *tx).await.map_err(|e| e.to_string())?;
    sqlx::query("INSERT INTO outbox (topic, payload) VALUES ('orders.cancelled', $1)")"#,
    );
    let found = one_service(AXUM_DEPS, &[("src/main.rs", &guardless)]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn producer_side_deduplication_is_not_a_consumer_guard() {
    let guard = r#"    let config = aws_config::load_from_env().await;
    aws_sdk_sqs::Client::new(&config)
        .send_message()
        .queue_url("charges.fifo")
        .message_group_id("charges")
        .message_deduplication_id(body)
        .message_body(body)
        .send()
        .await?;"#;
    let found = one_service(SQS_DEPS, &[("src/main.rs", &sqs_consumer(guard))]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("publish (SQS)"), "{found:?}");
}

fn framework_consumer(guard: &str) -> String {
    format!(
        r#"
use rdkafka::consumer::{{Consumer, StreamConsumer}};
use rdkafka::Message;

#[async_trait::async_trait]
pub trait EventHandler: Send + Sync {{
    async fn handle(&self, pool: &sqlx::PgPool, payload: &[u8]) -> anyhow::Result<()>;
}}

pub async fn consume(pool: sqlx::PgPool, handlers: Vec<Box<dyn EventHandler>>) -> anyhow::Result<()> {{
    let consumer: StreamConsumer = rdkafka::ClientConfig::new().create()?;
    consumer.subscribe(&["orders"])?;
    loop {{
        let message = consumer.recv().await?;
        let payload = message.payload().unwrap_or_default();
{guard}
        for h in &handlers {{
            h.handle(&pool, payload).await?;
        }}
    }}
}}

struct Points;
struct Badges;
struct Mails;
struct Stats;

#[async_trait::async_trait]
impl EventHandler for Points {{
    async fn handle(&self, pool: &sqlx::PgPool, _: &[u8]) -> anyhow::Result<()> {{
        sqlx::query("UPDATE accounts SET points = points + 1").execute(pool).await?;
        Ok(())
    }}
}}
#[async_trait::async_trait]
impl EventHandler for Badges {{
    async fn handle(&self, pool: &sqlx::PgPool, _: &[u8]) -> anyhow::Result<()> {{
        sqlx::query("INSERT INTO badges (kind) VALUES ('first')").execute(pool).await?;
        Ok(())
    }}
}}
#[async_trait::async_trait]
impl EventHandler for Mails {{
    async fn handle(&self, pool: &sqlx::PgPool, _: &[u8]) -> anyhow::Result<()> {{
        sqlx::query("INSERT INTO mails (kind) VALUES ('first')").execute(pool).await?;
        Ok(())
    }}
}}
#[async_trait::async_trait]
impl EventHandler for Stats {{
    async fn handle(&self, pool: &sqlx::PgPool, _: &[u8]) -> anyhow::Result<()> {{
        sqlx::query("UPDATE stats SET orders = orders + 1").execute(pool).await?;
        Ok(())
    }}
}}

#[tokio::main]
async fn main() {{}}
"#
    )
}

#[test]
fn trait_handlers_behind_a_guarded_framework_loop_are_silent() {
    let guard = r#"        let fresh = sqlx::query("INSERT INTO processed_events (id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(message.offset())
            .execute(&pool)
            .await?;
        if fresh.rows_affected() == 0 { continue; }"#;
    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &framework_consumer(guard))]);
    assert!(found.is_empty(), "{found:?}");

    let found = one_service(KAFKA_DEPS, &[("src/main.rs", &framework_consumer(""))]);
    assert_eq!(found.len(), 4, "{found:?}");
    assert!(found.iter().all(|f| f.contains("`handle`")), "{found:?}");
}

/// An axum service whose `POST /v1/reservations` handler calls a repository method that
/// claims the order id (`ON CONFLICT DO NOTHING`) and then calls the helper that writes.
fn claiming_repository(reserve_body: &str) -> Vec<String> {
    let main = r#"
use axum::routing::post;
use axum::{extract::State, Json, Router};
mod repo;

#[tokio::main]
async fn main() {
    let pool = sqlx::PgPool::connect("postgres://db/inventory").await.unwrap();
    let app = Router::new().route("/v1/reservations", post(reserve)).with_state(pool);
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}

async fn reserve(State(pool): State<sqlx::PgPool>, Json(order_id): Json<i64>) -> Result<(), String> {
    let repo = repo::StockRepo::new(pool);
    repo.reserve(order_id).await.map_err(|e| e.to_string())?;
    Ok(())
}
"#;
    let repo = format!(
        r#"
pub struct StockRepo {{ pool: sqlx::PgPool }}

impl StockRepo {{
    pub fn new(pool: sqlx::PgPool) -> Self {{
        Self {{ pool }}
    }}

    pub async fn reserve(&self, order_id: i64) -> sqlx::Result<()> {{
        let mut tx = self.pool.begin().await?;
{reserve_body}
        tx.commit().await?;
        Ok(())
    }}
}}

async fn reserve_line(tx: &mut sqlx::PgConnection, order_id: i64) -> sqlx::Result<()> {{
    sqlx::query("UPDATE stock_items SET available = available - 1 WHERE sku = 'a'")
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO reservation_lines (order_id, sku) VALUES ($1, 'a')")
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}}
"#
    );
    one_service(AXUM_DEPS, &[("src/main.rs", main), ("src/repo.rs", &repo)])
}

const CLAIM: &str = r#"        let claimed = sqlx::query("INSERT INTO reservations (order_id) VALUES ($1) ON CONFLICT (order_id) DO NOTHING RETURNING id")
            .bind(order_id)
            .fetch_optional(&mut *tx)
            .await?;
        if claimed.is_none() {
            return Ok(());
        }"#;

#[test]
fn a_claim_in_an_intermediate_method_covers_the_helper_it_calls_afterwards() {
    let body = format!("{CLAIM}\n        reserve_line(&mut tx, order_id).await?;");
    let found = claiming_repository(&body);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_claim_made_after_the_helper_has_written_covers_nothing() {
    let body = format!("        reserve_line(&mut tx, order_id).await?;\n{CLAIM}");
    let found = claiming_repository(&body);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("POST handler `reserve`")
            && found[0].contains("relative `UPDATE stock_items` at svc/src/repo.rs:"),
        "{found:?}"
    );
}

/// A POST handler that stores an invoice through `ctx.invoices.insert(..)`, a method of the
/// project's `InvoiceRepo`, and keeps a local map of seen lines.
fn invoice_service(handler_body: &str) -> Vec<String> {
    let main = format!(
        r#"
use axum::routing::post;
use axum::{{extract::State, Json, Router}};
mod store;
use store::InvoiceRepo;

#[derive(Clone)]
pub struct Ctx {{ pub db: sqlx::PgPool, pub invoices: InvoiceRepo }}

#[tokio::main]
async fn main() {{
    let db = sqlx::PgPool::connect("postgres://db/billing").await.unwrap();
    let ctx = Ctx {{ db: db.clone(), invoices: InvoiceRepo::new(db) }};
    let app = Router::new().route("/v1/invoices", post(create_invoice)).with_state(ctx);
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}}

async fn create_invoice(State(ctx): State<Ctx>, Json(amount): Json<i64>) -> Result<(), String> {{
    let mut tx = ctx.db.begin().await.map_err(|e| e.to_string())?;
{handler_body}
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(())
}}
"#
    );
    let store = r#"
#[derive(Clone)]
pub struct InvoiceRepo { pool: sqlx::PgPool }

impl InvoiceRepo {
    pub fn new(pool: sqlx::PgPool) -> Self {
        Self { pool }
    }

    pub async fn insert(&self, tx: &mut sqlx::PgConnection, amount: i64) -> sqlx::Result<i64> {
        sqlx::query("INSERT INTO invoices (amount) VALUES ($1)")
            .bind(amount)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE customers SET balance = balance + $1")
            .bind(amount)
            .execute(&mut *tx)
            .await?;
        Ok(1)
    }
}
"#;
    one_service(
        AXUM_DEPS,
        &[("src/main.rs", &main), ("src/store.rs", store)],
    )
}

#[test]
fn a_repository_method_named_insert_is_followed() {
    let found = invoice_service(
        "    ctx.invoices.insert(&mut tx, amount).await.map_err(|e| e.to_string())?;",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("POST handler `create_invoice`")
            && found[0].contains("`INSERT INTO invoices` at svc/src/store.rs:"),
        "{found:?}"
    );
}

#[test]
fn insert_on_a_local_collection_is_not_the_repository_method() {
    let found = invoice_service(
        r#"    let mut seen = std::collections::HashMap::new();
    seen.insert(amount, 1);
    let mut lines: Vec<i64> = Vec::new();
    lines.push(amount);
    let invoices = vec![amount];
    let _ = invoices.get(0);"#,
    );
    assert!(found.is_empty(), "{found:?}");
}

/// An actix service whose POST scope is wrapped in a `from_fn` middleware with `body`.
fn actix_with_middleware(body: &str) -> Vec<String> {
    let main = r#"
use actix_web::{middleware::from_fn, web, App, HttpResponse, HttpServer};
mod idempotency;

async fn place_order(pool: web::Data<sqlx::PgPool>) -> HttpResponse {
    sqlx::query("UPDATE stock SET quantity = quantity - 1 WHERE sku = 'a'")
        .execute(pool.get_ref())
        .await
        .ok();
    HttpResponse::Created().finish()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(|| {
        App::new().service(
            web::scope("/orders")
                .wrap(from_fn(idempotency::require_idempotency_key))
                .route("", web::post().to(place_order)),
        )
    })
    .bind(("0.0.0.0", 8080))?
    .run()
    .await
}
"#;
    let middleware = format!(
        r#"
use actix_web::{{body::MessageBody, dev::{{ServiceRequest, ServiceResponse}}, middleware::Next, web, Error}};

pub async fn require_idempotency_key(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {{
    let key = req
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(|k| format!("idem:{{}}", k))
        .unwrap_or_default();
    let mut redis = req.app_data::<web::Data<redis::aio::ConnectionManager>>().unwrap().get_ref().clone();
{body}
    next.call(req).await
}}
"#
    );
    one_service(
        &["actix-web", "sqlx", "redis", "tokio"],
        &[("src/main.rs", main), ("src/idempotency.rs", &middleware)],
    )
}

#[test]
fn an_actix_middleware_claiming_the_idempotency_key_guards_the_post_handlers() {
    let claim = r#"    let claimed: Option<String> = redis::cmd("SET").arg(&key).arg("in-flight").arg("NX").arg("EX").arg(86400)
        .query_async(&mut redis)
        .await
        .map_err(actix_web::error::ErrorServiceUnavailable)?;
    if claimed.is_none() {
        return Err(actix_web::error::ErrorConflict("replayed"));
    }"#;
    let found = actix_with_middleware(claim);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_middleware_that_only_reads_the_idempotency_key_is_no_guard() {
    let found = actix_with_middleware(r#"    tracing::info!(%key, "request");"#);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("POST handler `place_order`"), "{found:?}");
}

/// An axum service whose router has an idempotency layer with `claim` in its body.
fn axum_with_layer(claim: &str) -> Vec<String> {
    let main = format!(
        r#"
use axum::{{extract::{{Request, State}}, middleware::{{self, Next}}, response::Response, routing::post, Router}};

#[tokio::main]
async fn main() {{
    let pool = sqlx::PgPool::connect("postgres://db/orders").await.unwrap();
    let app = Router::new()
        .route("/orders", post(create_order))
        .layer(middleware::from_fn_with_state(pool.clone(), idempotency))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}}

async fn idempotency(State(pool): State<sqlx::PgPool>, request: Request, next: Next) -> Response {{
    let key = request
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
{claim}
    next.run(request).await
}}

async fn create_order(State(pool): State<sqlx::PgPool>) -> Result<(), String> {{
    sqlx::query("UPDATE stock SET quantity = quantity - 1 WHERE sku = 'a'")
        .execute(&pool)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}}
"#
    );
    one_service(AXUM_DEPS, &[("src/main.rs", &main)])
}

#[test]
fn an_axum_layer_inserting_the_key_into_an_idempotency_table_guards_the_post_handlers() {
    let claim = r#"    let claimed = sqlx::query("INSERT INTO idempotency_keys (key) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(&key)
        .execute(&pool)
        .await
        .map(|r| r.rows_affected())
        .unwrap_or(0);
    if claimed == 0 {
        return axum::http::StatusCode::CONFLICT.into_response();
    }"#;
    let found = axum_with_layer(claim);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn an_axum_layer_that_only_passes_the_key_on_is_no_guard() {
    let found = axum_with_layer(r#"    tracing::debug!(%key, "idempotency key");"#);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("POST handler `create_order`"),
        "{found:?}"
    );
}

/// A Kafka handler that moves a charge to `refunded` with `update` and then refunds it.
fn refund_handler(update: &str) -> Vec<String> {
    let handler = format!(
        r#"
pub async fn on_order_completed(pool: &sqlx::PgPool, payload: &[u8]) -> anyhow::Result<()> {{
    let psp = Psp::from_env();
    refund_once(pool, &psp, payload).await
}}

async fn refund_once(pool: &sqlx::PgPool, psp: &Psp, payload: &[u8]) -> anyhow::Result<()> {{
    let event: serde_json::Value = serde_json::from_slice(payload)?;
    let charge: Option<(String,)> = sqlx::query_as("{update}")
        .bind(event["order_id"].as_str())
        .fetch_optional(pool)
        .await?;
    let Some((psp_charge,)) = charge else {{
        return Ok(());
    }};
    psp.refund(&psp_charge).await?;
    Ok(())
}}
"#
    );
    kafka_consumer(&handler)
}

#[test]
fn a_compare_and_set_state_transition_claims_the_refund_after_it() {
    let found = refund_handler(
        "UPDATE charges SET status = 'refunded' WHERE order_id = $1 AND status = 'succeeded' RETURNING psp_charge",
    );
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn an_unconditional_status_update_does_not_claim_the_refund_after_it() {
    let found = refund_handler(
        "UPDATE charges SET status = 'refunded' WHERE order_id = $1 RETURNING psp_charge",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("`psp.refund(..)`"), "{found:?}");
}

/// An axum service with a tower `Service` middleware whose `call` runs `claim`.
fn axum_with_tower_service(claim: &str) -> Vec<String> {
    let serve = axum_pool_main("orders", "/orders", "create_order");
    let main = format!(
        r#"
use axum::{{body::Body, extract::State, http::Request, routing::post, Router}};
use std::task::{{Context, Poll}};
use tower::Service;

#[derive(Clone)]
pub struct IdempotencyService<S> {{ inner: S, redis: redis::aio::ConnectionManager }}

impl<S> Service<Request<Body>> for IdempotencyService<S>
where
    S: Service<Request<Body>> + Clone + Send + 'static,
{{
    type Response = S::Response;
    type Error = S::Error;
    type Future = futures::future::BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {{
        self.inner.poll_ready(cx)
    }}

    fn call(&mut self, req: Request<Body>) -> Self::Future {{
        let mut inner = self.inner.clone();
        let mut redis = self.redis.clone();
        Box::pin(async move {{
            let key = req
                .headers()
                .get("Idempotency-Key")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
{claim}
            inner.call(req).await
        }})
    }}
}}

{serve}

async fn create_order(State(pool): State<sqlx::PgPool>) -> Result<(), String> {{
    sqlx::query("UPDATE stock SET quantity = quantity - 1 WHERE sku = 'a'")
        .execute(&pool)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}}
"#
    );
    one_service(
        &["axum", "sqlx", "tokio", "tower", "redis"],
        &[("src/main.rs", &main)],
    )
}

#[test]
fn a_tower_service_claiming_the_key_with_set_nx_guards_the_post_handlers() {
    let claim = r#"            let fresh: bool = redis.set_nx(&key, "in-flight").await.unwrap_or(false);
            if !fresh {
                panic!("replayed request");
            }"#;
    let found = axum_with_tower_service(claim);
    assert!(found.is_empty(), "{found:?}");

    let found = axum_with_tower_service(r#"            tracing::info!(%key);"#);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("POST handler `create_order`"),
        "{found:?}"
    );
}

/// An actix app whose `wrap_fn` closure runs `claim` before the handlers.
fn actix_with_wrap_fn(claim: &str) -> Vec<String> {
    let main = format!(
        r#"
use actix_web::{{dev::Service, web, App, HttpResponse, HttpServer}};

async fn place_order(pool: web::Data<sqlx::PgPool>) -> HttpResponse {{
    sqlx::query("UPDATE stock SET quantity = quantity - 1 WHERE sku = 'a'")
        .execute(pool.get_ref())
        .await
        .ok();
    HttpResponse::Created().finish()
}}

#[actix_web::main]
async fn main() -> std::io::Result<()> {{
    let redis = redis::Client::open("redis://cache").unwrap();
    HttpServer::new(move || {{
        let redis = redis.clone();
        App::new()
            .wrap_fn(move |req, srv| {{
                let redis = redis.clone();
                let key = req
                    .headers()
                    .get("Idempotency-Key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let fut = srv.call(req);
                async move {{
{claim}
                    fut.await
                }}
            }})
            .route("/orders", web::post().to(place_order))
    }})
    .bind(("0.0.0.0", 8080))?
    .run()
    .await
}}
"#
    );
    one_service(
        &["actix-web", "sqlx", "redis", "tokio"],
        &[("src/main.rs", &main)],
    )
}

#[test]
fn a_wrap_fn_closure_claiming_the_key_guards_the_post_handlers() {
    let claim = r#"                    let mut conn = redis.get_multiplexed_async_connection().await.unwrap();
                    let _: Option<String> = redis::cmd("SET").arg(&key).arg(1).arg("NX").query_async(&mut conn).await.unwrap();"#;
    let found = actix_with_wrap_fn(claim);
    assert!(found.is_empty(), "{found:?}");

    let found = actix_with_wrap_fn(r#"                    tracing::info!(%key);"#);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("POST handler `place_order`"), "{found:?}");
}

#[test]
fn a_post_that_only_creates_a_row_of_its_own_is_not_judged() {
    let create = axum_service("").replace(
        "UPDATE stock SET quantity = quantity - 1 WHERE sku = 'a'",
        "INSERT INTO orders (id) VALUES (gen_random_uuid())",
    );
    let found = one_service(AXUM_DEPS, &[("src/main.rs", &create)]);
    assert!(found.is_empty(), "{found:?}");
}

/// A sign-up handler: a repository inserts the user, then the handler publishes.
fn sign_up(migration: &str, handler_tail: &str) -> Vec<String> {
    let main = format!(
        r#"
use axum::routing::post;
use axum::{{extract::State, Router}};
use rdkafka::producer::{{FutureProducer, FutureRecord}};
use std::time::Duration;

#[derive(Clone)]
struct App {{ pool: sqlx::PgPool, producer: FutureProducer }}

#[tokio::main]
async fn main() {{
    let pool = sqlx::PgPool::connect("postgres://db/users").await.unwrap();
    let producer: FutureProducer = rdkafka::ClientConfig::new().create().unwrap();
    let app = Router::new().route("/signup", post(sign_up)).with_state(App {{ pool, producer }});
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}}

struct UserRepo;
impl UserRepo {{
    async fn create(pool: &sqlx::PgPool, email: &str) -> Result<(), sqlx::Error> {{
        sqlx::query("INSERT INTO users (email) VALUES ($1)").bind(email).execute(pool).await?;
        Ok(())
    }}
}}

async fn sign_up(State(app): State<App>) -> Result<(), String> {{
    let email = "a@example.com";
{handler_tail}
}}
"#
    );
    one_service(
        &["axum", "sqlx", "tokio", "rdkafka"],
        &[
            ("src/main.rs", &main),
            ("migrations/0001_users.sql", migration),
        ],
    )
}

const PUBLISH_USER: &str = r#"    app.producer
        .send(FutureRecord::to("users.created").key(email).payload(email), Duration::from_secs(5))
        .await
        .map_err(|(e, _)| e.to_string())?;
    Ok(())"#;

#[test]
fn an_insert_on_a_unique_natural_key_claims_what_follows_its_propagated_call() {
    let unique = "CREATE TABLE users (id BIGSERIAL PRIMARY KEY, email TEXT NOT NULL UNIQUE);\n";
    let plain = "CREATE TABLE users (id BIGSERIAL PRIMARY KEY, email TEXT NOT NULL);\n";
    let propagated = format!(
        "    UserRepo::create(&app.pool, email).await.map_err(|e| e.to_string())?;\n{PUBLISH_USER}"
    );
    let found = sign_up(unique, &propagated);
    assert!(found.is_empty(), "{found:?}");
    let found = sign_up(plain, &propagated);
    assert_eq!(found.len(), 1, "{found:?}");

    // Matched in the body's tail: the `Err` arm ends the handler whatever it returns.
    let matched = format!(
        "    match UserRepo::create(&app.pool, email).await {{\n        Ok(()) => {{\n{PUBLISH_USER}\n        }}\n        Err(e) => Err(e.to_string()),\n    }}"
    );
    let found = sign_up(unique, &matched);
    assert!(found.is_empty(), "{found:?}");

    // The failure ignored: a duplicate goes on to publish.
    let ignored = format!("    let _ = UserRepo::create(&app.pool, email).await;\n{PUBLISH_USER}");
    let found = sign_up(unique, &ignored);
    assert_eq!(found.len(), 1, "{found:?}");
}

/// A tonic service implementation with one RPC whose body is `body`.
fn tonic_service(rpc: &str, body: &str) -> Vec<String> {
    let main = format!(
        r#"
use tonic::{{Request, Response, Status}};

pub struct Inventory {{ pool: sqlx::PgPool }}

#[tonic::async_trait]
impl inventory_server::Inventory for Inventory {{
    async fn {rpc}(&self, request: Request<Adjust>) -> Result<Response<Adjusted>, Status> {{
        let req = request.into_inner();
{body}
        Ok(Response::new(Adjusted {{}}))
    }}
}}

#[tokio::main]
async fn main() {{}}
"#
    );
    one_service(&["tonic", "sqlx", "tokio"], &[("src/main.rs", &main)])
}

const TAKE_STOCK: &str = r#"        sqlx::query("UPDATE stock SET quantity = quantity - $1 WHERE sku = $2")
            .bind(req.quantity)
            .bind(&req.sku)
            .execute(&self.pool)
            .await
            .map_err(|e| Status::internal(e.to_string()))?;"#;

#[test]
fn a_write_rpc_that_moves_stock_is_reported_and_a_read_rpc_is_not_judged() {
    let found = tonic_service("adjust_stock", TAKE_STOCK);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("write RPC `adjust_stock` of `Inventory`"),
        "{found:?}"
    );
    let found = tonic_service("get_stock", TAKE_STOCK);
    assert!(found.is_empty(), "{found:?}");
    let create = r#"        sqlx::query("INSERT INTO skus (sku) VALUES ($1)")
            .bind(&req.sku)
            .execute(&self.pool)
            .await
            .map_err(|e| Status::internal(e.to_string()))?;"#;
    let found = tonic_service("create_sku", create);
    assert!(found.is_empty(), "a plain create: {found:?}");
}

/// A refund endpoint calling the service's own payment-provider client, which sends the
/// `Idempotency-Key` it is given; `key` is the expression the handler passes.
fn refund_through_provider_client(key: &str) -> String {
    format!(
        r#"
use axum::extract::Path;
use axum::routing::post;
use axum::Router;

#[tokio::main]
async fn main() {{
    let app = Router::new().route("/payments/:id/refund", post(refund_payment));
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}}

pub struct ProviderClient {{
    http: reqwest::Client,
}}

impl ProviderClient {{
    pub fn new() -> Self {{
        Self {{ http: reqwest::Client::new() }}
    }}

    pub async fn refund_charge(&self, charge: &str, key: &str) -> Result<(), reqwest::Error> {{
        self.http
            .post("https://api.provider.example/v1/refunds")
            .header("Idempotency-Key", key)
            .form(&[("charge", charge)])
            .send()
            .await?;
        Ok(())
    }}
}}

async fn refund_payment(Path(id): Path<uuid::Uuid>) -> Result<(), String> {{
    let provider_client = ProviderClient::new();
    provider_client
        .refund_charge(&id.to_string(), &{key})
        .await
        .map_err(|e| e.to_string())
}}
"#
    )
}

#[test]
fn a_refund_sent_with_the_request_s_own_key_is_silent_and_a_fresh_key_is_reported() {
    let deps = &["axum", "tokio", "reqwest", "uuid"];
    let stable = refund_through_provider_client("id.to_string()");
    let found = one_service(deps, &[("src/main.rs", &stable)]);
    assert!(found.is_empty(), "{found:?}");

    let fresh = refund_through_provider_client("uuid::Uuid::new_v4().to_string()");
    let found = one_service(deps, &[("src/main.rs", &fresh)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("POST handler `refund_payment`")
            && found[0].contains("`POST /v1/refunds` to `api.provider.example`"),
        "{found:?}"
    );
}

/// A status endpoint that sets a state and announces it (`then` runs between the two).
fn status_endpoint(then: &str) -> String {
    format!(
        r#"
use axum::extract::{{Path, State}};
use axum::routing::post;
use axum::Router;
use rdkafka::producer::{{FutureProducer, FutureRecord}};

#[derive(Clone)]
struct AppState {{
    pool: sqlx::PgPool,
    producer: FutureProducer,
}}

#[tokio::main]
async fn main() {{
    let pool = sqlx::PgPool::connect("postgres://db/payments").await.unwrap();
    let producer: FutureProducer = rdkafka::ClientConfig::new().create().unwrap();
    let app = Router::new()
        .route("/payments/:id/succeed", post(mark_succeeded))
        .with_state(AppState {{ pool, producer }});
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}}

async fn mark_succeeded(State(state): State<AppState>, Path(id): Path<uuid::Uuid>) -> Result<(), String> {{
    sqlx::query("UPDATE payments SET status = 'succeeded' WHERE id = $1")
        .bind(id)
        .execute(&state.pool)
        .await
        .map_err(|e| e.to_string())?;
{then}
    let body = id.to_string();
    state
        .producer
        .send(FutureRecord::to("payment.succeeded").key(&body).payload(&body), std::time::Duration::ZERO)
        .await
        .map_err(|_| "publish failed".to_string())?;
    Ok(())
}}
"#
    )
}

#[test]
fn announcing_a_state_it_sets_is_silent_and_announcing_a_new_row_is_reported() {
    let deps = &["axum", "tokio", "rdkafka", "sqlx", "uuid"];
    let found = one_service(deps, &[("src/main.rs", &status_endpoint(""))]);
    assert!(found.is_empty(), "{found:?}");

    let ledger = r#"    sqlx::query("INSERT INTO ledger_entries (payment_id) VALUES ($1)")
        .bind(id)
        .execute(&state.pool)
        .await
        .map_err(|e| e.to_string())?;"#;
    let found = one_service(deps, &[("src/main.rs", &status_endpoint(ledger))]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`INSERT INTO ledger_entries`")
            && found[0].contains("publish to `payment.succeeded`"),
        "{found:?}"
    );
}

/// A consumer module and a back-office module with a helper of the same name: the consumer
/// runs `consumer_sql`, the back-office helper a plain insert outside any handler.
fn consumer_beside_a_namesake(consumer_sql: &str) -> String {
    format!(
        r#"
mod backfill {{
    pub async fn record(pool: &sqlx::PgPool, payload: &[u8]) -> anyhow::Result<()> {{
        sqlx::query("INSERT INTO shipment_events (body) VALUES ($1)").bind(payload).execute(pool).await?;
        Ok(())
    }}
}}

mod orders {{
    use futures::StreamExt;
    use rdkafka::consumer::{{Consumer, StreamConsumer}};
    use rdkafka::Message;

    pub async fn run(consumer: StreamConsumer, pool: sqlx::PgPool) -> anyhow::Result<()> {{
        let mut stream = consumer.stream();
        while let Some(message) = stream.next().await {{
            let message = message?;
            record(&pool, message.payload().unwrap_or_default()).await?;
        }}
        Ok(())
    }}

    async fn record(pool: &sqlx::PgPool, payload: &[u8]) -> anyhow::Result<()> {{
        sqlx::query("{consumer_sql}").bind(payload).execute(pool).await?;
        Ok(())
    }}
}}

#[tokio::main]
async fn main() {{}}
"#
    )
}

#[test]
fn a_helper_call_resolves_to_its_own_module_s_function() {
    let deps = &["rdkafka", "sqlx", "tokio", "futures", "anyhow"];
    let guarded = consumer_beside_a_namesake(
        "INSERT INTO order_events (event_id, body) VALUES ($1, $1) ON CONFLICT DO NOTHING",
    );
    let found = one_service(deps, &[("src/main.rs", &guarded)]);
    assert!(found.is_empty(), "{found:?}");

    let plain = consumer_beside_a_namesake("INSERT INTO order_events (body) VALUES ($1)");
    let found = one_service(deps, &[("src/main.rs", &plain)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`INSERT INTO order_events`") && !found[0].contains("shipment_events"),
        "{found:?}"
    );
}

/// A cancel endpoint that restores stock; `check` runs after the order is looked up.
fn cancel_endpoint(check: &str) -> String {
    let main = axum_pool_main("orders", "/orders/cancel", "cancel_order");
    format!(
        r#"
use axum::extract::{{Json, State}};
use axum::routing::post;
use axum::Router;

#[derive(serde::Deserialize)]
struct Cancel {{
    order_id: i64,
    status: String,
}}

#[derive(sqlx::FromRow)]
struct Order {{
    id: i64,
    status: String,
}}

{main}

async fn cancel_order(State(pool): State<sqlx::PgPool>, Json(req): Json<Cancel>) -> Result<(), String> {{
    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    let order: Order = sqlx::query_as("SELECT id, status FROM orders WHERE id = $1 FOR UPDATE")
        .bind(req.order_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
{check}
    sqlx::query("UPDATE products SET stock = stock + 1 WHERE order_id = $1")
        .bind(order.id)
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query("UPDATE orders SET status = 'CANCELLED' WHERE id = $1")
        .bind(order.id)
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())
}}
"#
    )
}

#[test]
fn a_looked_up_state_checked_before_the_writes_is_a_guard_and_a_request_field_is_not() {
    let deps = &["axum", "tokio", "sqlx", "serde"];
    let looked_up = r#"    if order.status == "CANCELLED" {
        return Ok(());
    }"#;
    let found = one_service(deps, &[("src/main.rs", &cancel_endpoint(looked_up))]);
    assert!(found.is_empty(), "{found:?}");

    let request_field = r#"    if req.status == "CANCELLED" {
        return Ok(());
    }"#;
    let found = one_service(deps, &[("src/main.rs", &cancel_endpoint(request_field))]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("relative `UPDATE products`"), "{found:?}");

    let found = one_service(deps, &[("src/main.rs", &cancel_endpoint(""))]);
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn a_match_on_the_looked_up_state_with_arms_that_return_is_a_guard_too() {
    let deps = &["axum", "tokio", "sqlx", "serde"];
    let looked_up = r#"    match order.status.as_str() {
        "CANCELLED" => return Ok(()),
        "SHIPPED" => return Err("shipped".to_string()),
        _ => (),
    }"#;
    let found = one_service(deps, &[("src/main.rs", &cancel_endpoint(looked_up))]);
    assert!(found.is_empty(), "{found:?}");

    // The request's own state says nothing about whether this ran before.
    let request_field = looked_up.replace("order.status", "req.status");
    let found = one_service(deps, &[("src/main.rs", &cancel_endpoint(&request_field))]);
    assert_eq!(found.len(), 1, "{found:?}");

    // A match whose every arm goes on decides nothing.
    let no_exit = r#"    match order.status.as_str() {
        "CANCELLED" => tracing::info!("again"),
        _ => (),
    }"#;
    let found = one_service(deps, &[("src/main.rs", &cancel_endpoint(no_exit))]);
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn rows_looked_up_by_key_and_walked_in_a_loop_are_checked_state() {
    let deps = &["axum", "tokio", "sqlx", "serde"];
    // Each quote of the batch, locked by id, is checked before anything is written.
    let check = r#"    let quotes: Vec<Order> = repo.get_orders_by_ids(&[req.order_id]).await?;
    for (id, quote) in [req.order_id].iter().zip(quotes) {
        match quote.status.as_str() {
            "CANCELLED" => return Ok(()),
            _ => (),
        }
    }"#;
    let found = one_service(deps, &[("src/main.rs", &cancel_endpoint(check))]);
    assert!(found.is_empty(), "{found:?}");
    // The same loop over the request's own list checks nothing stored.
    let unchecked = check.replace(
        "let quotes: Vec<Order> = repo.get_orders_by_ids(&[req.order_id]).await?;",
        "let quotes: Vec<Order> = req.orders.clone();",
    );
    let found = one_service(deps, &[("src/main.rs", &cancel_endpoint(&unchecked))]);
    assert_eq!(found.len(), 1, "{found:?}");
}

/// A Kafka consumer storing each event in `projections`; `key` is the id it inserts.
fn projection_consumer(migration: &str, insert: &str, key: &str) -> Vec<String> {
    let main = format!(
        r#"
use futures::StreamExt;
use rdkafka::consumer::{{Consumer, StreamConsumer}};
use rdkafka::Message;

#[derive(serde::Deserialize)]
struct Event {{
    id: uuid::Uuid,
    body: String,
}}

#[tokio::main]
async fn main() -> anyhow::Result<()> {{
    let pool = sqlx::PgPool::connect("postgres://db/projections").await?;
    let consumer: StreamConsumer = rdkafka::ClientConfig::new().create()?;
    consumer.subscribe(&["events"])?;
    let mut stream = consumer.stream();
    while let Some(message) = stream.next().await {{
        let message = message?;
        let event: Event = serde_json::from_slice(message.payload().unwrap_or_default())?;
        project(&pool, &event).await?;
    }}
    Ok(())
}}

async fn project(pool: &sqlx::PgPool, event: &Event) -> anyhow::Result<()> {{
    let id = {key};
    sqlx::query("{insert}").bind(id).bind(&event.body).execute(pool).await?;
    Ok(())
}}
"#
    );
    one_service(
        &[
            "rdkafka",
            "sqlx",
            "tokio",
            "futures",
            "serde",
            "serde_json",
            "uuid",
            "anyhow",
        ],
        &[
            ("src/main.rs", &main),
            ("migrations/0001_projections.sql", migration),
        ],
    )
}

#[test]
fn a_primary_key_taken_from_the_message_is_a_guard_and_a_fresh_one_is_not() {
    let supplied = "CREATE TABLE projections (id UUID PRIMARY KEY, body TEXT NOT NULL);\n";
    let defaulted =
        "CREATE TABLE projections (id UUID PRIMARY KEY DEFAULT gen_random_uuid(), body TEXT);\n";
    let named = "INSERT INTO projections (id, body) VALUES ($1, $2)";
    let unnamed = "INSERT INTO projections (body) VALUES ($2)";

    // The event's id is the row's key: a redelivery fails on it.
    let found = projection_consumer(supplied, named, "event.id");
    assert!(found.is_empty(), "{found:?}");
    let found = projection_consumer(defaulted, named, "event.id");
    assert!(found.is_empty(), "{found:?}");
    // A fresh id only when the event lacks one is a default, not the key.
    let found = projection_consumer(
        defaulted,
        named,
        "Some(event.id).unwrap_or_else(|| uuid::Uuid::new_v4())",
    );
    assert!(found.is_empty(), "{found:?}");

    // A fresh key per delivery, or the database's own: every redelivery inserts a row.
    let found = projection_consumer(supplied, named, "uuid::Uuid::new_v4()");
    assert_eq!(found.len(), 1, "{found:?}");
    let found = projection_consumer(defaulted, unnamed, "event.id");
    assert_eq!(found.len(), 1, "{found:?}");
    let found = projection_consumer(
        defaulted,
        "INSERT INTO projections (id, body) VALUES (gen_random_uuid(), $2)",
        "event.id",
    );
    assert_eq!(found.len(), 1, "{found:?}");
}

/// A JetStream consumer whose stream comes from a project helper; the handler takes the
/// `Message` type that `import` brings in.
fn jetstream_handler_taking(import: &str) -> String {
    format!(
        r#"
{import}
use futures::TryStreamExt;

mod nats_utils {{
    pub async fn create_consumer(
        js: &async_nats::jetstream::Context,
    ) -> anyhow::Result<async_nats::jetstream::consumer::pull::Stream> {{
        let stream = js.get_stream("SHORTS").await?;
        let consumer: async_nats::jetstream::consumer::PullConsumer =
            stream.get_consumer("shorts").await?;
        Ok(consumer.messages().await?)
    }}
}}

#[tokio::main]
async fn main() -> anyhow::Result<()> {{
    let client = async_nats::connect("nats://nats:4222").await?;
    let jetstream = async_nats::jetstream::new(client);
    let pool = sqlx::PgPool::connect("postgres://db/shorts").await?;
    let mut messages = nats_utils::create_consumer(&jetstream).await?;
    while let Ok(Some(message)) = messages.try_next().await {{
        store_short(&pool, &message).await?;
    }}
    Ok(())
}}

async fn store_short(pool: &sqlx::PgPool, message: &Message) -> anyhow::Result<()> {{
    sqlx::query("INSERT INTO shorts (url) VALUES ($1)")
        .bind(String::from_utf8_lossy(&message.payload).to_string())
        .execute(pool)
        .await?;
    Ok(())
}}
"#
    )
}

#[test]
fn a_handler_taking_the_imported_jetstream_message_is_judged_and_a_local_message_type_is_not() {
    let deps = &["async-nats", "sqlx", "tokio", "futures", "anyhow"];
    let nats = jetstream_handler_taking("use async_nats::jetstream::{Context, Message};");
    let found = one_service(deps, &[("src/main.rs", &nats)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`store_short`") && found[0].contains("`INSERT INTO shorts`"),
        "{found:?}"
    );

    let local = jetstream_handler_taking("pub struct Message { pub payload: Vec<u8> }");
    let found = one_service(deps, &[("src/main.rs", &local)]);
    assert!(found.is_empty(), "{found:?}");
}

/// A `main` that subscribes two consumers and runs a loop for each: `orders` claims each
/// message id, `replies` does `replies_body`.
fn main_starting_two_loops(replies_body: &str) -> String {
    format!(
        r#"
use futures::StreamExt;
use rdkafka::consumer::{{Consumer, StreamConsumer}};
use rdkafka::Message;

#[tokio::main]
async fn main() -> anyhow::Result<()> {{
    let pool = sqlx::PgPool::connect("postgres://db/orders").await?;
    let orders: StreamConsumer = rdkafka::ClientConfig::new().create()?;
    orders.subscribe(&["orders"])?;
    let replies: StreamConsumer = rdkafka::ClientConfig::new().create()?;
    replies.subscribe(&["replies"])?;
    tokio::spawn(run_orders(orders, pool.clone()));
    run_replies(replies, pool).await
}}

async fn run_orders(consumer: StreamConsumer, pool: sqlx::PgPool) -> anyhow::Result<()> {{
    let mut stream = consumer.stream();
    while let Some(message) = stream.next().await {{
        let message = message?;
        let id = String::from_utf8_lossy(message.key().unwrap_or_default()).to_string();
        let claimed = sqlx::query("INSERT INTO processed_messages (id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(&id)
            .execute(&pool)
            .await?;
        if claimed.rows_affected() == 0 {{
            continue;
        }}
        sqlx::query("INSERT INTO orders (id) VALUES ($1)").bind(&id).execute(&pool).await?;
    }}
    Ok(())
}}

async fn run_replies(consumer: StreamConsumer, pool: sqlx::PgPool) -> anyhow::Result<()> {{
    let mut stream = consumer.stream();
    while let Some(message) = stream.next().await {{
        let message = message?;
        let body = String::from_utf8_lossy(message.payload().unwrap_or_default()).to_string();
{replies_body}
    }}
    Ok(())
}}
"#
    )
}

#[test]
fn each_loop_a_main_starts_is_judged_on_its_own() {
    let deps = &["rdkafka", "sqlx", "tokio", "futures", "anyhow"];
    let step = r#"        sqlx::query("UPDATE sagas SET step = step + 1 WHERE id = $1")
            .bind(&body)
            .execute(&pool)
            .await?;"#;
    let found = one_service(deps, &[("src/main.rs", &main_starting_two_loops(step))]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`run_replies`") && found[0].contains("relative `UPDATE sagas`"),
        "{found:?}"
    );

    let set = r#"        sqlx::query("UPDATE sagas SET status = 'done' WHERE id = $1")
            .bind(&body)
            .execute(&pool)
            .await?;"#;
    let found = one_service(deps, &[("src/main.rs", &main_starting_two_loops(set))]);
    assert!(found.is_empty(), "{found:?}");
}

/// A workspace helper that reads a Redis stream and hands each entry to a closure.
const STREAMS_MOD: &str = r#"mod streams {
    pub async fn consume<F, Fut>(url: &str, mut handler: F) -> anyhow::Result<()>
    where
        F: FnMut(String) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<()>>,
    {
        let client = redis::Client::open(url)?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        loop {
            let reply: Vec<String> = redis::cmd("XREADGROUP").arg("GROUP").query_async(&mut conn).await?;
            for body in reply {
                handler(body).await?;
            }
        }
    }
}
"#;

/// A project wrapper consumes a Redis stream and calls a closure per message; the closure
/// dispatches to `create_item`, whose body starts with `check`.
fn stream_wrapper_consumer(check: &str) -> String {
    format!(
        r#"
{STREAMS_MOD}

#[tokio::main]
async fn main() -> anyhow::Result<()> {{
    let pool = sqlx::PgPool::connect("postgres://db/items").await?;
    listen(pool).await
}}

async fn listen(pool: sqlx::PgPool) -> anyhow::Result<()> {{
    streams::consume("redis://redis", move |body| {{
        let pool = pool.clone();
        async move {{ create_item(&pool, &body).await }}
    }})
    .await
}}

async fn create_item(pool: &sqlx::PgPool, body: &str) -> anyhow::Result<()> {{
{check}
    sqlx::query("INSERT INTO items (body) VALUES ($1)").bind(body).execute(pool).await?;
    Ok(())
}}
"#
    )
}

#[test]
fn a_closure_given_to_a_consuming_wrapper_is_a_message_handler_and_existence_checks_guard_it() {
    let deps = REDIS_DEPS;
    let found = one_service(deps, &[("src/main.rs", &stream_wrapper_consumer(""))]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`create_item`, which the consumer loop `listen`")
            && found[0].contains("`INSERT INTO items`"),
        "{found:?}"
    );

    let lookups = [
        r#"    let existing: Option<(i64,)> = sqlx::query_as("SELECT id FROM items WHERE body = $1")
        .bind(body)
        .fetch_optional(pool)
        .await?;
    if existing.is_some() {
        return Ok(());
    }"#,
        r#"    if let Some(_) = sqlx::query_as::<_, (i64,)>("SELECT id FROM items WHERE body = $1")
        .bind(body)
        .fetch_optional(pool)
        .await?
    {
        return Ok(());
    }"#,
        r#"    let row: (bool,) = sqlx::query_as("SELECT done FROM requests WHERE body = $1")
        .bind(body)
        .fetch_one(pool)
        .await?;
    let done = row.0;
    if done {
        return Ok(());
    }"#,
    ];
    for check in lookups {
        let found = one_service(deps, &[("src/main.rs", &stream_wrapper_consumer(check))]);
        assert!(found.is_empty(), "{check}\n{found:?}");
    }

    // A test of the message itself is validation, not deduplication.
    let validation = r#"    let empty = body.is_empty();
    if empty {
        return Ok(());
    }"#;
    let found = one_service(
        deps,
        &[("src/main.rs", &stream_wrapper_consumer(validation))],
    );
    assert_eq!(found.len(), 1, "{found:?}");
}

const MONGO_DEPS: &[&str] = &["rdkafka", "mongodb", "tokio", "serde"];

/// A Kafka loop that takes the fields out of each message and hands them to a service
/// function writing to MongoDB with `write`.
fn mongo_consumer(write: &str) -> String {
    format!(
        r#"
use rdkafka::consumer::{{Consumer, StreamConsumer}};
use rdkafka::Message;

#[tokio::main]
async fn main() -> anyhow::Result<()> {{
    let client = mongodb::Client::with_uri_str("mongodb://mongo:27017").await?;
    let consumer: StreamConsumer = rdkafka::ClientConfig::new().create()?;
    consumer.subscribe(&["users"])?;
    loop {{
        let message = consumer.recv().await?;
        let name = String::from_utf8_lossy(message.payload().unwrap_or_default()).to_string();
        create_user(&client, name).await?;
    }}
}}

async fn create_user(client: &mongodb::Client, name: String) -> anyhow::Result<()> {{
    let users = client.database("app").collection::<mongodb::bson::Document>("users");
    {write}
    Ok(())
}}
"#
    )
}

#[test]
fn a_mongodb_insert_per_message_is_reported_at_the_loop_that_takes_the_message_apart() {
    let found = one_service(
        MONGO_DEPS,
        &[(
            "src/main.rs",
            &mongo_consumer(
                r#"users.insert_one(mongodb::bson::doc! { "name": &name }, None).await?;"#,
            ),
        )],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("line 6: message handler `main`")
            && found[0].contains("`mongodb insert_one(users)`"),
        "{found:?}"
    );
}

#[test]
fn a_mongodb_set_and_a_project_method_named_like_the_driver_are_silent() {
    let set = mongo_consumer(
        r#"users.update_one(mongodb::bson::doc! { "name": &name }, mongodb::bson::doc! { "$set": { "seen": true } }, None).await?;"#,
    );
    assert_eq!(
        one_service(MONGO_DEPS, &[("src/main.rs", &set)]),
        Vec::<String>::new()
    );
    let inc = mongo_consumer(
        r#"users.update_one(mongodb::bson::doc! { "name": &name }, mongodb::bson::doc! { "$inc": { "visits": 1 } }, None).await?;"#,
    );
    let found = one_service(MONGO_DEPS, &[("src/main.rs", &inc)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("relative"), "{found:?}");
    // Without the driver, `insert_one` is some project method.
    let no_driver = &["rdkafka", "tokio", "serde", "mongo-lookalike"];
    let found = one_service(
        no_driver,
        &[(
            "src/main.rs",
            &mongo_consumer(
                r#"users.insert_one(mongodb::bson::doc! { "name": &name }, None).await?;"#,
            ),
        )],
    );
    assert_eq!(found, Vec::<String>::new());
}

/// `orders` forwards a `POST` to `warranty`'s `/<id>/verdict` route, whose handler runs
/// `verdict_sql`.
fn post_to_a_workspace_route(verdict_sql: &str) -> Vec<String> {
    let orders = r#"
use actix_web::{post, web, App, HttpServer, HttpResponse};

#[post("/orders/{id}/warranty")]
async fn ask_warranty(path: web::Path<String>) -> HttpResponse {
    let host = std::env::var("WARRANTY_URL").unwrap_or_default();
    let id = path.into_inner();
    let url = host.to_string() + "/api/v1/warranty/" + id.as_str() + "/verdict";
    let answer = reqwest::Client::new().post(&url).send().await;
    HttpResponse::Ok().body(format!("{}", answer.is_ok()))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(|| App::new().service(ask_warranty)).bind("0.0.0.0:8080")?.run().await
}
"#;
    let warranty = format!(
        r#"
use actix_web::{{post, web, App, HttpServer, HttpResponse}};

#[post("/<id>/verdict")]
async fn verdict(pool: web::Data<sqlx::PgPool>, path: web::Path<String>) -> HttpResponse {{
    let _ = sqlx::query("{verdict_sql}").bind(path.into_inner()).execute(pool.get_ref()).await;
    HttpResponse::Ok().finish()
}}

#[actix_web::main]
async fn main() -> std::io::Result<()> {{
    HttpServer::new(|| App::new().service(verdict)).bind("0.0.0.0:8081")?.run().await
}}
"#
    );
    check(
        &[
            ServiceCrate {
                name: "orders",
                dependencies: &["actix-web", "reqwest", "tokio"],
                files: &[("src/main.rs", orders)],
            },
            ServiceCrate {
                name: "warranty",
                dependencies: &["actix-web", "sqlx", "tokio"],
                files: &[("src/main.rs", &warranty)],
            },
        ],
        None,
    )
    .of(RULE)
}

#[test]
fn a_post_to_a_workspace_route_that_changes_nothing_is_a_question_not_an_effect() {
    let found = post_to_a_workspace_route("SELECT count(*) FROM warranties WHERE item = $1");
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn a_post_to_a_workspace_route_that_writes_is_an_effect() {
    let found = post_to_a_workspace_route("INSERT INTO warranties (item) VALUES ($1)");
    assert!(
        found
            .iter()
            .any(|f| f.contains("`ask_warranty`")
                && f.contains("`POST /api/v1/warranty/{}/verdict`")),
        "{found:?}"
    );
}

/// An RPC of a tonic service calling `adjust_stock` on `delegate` with `argument`, next to
/// an application service whose `adjust_stock` moves stock.
fn tonic_delegating(delegate: &str, argument: &str) -> Vec<String> {
    let main = format!(
        r#"
use tonic::{{Request, Response, Status}};

pub struct StockService {{ pool: sqlx::PgPool }}

impl StockService {{
    pub async fn adjust_stock(&self, command: AdjustCommand) -> Result<(), sqlx::Error> {{
        sqlx::query("UPDATE stock SET quantity = quantity - $1 WHERE sku = $2")
            .bind(command.quantity)
            .bind(&command.sku)
            .execute(&self.pool)
            .await?;
        Ok(())
    }}
}}

pub struct Inventory {{ service: StockService, client: InventoryClient }}

#[tonic::async_trait]
impl inventory_server::Inventory for Inventory {{
    async fn adjust_stock(&self, request: Request<Adjust>) -> Result<Response<Adjusted>, Status> {{
        self.{delegate}.adjust_stock({argument}).await.map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(Adjusted {{}}))
    }}
}}

#[tokio::main]
async fn main() {{}}
"#
    );
    one_service(&["tonic", "sqlx", "tokio"], &[("src/main.rs", &main)])
}

#[test]
fn an_rpc_delegating_to_its_application_service_method_of_the_same_name_is_judged() {
    let found = tonic_delegating("service", "AdjustCommand::from(request.into_inner())");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("write RPC `adjust_stock`"), "{found:?}");
}

#[test]
fn a_client_forwarding_the_request_to_the_same_rpc_is_not_a_handler() {
    let found = tonic_delegating("client.clone()", "request");
    assert_eq!(found, Vec::<String>::new());
}

/// A tonic RPC `rpc` handing its request to `self.{use_case}.execute(..)`, with two use
/// cases: one moving money, one creating a user.
fn rpc_through_use_case(rpc: &str, use_case: &str) -> Vec<String> {
    let main = format!(
        r#"
use tonic::{{Request, Response, Status}};

pub struct ProcessMovementUseCase {{ pool: sqlx::PgPool }}
impl ProcessMovementUseCase {{
    pub async fn execute(&self, wallet: String, amount: i64) -> Result<(), sqlx::Error> {{
        sqlx::query("UPDATE wallets SET balance = balance + $1 WHERE id = $2")
            .bind(amount)
            .bind(wallet)
            .execute(&self.pool)
            .await?;
        Ok(())
    }}
}}

pub struct CreateUserUseCase {{ pool: sqlx::PgPool }}
impl CreateUserUseCase {{
    pub async fn execute(&self, name: String) -> Result<(), sqlx::Error> {{
        sqlx::query("UPDATE users SET name = $1").bind(name).execute(&self.pool).await?;
        Ok(())
    }}
}}

pub struct Wallets {{ process_movement_use_case: ProcessMovementUseCase, create_user_use_case: CreateUserUseCase }}

#[tonic::async_trait]
impl wallet_server::Wallet for Wallets {{
    async fn {rpc}(&self, request: Request<Movement>) -> Result<Response<Moved>, Status> {{
        let req = request.into_inner();
        self.{use_case}.execute(req.wallet, req.amount).await.map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(Moved {{}}))
    }}
}}

#[tokio::main]
async fn main() {{}}
"#
    );
    one_service(&["tonic", "sqlx", "tokio"], &[("src/main.rs", &main)])
}

#[test]
fn a_use_case_executed_by_an_rpc_is_the_one_its_field_names() {
    let found = rpc_through_use_case("validate_and_reserve", "process_movement_use_case");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("write RPC `validate_and_reserve`")
            && found[0].contains("relative `UPDATE wallets`"),
        "{found:?}"
    );
    // The other use case sets a value: nothing to repeat.
    let found = rpc_through_use_case("rename_user", "create_user_use_case");
    assert_eq!(found, Vec::<String>::new());
    // A check that changes nothing is a read RPC, not judged.
    let found = rpc_through_use_case("validate_movement", "process_movement_use_case");
    assert_eq!(found, Vec::<String>::new());
}

/// A Kafka handler that publishes what `transition` (a guarded status update, or a plain
/// insert) returns, reached through `how` (`if let` or `match`).
fn publish_after(transition_sql: &str, how: &str) -> Vec<String> {
    let handler = format!(
        r#"
use rdkafka::producer::{{FutureProducer, FutureRecord}};

async fn transition(pool: &sqlx::PgPool, id: &str) -> Result<String, sqlx::Error> {{
    sqlx::query_scalar("{transition_sql}").bind(id).fetch_one(pool).await
}}

pub async fn on_order_completed(pool: &sqlx::PgPool, payload: &[u8]) -> anyhow::Result<()> {{
    let producer: FutureProducer = rdkafka::ClientConfig::new().create()?;
    let id = String::from_utf8_lossy(payload).to_string();
    {how}
    Ok(())
}}
"#
    );
    one_service(
        &["rdkafka", "sqlx", "tokio", "serde_json"],
        &[("src/main.rs", KAFKA_LOOP), ("src/handler.rs", &handler)],
    )
}

const IF_LET_OK: &str = r#"if let Ok(order) = transition(pool, &id).await {
        let _ = producer.send(FutureRecord::to("orders.shipped").key(&order).payload(&order), std::time::Duration::from_secs(1)).await;
    }"#;

const MATCH_OK: &str = r#"match transition(pool, &id).await {
        Ok(order) => {
            let _ = producer.send(FutureRecord::to("orders.shipped").key(&order).payload(&order), std::time::Duration::from_secs(1)).await;
        }
        Err(e) => eprintln!("not shipped: {e}"),
    }"#;

#[test]
fn a_publish_gated_on_a_guarded_transition_is_claimed() {
    let guarded =
        "UPDATE orders SET status = 'shipped' WHERE id = $1 AND status = 'paid' RETURNING id";
    assert_eq!(publish_after(guarded, IF_LET_OK), Vec::<String>::new());
    assert_eq!(publish_after(guarded, MATCH_OK), Vec::<String>::new());
    // A plain insert claims nothing: the gated publish repeats.
    let insert = "INSERT INTO shipments (order_id) VALUES ($1) RETURNING order_id";
    for how in [IF_LET_OK, MATCH_OK] {
        let found = publish_after(insert, how);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("publish to `orders.shipped`"),
            "{found:?}"
        );
    }
}

/// A caller that records its start (`before`), then hands a closure running `per_message` to a
/// consuming wrapper.
fn callback_consumer_with_setup(before: &str, per_message: &str) -> String {
    format!(
        r#"
{STREAMS_MOD}

#[tokio::main]
async fn main() -> anyhow::Result<()> {{
    let pool = sqlx::PgPool::connect("postgres://db/items").await?;
    listen(pool).await
}}

async fn listen(pool: sqlx::PgPool) -> anyhow::Result<()> {{
    {before}
    streams::consume("redis://redis", move |body| {{
        let pool = pool.clone();
        async move {{
            {per_message}
            Ok(())
        }}
    }})
    .await
}}
"#
    )
}

#[test]
fn only_the_closure_given_to_a_consuming_wrapper_runs_per_message() {
    let insert_run =
        r#"sqlx::query("INSERT INTO runs (started) VALUES (now())").execute(&pool).await?;"#;
    let insert_item =
        r#"sqlx::query("INSERT INTO items (body) VALUES ($1)").bind(&body).execute(&pool).await?;"#;
    // Set-up before the subscription runs once, not per message.
    let found = one_service(
        REDIS_DEPS,
        &[("src/main.rs", &callback_consumer_with_setup(insert_run, ""))],
    );
    assert_eq!(found, Vec::<String>::new());
    // The same kind of insert inside the closure repeats with every redelivery.
    let found = one_service(
        REDIS_DEPS,
        &[(
            "src/main.rs",
            &callback_consumer_with_setup("", insert_item),
        )],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("`INSERT INTO items`"), "{found:?}");
}

/// A Kafka loop handing each deserialised event to `charge`, then storing and announcing it:
/// steps of one handler, called one after another.
const STEPS_IN_ONE_LOOP: &str = r#"
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Message;

#[derive(serde::Deserialize, serde::Serialize)]
struct OrderPlaced {
    order_id: i64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let pool = sqlx::PgPool::connect("postgres://db/payments").await?;
    let producer: FutureProducer = rdkafka::ClientConfig::new().create()?;
    let consumer: StreamConsumer = rdkafka::ClientConfig::new().create()?;
    consumer.subscribe(&["orders"])?;
    loop {
        let message = consumer.recv().await?;
        let event: OrderPlaced = serde_json::from_slice(message.payload().unwrap_or_default())?;
        charge(&event).await?;
        store_payment(&pool, event.order_id).await?;
        announce(&producer, &event).await?;
    }
}

async fn charge(event: &OrderPlaced) -> anyhow::Result<()> {
    reqwest::Client::new().post("http://psp/charges").json(event).send().await?;
    Ok(())
}

async fn store_payment(pool: &sqlx::PgPool, order_id: i64) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO payments (order_id) VALUES ($1)").bind(order_id).execute(pool).await?;
    Ok(())
}

async fn announce(producer: &FutureProducer, event: &OrderPlaced) -> anyhow::Result<()> {
    let body = serde_json::to_vec(event)?;
    let _ = producer.send(FutureRecord::to("payments").key("k").payload(&body), None).await;
    Ok(())
}
"#;

#[test]
fn steps_a_loop_calls_one_after_another_are_one_handler_reported_at_the_loop() {
    let deps = &[
        "rdkafka",
        "sqlx",
        "tokio",
        "serde",
        "serde_json",
        "reqwest",
        "anyhow",
    ];
    let found = one_service(deps, &[("src/main.rs", STEPS_IN_ONE_LOOP)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("message handler `main`")
            && found[0].contains("`INSERT INTO payments`")
            && found[0].contains("POST"),
        "{found:?}"
    );
}

/// A consumer that sweeps expired reservations before its own work: the rows it picks by
/// state (`released = false`) and the update that moves each one on.
fn sweeping_handler(mark_released: &str) -> String {
    format!(
        r#"
pub async fn on_order_completed(pool: &sqlx::PgPool, payload: &[u8]) -> anyhow::Result<()> {{
    let _event: serde_json::Value = serde_json::from_slice(payload)?;
    let mut tx = pool.begin().await?;
    let expired: Vec<(i64, i64, i32)> = sqlx::query_as(
        "SELECT id, product_id, qty FROM reservations WHERE expires_at <= now() AND released = false FOR UPDATE",
    )
    .fetch_all(&mut *tx)
    .await?;
    for (id, product_id, qty) in expired {{
        sqlx::query("UPDATE inventory SET reserved = reserved - $1 WHERE product_id = $2")
            .bind(qty)
            .bind(product_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("{mark_released}")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }}
    tx.commit().await?;
    Ok(())
}}
"#
    )
}

#[test]
fn a_sweep_that_moves_each_picked_row_out_of_its_state_claims_it() {
    let found = one_service(
        KAFKA_DEPS,
        &[
            ("src/main.rs", KAFKA_LOOP),
            (
                "src/handler.rs",
                &sweeping_handler("UPDATE reservations SET released = true WHERE id = $1"),
            ),
        ],
    );
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_sweep_that_leaves_the_picked_rows_in_their_state_is_reported() {
    // The rows keep `released = false`, so a redelivery releases the same stock again.
    let found = one_service(
        KAFKA_DEPS,
        &[
            ("src/main.rs", KAFKA_LOOP),
            (
                "src/handler.rs",
                &sweeping_handler("UPDATE reservations SET updated_at = now() WHERE id = $1"),
            ),
        ],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("relative `UPDATE inventory`"),
        "{found:?}"
    );
}

#[test]
fn a_handler_named_for_a_domain_claim_is_no_claim_guard() {
    // `process_insurance_claim` handles an insurance claim; it claims no message.
    let handler = r#"
pub async fn on_order_completed(pool: &sqlx::PgPool, payload: &[u8]) -> anyhow::Result<()> {
    let event: serde_json::Value = serde_json::from_slice(payload)?;
    process_insurance_claim(pool, event["policy"].as_str().unwrap_or_default()).await
}

async fn process_insurance_claim(pool: &sqlx::PgPool, policy: &str) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO claim_payouts (policy, amount) VALUES ($1, 100)")
        .bind(policy)
        .execute(pool)
        .await?;
    Ok(())
}
"#;
    let found = kafka_consumer(handler);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`INSERT INTO claim_payouts`"),
        "{found:?}"
    );
}

#[test]
fn a_handler_claiming_the_message_id_first_is_silent() {
    let handler = r#"
pub async fn on_order_completed(pool: &sqlx::PgPool, payload: &[u8]) -> anyhow::Result<()> {
    let event: serde_json::Value = serde_json::from_slice(payload)?;
    if !try_claim_message(pool, event["id"].as_str().unwrap_or_default()).await? {
        return Ok(());
    }
    sqlx::query("INSERT INTO claim_payouts (policy, amount) VALUES ($1, 100)")
        .bind(event["policy"].as_str())
        .execute(pool)
        .await?;
    Ok(())
}

async fn try_claim_message(pool: &sqlx::PgPool, id: &str) -> anyhow::Result<bool> {
    let _ = (pool, id);
    Ok(true)
}
"#;
    let found = kafka_consumer(handler);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn inserts_into_a_table_named_for_token_transfers_count() {
    // `refresh_tokens` is a harmless table; `token_transfers` moves money.
    let handler = |table: &str| {
        format!(
            r#"
pub async fn on_order_completed(pool: &sqlx::PgPool, payload: &[u8]) -> anyhow::Result<()> {{
    let event: serde_json::Value = serde_json::from_slice(payload)?;
    sqlx::query("INSERT INTO {table} (account, amount) VALUES ($1, 10)")
        .bind(event["account"].as_str())
        .execute(pool)
        .await?;
    Ok(())
}}
"#
        )
    };
    let transfers = handler("token_transfers");
    let found = kafka_consumer(&transfers);
    assert_eq!(found.len(), 1, "{found:?}");
    let tokens = handler("refresh_tokens");
    let found = kafka_consumer(&tokens);
    assert!(found.is_empty(), "{found:?}");
}

/// A `POST` handler whose writes run in a closure that a helper runs only for an order in an
/// expected state: the helper looks the order up and hands `checked` to `check_status`.
fn state_checked_by_helper(checked: &str) -> String {
    let main = axum_pool_main("orders", "/orders/pay", "pay_order");
    format!(
        r#"
use axum::routing::post;
use axum::{{extract::State, Router}};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Status {{ Held, Paid }}

struct Order {{ id: String, status: Status }}

struct OrderStore {{ pool: sqlx::PgPool }}

impl OrderStore {{
    async fn get_with_lines(&self, id: &str) -> Result<Order, String> {{
        let _ = sqlx::query("SELECT id, status FROM orders WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Order {{ id: id.to_owned(), status: Status::Held }})
    }}
}}

fn check_status(operation: &str, current: Status, expected: &[Status]) -> Result<(), String> {{
    if expected.contains(&current) {{ Ok(()) }} else {{ Err(format!("{{operation}}: {{current:?}}")) }}
}}

async fn in_status<F, Fut>(store: &OrderStore, id: &str, expected: &[Status], operation: F) -> Result<(), String>
where
    F: FnOnce(Order) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{{
    let order = store.get_with_lines(id).await?;
    let requested = Status::Held;
    check_status("pay", {checked}, expected)?;
    operation(order).await
}}

{main}

async fn pay_order(State(pool): State<sqlx::PgPool>) -> Result<(), String> {{
    let store = OrderStore {{ pool: pool.clone() }};
    let result = in_status(&store, "o-1", &[Status::Held], |order| async move {{
        sqlx::query("UPDATE accounts SET balance = balance - 10 WHERE order_id = $1")
            .bind(&order.id)
            .execute(&pool)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query("UPDATE orders SET status = 'paid' WHERE id = $1")
            .bind(&order.id)
            .execute(&pool)
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }})
    .await;
    match result {{
        Ok(()) => Ok(()),
        Err(e) => Err(e),
    }}
}}
"#
    )
}

#[test]
fn a_helper_checking_the_looked_up_state_guards_the_work_it_runs() {
    let found = one_service(
        AXUM_DEPS,
        &[("src/main.rs", &state_checked_by_helper("order.status"))],
    );
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_helper_checking_a_state_nobody_looked_up_guards_nothing() {
    let found = one_service(
        AXUM_DEPS,
        &[("src/main.rs", &state_checked_by_helper("requested"))],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("relative `UPDATE accounts`"), "{found:?}");
}

/// A `POST` handler that creates a row and then calls `helper`, which posts to a webhook.
fn posting_through(helper: &str) -> String {
    let main = axum_pool_main("auth", "/login", "login");
    format!(
        r#"
use axum::routing::post;
use axum::{{extract::State, Router}};

{main}

async fn login(State(pool): State<sqlx::PgPool>) -> Result<(), String> {{
    sqlx::query("INSERT INTO logins (user_id) VALUES ('u')")
        .execute(&pool)
        .await
        .map_err(|e| e.to_string())?;
    {helper}(&reqwest::Client::new(), "u").await;
    Ok(())
}}

async fn {helper}(client: &reqwest::Client, user: &str) {{
    let url = std::env::var("WEBHOOK_URL").unwrap_or_default();
    let _ = client.post(url).json(&user).send().await;
}}
"#
    )
}

#[test]
fn what_a_helper_named_for_activity_does_keeps_a_record() {
    let deps = &["axum", "sqlx", "tokio", "reqwest"];
    let found = one_service(
        deps,
        &[("src/main.rs", &posting_through("emit_login_activity"))],
    );
    assert!(found.is_empty(), "{found:?}");
    let found = one_service(deps, &[("src/main.rs", &posting_through("notify_partner"))]);
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn an_existence_check_asked_of_the_look_up_itself_guards() {
    let check = |condition: &str| {
        axum_service(&format!(
            r#"    let email = "a@b.c";
    let found = sqlx::query("SELECT id FROM users WHERE email = $1").bind(email);
    if {condition} {{
        return Err("exists".to_owned());
    }}"#
        ))
    };
    let looked_up =
        check("found.fetch_optional(&pool).await.map_err(|e| e.to_string())?.is_some()");
    let found = one_service(AXUM_DEPS, &[("src/main.rs", &looked_up)]);
    assert!(found.is_empty(), "{found:?}");
    let own_field = check("email.is_empty()");
    let found = one_service(AXUM_DEPS, &[("src/main.rs", &own_field)]);
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn a_request_sent_by_a_function_named_for_asking_a_model_changes_nothing() {
    let deps = &["axum", "sqlx", "tokio", "reqwest"];
    let found = one_service(
        deps,
        &[("src/main.rs", &posting_through("generate_summary"))],
    );
    assert!(found.is_empty(), "{found:?}");
}

/// A `POST` handler that builds a journal line with `line` and inserts it.
fn journal_handler(line: &str) -> String {
    let main = axum_pool_main("ledger", "/journal", "post_journal");
    format!(
        r#"
use axum::routing::post;
use axum::{{extract::State, Router}};

pub struct JournalLine {{ account: String, cents: i64 }}

impl JournalLine {{
    pub fn debit(account: &str, cents: i64) -> Self {{
        Self {{ account: account.to_owned(), cents }}
    }}
}}

{main}

async fn post_journal(State(pool): State<sqlx::PgPool>) -> Result<(), String> {{
    let line = {line};
    sqlx::query("INSERT INTO journal (account, cents) VALUES ($1, $2)")
        .bind(&line.account)
        .bind(line.cents)
        .execute(&pool)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}}
"#
    )
}

#[test]
fn a_project_method_without_effects_charges_nothing_whatever_its_name() {
    let found = one_service(
        AXUM_DEPS,
        &[(
            "src/main.rs",
            &journal_handler(r#"JournalLine::debit("ar", 100)"#),
        )],
    );
    assert!(found.is_empty(), "{found:?}");
    // A client the workspace does not define is judged by its name.
    let found = one_service(
        AXUM_DEPS,
        &[(
            "src/main.rs",
            &journal_handler(
                r#"{ wallet_api::Client::default().debit("ar", 100); JournalLine::debit("ar", 100) }"#,
            ),
        )],
    );
    assert_eq!(found.len(), 1, "{found:?}");
}

/// A write RPC asking the ledger service to `operation`, handing it `key_argument`.
fn ledger_call(operation: &str, key_argument: &str) -> String {
    format!(
        r#"        let idempotency_key = format!("charge-{{}}", req.sku);
        let mut ledger_client = ledger::ledger_service_client::LedgerServiceClient::connect("http://ledger:50051")
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        ledger_client
            .{operation}(tonic::Request::new(ledger::Entry {{ sku: req.sku.clone(), key: {key_argument} }}))
            .await?;"#
    )
}

#[test]
fn a_write_rpc_moving_money_through_another_service_is_judged_and_a_plain_remote_create_is_not() {
    let found = tonic_service("book_sale", &ledger_call("reserve_funds", "String::new()"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("reserve_funds"), "{found:?}");
    let found = tonic_service("book_sale", &ledger_call("create_account", "String::new()"));
    assert!(found.is_empty(), "a plain create over there: {found:?}");
}

#[test]
fn an_idempotency_key_handed_to_the_call_dedupes_it() {
    let found = tonic_service(
        "book_sale",
        &ledger_call("reserve_funds", "idempotency_key.clone()").replace(
            "key: idempotency_key.clone()",
            "idempotency_key: idempotency_key.clone()",
        ),
    );
    assert!(found.is_empty(), "a key in the request message: {found:?}");
    let handed = ledger_call("reserve_funds", "String::new()").replace(
        ".reserve_funds(tonic::Request::new(",
        ".reserve_funds(&idempotency_key, tonic::Request::new(",
    );
    let found = tonic_service("book_sale", &handed);
    assert!(found.is_empty(), "a key handed to the client: {found:?}");
}

/// A POST handler that checks `precondition`, makes sure the customer's holdings row exists
/// (`INSERT .. ON CONFLICT DO NOTHING`, read back), sums the open orders, places an order and
/// moves shares.
fn place_order_service(record: &str, precondition: &str, table: &str) -> String {
    let main = axum_pool_main("exchange", "/orders", "place_order");
    format!(
        r#"
use axum::routing::post;
use axum::{{extract::State, Router}};

{main}

async fn place_order(State(pool): State<sqlx::PgPool>) -> Result<(), String> {{
    let {record} = sqlx::query_as::<_, (String,)>("SELECT status FROM {table} WHERE id = 7")
        .fetch_optional(&pool)
        .await
        .map_err(|e| e.to_string())?;
{precondition}
    sqlx::query("INSERT INTO holdings (user_id, shares) VALUES (1, 0) ON CONFLICT (user_id) DO NOTHING")
        .execute(&pool)
        .await
        .map_err(|e| e.to_string())?;
    let _shares = sqlx::query_as::<_, (i64,)>("SELECT shares FROM holdings WHERE user_id = 1")
        .fetch_one(&pool)
        .await
        .map_err(|e| e.to_string())?;
    let _locked = sqlx::query_as::<_, (i64,)>("SELECT SUM(price) FROM orders WHERE user_id = 1 AND status = 'open'")
        .fetch_one(&pool)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query("UPDATE holdings SET shares = shares - 1 WHERE user_id = 1")
        .execute(&pool)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query("UPDATE orders SET status = 'open' WHERE id = 7")
        .execute(&pool)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}}
"#
    )
}

#[test]
fn a_precondition_on_another_table_a_get_or_create_and_an_aggregate_guard_nothing() {
    // The market's state decides whether an order may be placed, not whether this one was:
    // a retry finds the market open again, the holdings row there, the sum computed.
    let precondition = r#"    if market.is_none() { return Err("no market".into()); }
    if market.unwrap().0 == "settled" { return Err("market settled".into()); }"#;
    let found = one_service(
        AXUM_DEPS,
        &[(
            "src/main.rs",
            &place_order_service("market", precondition, "markets"),
        )],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("POST handler `place_order`")
            && found[0].contains("relative `UPDATE holdings`"),
        "{found:?}"
    );
}

#[test]
fn a_state_check_of_the_row_the_handler_moves_on_is_a_guard() {
    // The order's own status, which the handler sets: a retry finds it moved on and stops.
    let precondition = r#"    if order.is_none() { return Err("no order".into()); }
    if order.unwrap().0 != "pending" { return Ok(()); }"#;
    let found = one_service(
        AXUM_DEPS,
        &[(
            "src/main.rs",
            &place_order_service("order", precondition, "orders"),
        )],
    );
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_message_to_an_actor_the_project_does_not_define_sends_nothing_out() {
    // `sessions.send(..)` hands a message to another crate's actor; only the plain insert
    // is seen, which alone does not make a POST handler's retry harmful.
    let main = r#"
use actix_web::{post, web, HttpResponse};

pub struct Joined { pub user: String }

#[post("/rooms")]
async fn join_room(pool: web::Data<sqlx::PgPool>, sessions: web::Data<actix::Addr<chat::Sessions>>, body: String) -> HttpResponse {
    if sqlx::query("INSERT INTO members (name) VALUES ($1)").bind(&body).execute(pool.get_ref()).await.is_err() {
        return HttpResponse::InternalServerError().finish();
    }
    let _ = sessions.send(Joined { user: body }).await;
    HttpResponse::Ok().finish()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    actix_web::HttpServer::new(|| actix_web::App::new().service(join_room))
        .bind("0.0.0.0:8080")?
        .run()
        .await
}
"#;
    let found = one_service(&["actix", "actix-web", "sqlx"], &[("src/main.rs", main)]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn rows_already_listed_end_the_handler_and_a_missing_list_does_not() {
    let listing = r#"    let done = sqlx::query("SELECT id FROM stock_changes WHERE request_id = 'r-1'")
        .fetch_all(&pool)
        .await
        .map_err(|e| e.to_string())?;"#;
    // A repeat finds the change it made and stops.
    for found_rows in ["!done.is_empty()", "done.len() > 0", "done.len() >= 1"] {
        let guard = format!("{listing}\n    if {found_rows} {{ return Ok(()); }}");
        let found = one_service(AXUM_DEPS, &[("src/main.rs", &axum_service(&guard))]);
        assert!(found.is_empty(), "{found_rows}: {found:?}");
    }
    // Nothing found, or fewer than asked for: a precondition a repeat passes again.
    for precondition in ["done.is_empty()", "done.len() < 2"] {
        let guard = format!("{listing}\n    if {precondition} {{ return Err(\"none\".into()); }}");
        let found = one_service(AXUM_DEPS, &[("src/main.rs", &axum_service(&guard))]);
        assert_eq!(found.len(), 1, "{precondition}: {found:?}");
    }
}

/// A JetStream consumer handing each message to `forward`, in a crate with socket.io.
fn socket_forwarding_consumer(forward: &str) -> String {
    format!(
        r#"
use futures::StreamExt;

pub struct Bus;

impl Bus {{
    pub async fn emit(&self, subject: &str, body: &[u8]) {{
        let _ = (subject, body);
    }}
}}

#[tokio::main]
async fn main() -> anyhow::Result<()> {{
    let (_layer, socket) = socketioxide::SocketIo::new_layer();
    let bus = Bus;
    let client = async_nats::connect("nats://nats:4222").await?;
    let jetstream = async_nats::jetstream::new(client);
    let consumer: async_nats::jetstream::consumer::PullConsumer =
        jetstream.get_consumer_from_stream("items", "ITEMS").await?;
    let mut messages = consumer.messages().await?;
    while let Some(message) = messages.next().await {{
        let message = message?;
        relay(&socket, &bus, &message.payload).await;
        message.ack().await.ok();
    }}
    Ok(())
}}

async fn relay(socket: &socketioxide::SocketIo, bus: &Bus, payload: &[u8]) {{
    let _ = (socket, bus);
    {forward}
}}
"#
    )
}

#[test]
fn a_socket_io_emit_to_connected_clients_is_no_publish() {
    let deps = &["async-nats", "socketioxide", "tokio", "futures", "anyhow"];
    let to_clients = socket_forwarding_consumer(r#"let _ = socket.emit("/", payload.to_vec());"#);
    let found = one_service(deps, &[("src/main.rs", &to_clients)]);
    assert!(found.is_empty(), "{found:?}");
    // The project's own `emit` wrapper on another receiver is still a publish.
    let to_bus = socket_forwarding_consumer(r#"bus.emit("items.seen", payload).await;"#);
    let found = one_service(deps, &[("src/main.rs", &to_bus)]);
    assert_eq!(found.len(), 1, "{found:?}");
}
