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

#[test]
fn only_the_published_type_counts_not_rows_or_response_bodies() {
    // One handler builds a row it inserts, an event it publishes through a generic helper,
    // and a response body; the others answer with axum, actix and warp response builders
    // next to a direct publish.
    let checked = check(
        &[ServiceCrate {
            name: "orders",
            dependencies: &[
                "actix-web",
                "axum",
                "warp",
                "lapin",
                "diesel",
                "diesel-async",
                "serde",
                "serde_json",
            ],
            files: &[(
                "src/main.rs",
                r#"
use serde::Serialize;

#[derive(Serialize, diesel::Insertable)]
#[diesel(table_name = order_lines)]
pub struct OrderLineRow { pub order_id: i64, pub sku: String }

#[derive(Serialize)]
pub struct OrderPlaced { pub order_id: i64 }

#[derive(Serialize)]
pub struct Created { pub id: i64 }

#[derive(Serialize)]
pub struct HoldResponse { pub hold_id: i64 }

#[derive(Serialize)]
pub struct Accepted { pub id: i64 }

pub async fn publish_json<T: Serialize>(channel: &lapin::Channel, exchange: &str, key: &str, payload: &T) -> anyhow::Result<()> {
    let body = serde_json::to_vec(payload)?;
    channel.basic_publish(exchange, key, Default::default(), &body, Default::default()).await?;
    Ok(())
}

pub async fn create_order(channel: &lapin::Channel, conn: &mut diesel_async::AsyncPgConnection, order_id: i64) -> anyhow::Result<actix_web::HttpResponse> {
    let rows: Vec<OrderLineRow> = vec![OrderLineRow { order_id, sku: "a".into() }];
    diesel::insert_into(order_lines::table).values(&rows).execute(conn).await?;
    let event = OrderPlaced { order_id };
    publish_json(channel, "orders", "order.placed", &event).await?;
    Ok(actix_web::HttpResponse::Created().json(Created { id: order_id }))
}

pub async fn create_hold(channel: &lapin::Channel, hold_id: i64) -> Result<impl warp::Reply, warp::Rejection> {
    if hold_id == 0 {
        return Ok(warp::reply::json(&HoldResponse { hold_id }));
    }
    let payload = serde_json::to_vec(&OrderPlaced { order_id: hold_id }).unwrap_or_default();
    let _ = channel.basic_publish("holds", "hold.placed", Default::default(), &payload, Default::default()).await;
    Ok(warp::reply::json(&HoldResponse { hold_id }))
}

pub async fn accept(channel: &lapin::Channel, id: i64) -> axum::Json<Accepted> {
    let _ = publish_json(channel, "orders", "order.accepted", &OrderPlaced { order_id: id }).await;
    axum::Json(Accepted { id })
}
"#,
            )],
        }],
        None,
    );
    let found = checked.of("unversioned-event");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("event `OrderPlaced` is published"),
        "{found:#?}"
    );
}

const SQS: &[&str] = &["axum", "aws-sdk-sqs", "serde", "serde_json"];

fn booking(versioned: bool) -> Checked {
    let (envelope_fields, version) = if versioned {
        ("pub version: u16,", "version: 1,")
    } else {
        ("", "")
    };
    let source = format!(
        r#"
use serde::Serialize;

#[derive(Serialize)]
pub struct CommandEnvelope<C> {{ {envelope_fields} pub command_id: u64, pub command: C }}

impl<C> CommandEnvelope<C> {{
    pub fn new(command: C) -> Self {{
        Self {{ {version} command_id: 7, command }}
    }}
}}

#[derive(Serialize)]
#[serde(tag = "type")]
pub enum FlightCommand {{
    HoldSeats {{ hold_id: u64, seats: i32 }},
    ReleaseSeats {{ hold_id: u64 }},
}}

async fn send_command(sqs: &aws_sdk_sqs::Client, cmd: FlightCommand) -> anyhow::Result<()> {{
    let body = serde_json::to_string(&CommandEnvelope::new(cmd))?;
    sqs.send_message().queue_url("flight-commands").message_body(body).send().await?;
    Ok(())
}}

pub async fn change_flight(sqs: &aws_sdk_sqs::Client, hold_id: u64) -> anyhow::Result<()> {{
    send_command(sqs, FlightCommand::HoldSeats {{ hold_id, seats: 2 }}).await?;
    send_command(sqs, FlightCommand::ReleaseSeats {{ hold_id }}).await?;
    Ok(())
}}
"#
    );
    check(
        &[ServiceCrate {
            name: "booking",
            dependencies: SQS,
            files: &[("src/main.rs", &source)],
        }],
        None,
    )
}

#[test]
fn a_wrapper_that_wraps_its_argument_in_a_versioned_envelope_versions_it() {
    let checked = booking(true);
    assert_eq!(
        checked.of("unversioned-event"),
        Vec::<String>::new(),
        "{:#?}",
        checked.findings
    );
}

#[test]
fn a_wrapper_whose_envelope_has_no_version_publishes_the_command_unversioned() {
    let checked = booking(false);
    let found = checked.of("unversioned-event");
    assert!(
        found
            .iter()
            .any(|f| f.contains("event `FlightCommand` is published")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.contains("event `CommandEnvelope` is published")),
        "{found:#?}"
    );
}

#[test]
fn events_serialized_into_an_outbox_bind_or_a_json_envelope_are_published() {
    let checked = orders(
        r#"
#[derive(Serialize)]
struct OrderCancelled { order_id: i64 }

#[derive(Serialize)]
struct OrderShipped { order_id: i64 }

#[derive(Serialize)]
struct CancelResponse { order_id: i64 }

async fn cancel(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, order_id: i64) -> anyhow::Result<axum::Json<CancelResponse>> {
    let event = OrderCancelled { order_id };
    sqlx::query("INSERT INTO outbox (topic, payload) VALUES ('orders.cancelled', $1)")
        .bind(serde_json::to_value(&event)?)
        .execute(&mut **tx)
        .await?;
    Ok(axum::Json(CancelResponse { order_id }))
}

async fn ship(producer: &FutureProducer, order_id: i64) -> anyhow::Result<()> {
    let shipped = OrderShipped { order_id };
    let body = serde_json::json!({ "type": "order.shipped", "data": shipped });
    producer.send(FutureRecord::to("orders").payload(&body.to_string()), TIMEOUT).await;
    Ok(())
}
"#,
    );
    let found = checked.of("unversioned-event");
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].contains("`OrderCancelled`"), "{found:#?}");
    assert!(found[1].contains("`OrderShipped`"), "{found:#?}");
}

#[test]
fn a_helper_publishing_its_parameter_reports_the_parameter_type() {
    let checked = orders(
        r#"
#[derive(Serialize)]
pub struct PaymentCaptured { pub payment_id: i64 }

pub async fn announce_capture(producer: &FutureProducer, event: &PaymentCaptured) -> anyhow::Result<()> {
    let payload = serde_json::to_vec(event)?;
    producer.send(FutureRecord::to("payments.captured").payload(&payload), TIMEOUT).await;
    Ok(())
}
"#,
    );
    let found = checked.of("unversioned-event");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains(
            "`PaymentCaptured` is published to `payments.captured` by `announce_capture`"
        ),
        "{found:#?}"
    );
}

/// A sea-orm outbox row whose subject comes from a constant of another module.
fn outbox_row(subject: &str) -> Checked {
    let subjects = format!("pub const PAYMENT_COMPLETED: &str = \"{subject}\";\n");
    let main = r#"
use sea_orm::{ActiveModelTrait, Set};
use serde::Serialize;
mod subjects;

#[derive(Serialize)]
pub struct PaymentCompleted { pub order_id: i64 }

pub async fn complete(txn: &sea_orm::DatabaseTransaction, order_id: i64) -> anyhow::Result<()> {
    let (subject, payload) = (
        subjects::PAYMENT_COMPLETED,
        serde_json::to_value(PaymentCompleted { order_id })?,
    );
    payments_outbox::ActiveModel {
        subject: Set(subject.to_owned()),
        payload: Set(payload),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}
"#;
    check(
        &[ServiceCrate {
            name: "payments",
            dependencies: &["axum", "async-nats", "sea-orm", "serde", "serde_json"],
            files: &[("src/main.rs", main), ("src/subjects.rs", &subjects)],
        }],
        None,
    )
}

#[test]
fn an_orm_outbox_row_publishes_its_payload() {
    let checked = outbox_row("payments.completed");
    let found = checked.of("unversioned-event");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`PaymentCompleted` is published by `complete`"),
        "{found:#?}"
    );
}

#[test]
fn a_versioned_subject_on_the_outbox_row_versions_it() {
    let checked = outbox_row("payments.v1.completed");
    assert_eq!(
        checked.of("unversioned-event"),
        Vec::<String>::new(),
        "{:#?}",
        checked.findings
    );
}

/// An event wrapped in an envelope whose metadata struct is `meta`, written to the outbox.
fn enveloped(meta_fields: &str, subject: &str) -> Checked {
    let source = format!(
        r#"
use serde::Serialize;

#[derive(Serialize)]
pub struct Envelope<T> {{ pub meta: EventMeta, pub payload: T }}

#[derive(Serialize)]
pub struct EventMeta {{ pub event_id: uuid::Uuid, {meta_fields} }}

#[derive(Serialize)]
pub struct BookingConfirmed {{ pub booking_id: uuid::Uuid }}

impl<T> Envelope<T> {{
    pub fn new(payload: T) -> Self {{ todo!() }}
}}

pub const BOOKING_CONFIRMED: &str = "{subject}";

pub async fn enqueue(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, booking_id: uuid::Uuid) -> sqlx::Result<()> {{
    let evt = Envelope::new(BookingConfirmed {{ booking_id }});
    sqlx::query("INSERT INTO outbox (subject, payload) VALUES ($1, $2)")
        .bind(BOOKING_CONFIRMED)
        .bind(sqlx::types::Json(&evt))
        .execute(&mut **tx)
        .await?;
    Ok(())
}}
"#
    );
    orders(&source)
}

#[test]
fn a_version_in_the_envelope_metadata_struct_versions_the_event() {
    let checked = enveloped("pub schema_version: u16", "booking.confirmed");
    assert_eq!(
        checked.of("unversioned-event"),
        Vec::<String>::new(),
        "{:#?}",
        checked.findings
    );
}

#[test]
fn an_envelope_metadata_struct_without_a_version_does_not_version_the_event() {
    let checked = enveloped("pub occurred_at: i64", "booking.confirmed");
    let found = checked.of("unversioned-event");
    assert!(
        found.iter().any(|f| f.contains("`Envelope`"))
            && found.iter().any(|f| f.contains("`BookingConfirmed`")),
        "{found:#?}"
    );
    // The metadata struct sits inside the envelope: a value, not an event.
    assert!(
        !found.iter().any(|f| f.contains("`EventMeta`")),
        "{found:#?}"
    );
}

#[test]
fn a_version_on_a_value_field_is_no_schema_version() {
    let checked = orders(
        r#"
#[derive(Serialize)]
pub struct Product { pub sku: String, pub version: u32 }
#[derive(Serialize)]
pub struct ProductRenamed { pub product: Product, pub name: String }
pub async fn announce(producer: &FutureProducer, product: Product, name: String) -> anyhow::Result<()> {
    let payload = serde_json::to_vec(&ProductRenamed { product, name })?;
    producer.send(FutureRecord::to("catalog.products").payload(&payload), TIMEOUT).await;
    Ok(())
}
"#,
    );
    let found = checked.of("unversioned-event");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("`ProductRenamed`"), "{found:#?}");
}

#[test]
fn a_versioned_subject_bound_into_the_outbox_row_versions_the_event() {
    let checked = enveloped("pub occurred_at: i64", "booking.v1.confirmed");
    assert_eq!(
        checked.of("unversioned-event"),
        Vec::<String>::new(),
        "{:#?}",
        checked.findings
    );
}

fn sql_subject(subject: &str) -> Checked {
    let source = format!(
        r#"
#[derive(Serialize)]
pub struct BookingCancelled {{ pub booking_id: i64 }}

pub async fn enqueue(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, booking_id: i64) -> sqlx::Result<()> {{
    sqlx::query("INSERT INTO outbox (subject, payload) VALUES ('{subject}', $1)")
        .bind(sqlx::types::Json(&BookingCancelled {{ booking_id }}))
        .execute(&mut **tx)
        .await?;
    Ok(())
}}
"#
    );
    orders(&source)
}

#[test]
fn a_versioned_subject_literal_in_the_outbox_insert_versions_the_event() {
    let checked = sql_subject("booking.v1.cancelled");
    assert_eq!(
        checked.of("unversioned-event"),
        Vec::<String>::new(),
        "{:#?}",
        checked.findings
    );
    let checked = sql_subject("booking.cancelled");
    let found = checked.of("unversioned-event");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("`BookingCancelled`"), "{found:#?}");
}

#[test]
fn value_types_nested_in_the_payload_are_not_events() {
    let checked = orders(
        r#"
#[derive(Serialize)]
pub enum Currency { Eur, Usd }
#[derive(Serialize)]
pub struct Money { pub amount: i64, pub currency: Currency }
#[derive(Serialize)]
pub struct OrderPlaced { pub order_id: i64, pub total: Money, pub lines: Vec<Line> }
#[derive(Serialize)]
pub struct Line { pub sku: String, pub price: Money }

pub async fn announce(producer: &FutureProducer, order_id: i64) -> anyhow::Result<()> {
    let total = Money { amount: 100, currency: Currency::Eur };
    let event = OrderPlaced {
        order_id,
        total,
        lines: vec![Line { sku: "a".into(), price: Money { amount: 100, currency: Currency::Eur } }],
    };
    let payload = serde_json::to_vec(&event)?;
    producer.send(FutureRecord::to("orders.placed").payload(&payload), TIMEOUT).await;
    Ok(())
}
"#,
    );
    let found = checked.of("unversioned-event");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("`OrderPlaced`"), "{found:#?}");
}

#[test]
fn a_value_type_published_on_its_own_is_an_event() {
    let checked = orders(
        r#"
#[derive(Serialize)]
pub enum Currency { Eur, Usd }
#[derive(Serialize)]
pub struct Money { pub amount: i64, pub currency: Currency }

pub async fn announce(producer: &FutureProducer) -> anyhow::Result<()> {
    let payload = serde_json::to_vec(&Money { amount: 100, currency: Currency::Eur })?;
    producer.send(FutureRecord::to("prices.changed").payload(&payload), TIMEOUT).await;
    Ok(())
}
"#,
    );
    let found = checked.of("unversioned-event");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("`Money`"), "{found:#?}");
}

#[test]
fn a_versioned_subject_next_to_a_serialized_bind_versions_the_event() {
    let source = |topic: &str| {
        format!(
            r#"
#[derive(Serialize)]
struct OrderCancelled {{ order_id: i64 }}

async fn cancel(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, order_id: i64) -> anyhow::Result<()> {{
    let event = OrderCancelled {{ order_id }};
    sqlx::query("INSERT INTO outbox (topic, payload) VALUES ($1, $2)")
        .bind({topic})
        .bind(serde_json::to_value(&event)?)
        .execute(&mut **tx)
        .await?;
    Ok(())
}}
"#
        )
    };
    let checked = orders(&source("\"orders.v2.cancelled\""));
    assert_eq!(
        checked.of("unversioned-event"),
        Vec::<String>::new(),
        "{:#?}",
        checked.findings
    );
    let checked = orders(&source("\"orders.cancelled\""));
    let found = checked.of("unversioned-event");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("`OrderCancelled`"), "{found:#?}");
}
