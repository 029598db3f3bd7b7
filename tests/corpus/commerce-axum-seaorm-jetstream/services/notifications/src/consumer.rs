//! Customer e-mails for payment receipts and shipments.

use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy};
use async_nats::jetstream::{self, Context};
use chrono::Utc;
use events::{subjects, OrderEvent, PaymentCompleted};
use futures::StreamExt;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use uuid::Uuid;

use crate::carriers;
use crate::entity::{notification_log, order_view};
use crate::mailer::{self, Email};

pub struct Ctx {
    pub db: DatabaseConnection,
    pub orders_db: DatabaseConnection,
    pub mail: ureq::Agent,
    pub mailer_url: String,
}

pub async fn run(ctx: Ctx, js: Context) -> anyhow::Result<()> {
    let consumer: pull::Consumer = js
        .get_stream("FLOW")
        .await?
        .get_or_create_consumer(
            "notifications",
            pull::Config {
                durable_name: Some("notifications".into()),
                filter_subjects: vec![subjects::PAYMENT_COMPLETED.into(), subjects::ORDER_EVENTS.into()],
                ack_policy: AckPolicy::Explicit,
                ..Default::default()
            },
        )
        .await?;

    loop {
        let mut batch = consumer
            .fetch()
            .max_messages(50)
            .expires(Duration::from_secs(5))
            .messages()
            .await?;
        while let Some(Ok(msg)) = batch.next().await {
            if let Err(err) = dispatch(&ctx, &msg).await {
                tracing::error!(error = %err, subject = %msg.subject, "notification failed");
                msg.ack_with(jetstream::AckKind::Nak(Some(Duration::from_secs(30)))).await.ok();
                continue;
            }
            msg.ack().await.ok();
        }
    }
}

async fn dispatch(ctx: &Ctx, msg: &jetstream::Message) -> anyhow::Result<()> {
    if msg.subject.as_str() == subjects::PAYMENT_COMPLETED {
        let ev: PaymentCompleted = serde_json::from_slice(&msg.payload)?;
        return send_receipt(ctx, ev).await;
    }
    match serde_json::from_slice::<OrderEvent>(&msg.payload)? {
        OrderEvent::OrderShipped { order_id, carrier, tracking_number } => {
            send_shipped(ctx, order_id, &carrier, &tracking_number).await
        }
        _ => Ok(()),
    }
}

async fn recipient(ctx: &Ctx, order_id: Uuid) -> anyhow::Result<String> {
    let order = order_view::Entity::find_by_id(order_id)
        .one(&ctx.orders_db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("order {order_id} not found"))?;
    Ok(order.customer_email)
}

async fn send_receipt(ctx: &Ctx, ev: PaymentCompleted) -> anyhow::Result<()> {
    let to = recipient(ctx, ev.order_id).await?;
    mailer::send(
        &ctx.mail,
        &ctx.mailer_url,
        &Email {
            to: &to,
            template: "payment-receipt",
            vars: serde_json::json!({ "order_id": ev.order_id, "amount_minor": ev.amount_minor, "currency": ev.currency }),
        },
    )?;
    log_sent(ctx, ev.order_id, "payment-receipt", &to).await
}

async fn send_shipped(ctx: &Ctx, order_id: Uuid, carrier: &str, tracking_number: &str) -> anyhow::Result<()> {
    let to = recipient(ctx, order_id).await?;
    mailer::send(
        &ctx.mail,
        &ctx.mailer_url,
        &Email {
            to: &to,
            template: "order-shipped",
            vars: serde_json::json!({
                "order_id": order_id,
                "tracking_url": carriers::tracking_url(carrier, tracking_number),
            }),
        },
    )?;
    log_sent(ctx, order_id, "order-shipped", &to).await
}

async fn log_sent(ctx: &Ctx, order_id: Uuid, kind: &str, to: &str) -> anyhow::Result<()> {
    notification_log::ActiveModel {
        id: Set(Uuid::new_v4()),
        order_id: Set(order_id),
        kind: Set(kind.to_owned()),
        recipient: Set(to.to_owned()),
        sent_at: Set(Utc::now().into()),
    }
    .insert(&ctx.db)
    .await?;
    Ok(())
}
