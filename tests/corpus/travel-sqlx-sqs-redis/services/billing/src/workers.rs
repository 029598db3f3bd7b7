//! SQS workers: invoice requests from booking's back office, refund requests
//! from customer care.

use std::time::Duration;

use aws_sdk_sqs::types::Message;
use aws_sdk_sqs::Client;
use billing_store::{InvoiceLine, NewInvoice};
use redis::aio::ConnectionManager;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tracing::{error, info, warn};
use uuid::Uuid;

use crate::Ctx;

#[derive(Debug, Deserialize)]
struct InvoiceRequested {
    booking_id: Uuid,
    customer_ref: String,
    route: String,
    currency: String,
    items: Vec<(String, Decimal)>,
}

#[derive(Debug, Serialize)]
struct InvoiceIssued {
    version: u16,
    invoice_id: Uuid,
    booking_id: Uuid,
    total: Decimal,
    currency: String,
}

#[derive(Debug, Deserialize)]
struct RefundRequested {
    charge_id: Uuid,
    amount_minor: i64,
}

async fn receive(sqs: &Client, queue_url: &str) -> Vec<Message> {
    match sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(20)
        .visibility_timeout(60)
        .send()
        .await
    {
        Ok(out) => out.messages.unwrap_or_default(),
        Err(e) => {
            error!(error = %e, queue_url, "receive_message failed");
            tokio::time::sleep(Duration::from_secs(3)).await;
            Vec::new()
        }
    }
}

async fn ack(sqs: &Client, queue_url: &str, msg: &Message) {
    if let Some(handle) = msg.receipt_handle() {
        if let Err(e) = sqs.delete_message().queue_url(queue_url).receipt_handle(handle).send().await {
            warn!(error = %e, "delete_message failed");
        }
    }
}

pub async fn invoice_requests(ctx: Ctx, sqs: Client) {
    let queue = ctx.cfg.queues.invoice_requests.clone();
    loop {
        for msg in receive(&sqs, &queue).await {
            match issue_invoice(&ctx, &sqs, &msg).await {
                Ok(()) => ack(&sqs, &queue, &msg).await,
                Err(e) => error!(error = %e, "invoice request failed"),
            }
        }
    }
}

async fn issue_invoice(ctx: &Ctx, sqs: &Client, msg: &Message) -> anyhow::Result<()> {
    let message_id = msg.message_id().unwrap_or_default();
    let req: InvoiceRequested = serde_json::from_str(msg.body().unwrap_or_default())?;

    let mut tx = ctx.db.begin().await?;
    let first_time = sqlx::query!(
        "INSERT INTO processed_messages (message_id, queue) VALUES ($1, 'invoice-requests') ON CONFLICT (message_id) DO NOTHING",
        message_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !first_time {
        info!(message_id, "duplicate invoice request ignored");
        return Ok(());
    }

    let inv = NewInvoice {
        booking_id: req.booking_id,
        customer_ref: req.customer_ref.clone(),
        route: req.route.clone(),
        currency: req.currency.clone(),
        lines: req
            .items
            .iter()
            .map(|(d, a)| InvoiceLine { description: d.clone(), amount: *a })
            .collect(),
    };
    let invoice_id = ctx.invoices.insert(&mut tx, &inv).await?;
    tx.commit().await?;

    let issued = InvoiceIssued {
        version: 1,
        invoice_id,
        booking_id: req.booking_id,
        total: inv.lines.iter().map(|l| l.amount).sum(),
        currency: req.currency,
    };
    sqs.send_message()
        .queue_url(&ctx.cfg.queues.billing_events)
        .message_body(serde_json::to_string(&issued)?)
        .send()
        .await?;
    Ok(())
}

pub async fn refund_requests(ctx: Ctx, sqs: Client, mut redis: ConnectionManager) {
    let queue = ctx.cfg.queues.refund_requests.clone();
    loop {
        for msg in receive(&sqs, &queue).await {
            let Some(id) = msg.message_id() else { continue };
            let claimed: Option<String> = match redis::cmd("SET")
                .arg(format!("billing:refund:{id}"))
                .arg(1)
                .arg("NX")
                .arg("EX")
                .arg(7 * 24 * 3600)
                .query_async(&mut redis)
                .await
            {
                Ok(v) => v,
                Err(e) => {
                    error!(error = %e, "redis unavailable, leaving message for retry");
                    continue;
                }
            };
            if claimed.is_none() {
                ack(&sqs, &queue, &msg).await;
                continue;
            }
            match refund(&ctx, &msg).await {
                Ok(()) => ack(&sqs, &queue, &msg).await,
                Err(e) => {
                    error!(error = %e, "refund failed");
                    let _: redis::RedisResult<()> =
                        redis::cmd("DEL").arg(format!("billing:refund:{id}")).query_async(&mut redis).await;
                }
            }
        }
    }
}

async fn refund(ctx: &Ctx, msg: &Message) -> anyhow::Result<()> {
    let req: RefundRequested = serde_json::from_str(msg.body().unwrap_or_default())?;
    let psp_reference = sqlx::query_scalar!("SELECT psp_reference FROM charges WHERE id = $1", req.charge_id)
        .fetch_one(&ctx.db)
        .await?;
    ctx.http
        .post(format!("{}/payments/{}/refunds", ctx.cfg.psp.url, psp_reference))
        .header("Idempotency-Key", format!("refund-{}", req.charge_id))
        .json(&serde_json::json!({ "amount": req.amount_minor }))
        .send()
        .await?
        .error_for_status()?;
    sqlx::query!(
        "INSERT INTO refunds (id, charge_id, amount_minor) VALUES ($1, $2, $3)",
        Uuid::new_v4(),
        req.charge_id,
        req.amount_minor
    )
    .execute(&ctx.db)
    .await?;
    Ok(())
}
