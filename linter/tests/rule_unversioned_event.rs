//! `unversioned-event`: event types published without a schema version.

mod behaviour_support;
use behaviour_support::*;

const KAFKA: &[&str] = &["axum", "rdkafka", "serde", "serde_json", "sqlx"];

fn orders(source: &str) -> Checked {
    check(
        &[ServiceCrate {
            name: "orders",
            dependencies: KAFKA,
            files: &[("src/main.rs", source)],
        }],
        None,
    )
}

#[test]
fn a_plain_event_published_to_kafka_is_reported_at_the_type() {
    let checked = orders(
        r#"
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct OrderPlaced {
    pub order_id: uuid::Uuid,
    pub total_cents: i64,
}

pub async fn announce(producer: &FutureProducer, order_id: uuid::Uuid, total_cents: i64) -> anyhow::Result<()> {
    let payload = serde_json::to_vec(&OrderPlaced { order_id, total_cents })?;
    producer
        .send(FutureRecord::to("orders.placed").key(&order_id.to_string()).payload(&payload), std::time::Duration::from_secs(5))
        .await
        .map_err(|(e, _)| e)?;
    Ok(())
}
"#,
    );
    let found = checked.of("unversioned-event");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("line 6:"), "{found:#?}");
    assert!(
        found[0].contains("`OrderPlaced` is published to `orders.placed` by `announce`"),
        "{found:#?}"
    );
}

#[test]
fn a_version_field_an_envelope_or_a_versioned_topic_is_enough() {
    for source in [
        // A version field.
        r#"
#[derive(Serialize)]
pub struct OrderPlaced { pub schema_version: u16, pub order_id: uuid::Uuid }
pub async fn announce(producer: &FutureProducer, order_id: uuid::Uuid) -> anyhow::Result<()> {
    let payload = serde_json::to_vec(&OrderPlaced { schema_version: 1, order_id })?;
    producer.send(FutureRecord::to("orders.placed").payload(&payload), TIMEOUT).await;
    Ok(())
}
"#,
        // A versioned envelope around it.
        r#"
#[derive(Serialize)]
pub struct Envelope<T> { pub version: u32, pub data: T }
#[derive(Serialize)]
pub struct OrderPlaced { pub order_id: uuid::Uuid }
pub async fn announce(nats: &async_nats::Client, order_id: uuid::Uuid) -> anyhow::Result<()> {
    let event = Envelope { version: 2, data: OrderPlaced { order_id } };
    nats.publish("orders.placed", serde_json::to_vec(&event)?.into()).await?;
    Ok(())
}
"#,
        // A versioned topic.
        r#"
#[derive(Serialize)]
pub struct OrderPlaced { pub order_id: uuid::Uuid }
pub async fn announce(producer: &FutureProducer, order_id: uuid::Uuid) -> anyhow::Result<()> {
    let payload = serde_json::to_vec(&OrderPlaced { order_id })?;
    producer.send(FutureRecord::to("orders.v1.placed").payload(&payload), TIMEOUT).await;
    Ok(())
}
"#,
        // A versioned serde tag.
        r#"
#[derive(Serialize)]
#[serde(tag = "type")]
pub enum OrderEvent {
    #[serde(rename = "order.placed.v1")]
    Placed { order_id: uuid::Uuid },
}
pub async fn announce(producer: &FutureProducer, order_id: uuid::Uuid) -> anyhow::Result<()> {
    let payload = serde_json::to_vec(&OrderEvent::Placed { order_id })?;
    producer.send(FutureRecord::to("orders").payload(&payload), TIMEOUT).await;
    Ok(())
}
"#,
        // Serialized but never published: a response body.
        r#"
#[derive(Serialize)]
pub struct OrderCreated { pub order_id: uuid::Uuid }
pub async fn create(Json(body): Json<NewOrder>) -> Json<OrderCreated> {
    Json(OrderCreated { order_id: body.id })
}
"#,
    ] {
        let checked = orders(source);
        assert_eq!(
            checked.of("unversioned-event"),
            Vec::<String>::new(),
            "{source}"
        );
    }
}

#[test]
fn an_event_written_to_the_outbox_counts_as_published() {
    let checked = orders(
        r#"
#[derive(Serialize)]
struct OrderCancelled { order_id: i64 }

async fn cancel(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, order_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE orders SET status = 'cancelled' WHERE id = $1").bind(order_id).execute(&mut **tx).await?;
    let payload = serde_json::to_value(OrderCancelled { order_id }).unwrap_or_default();
    sqlx::query("INSERT INTO outbox (topic, payload) VALUES ('orders.cancelled', $1)").bind(payload).execute(&mut **tx).await?;
    Ok(())
}
"#,
    );
    let found = checked.of("unversioned-event");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("`OrderCancelled`"), "{found:#?}");
}
