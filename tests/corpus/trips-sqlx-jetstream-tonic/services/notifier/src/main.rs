use async_nats::jetstream::{self, consumer::pull};
use futures::StreamExt;
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use sqlx::PgPool;

mod mailer;

use mailer::Mailer;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().init();
    let pool = PgPool::connect(&std::env::var("DATABASE_URL")?).await?;
    sqlx::migrate!().run(&pool).await?;

    let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(&std::env::var("SMTP_RELAY")?)?.build();
    let mailer = Mailer::new(smtp);

    let js = jetstream::new(async_nats::connect(std::env::var("NATS_URL")?).await?);
    let consumer = js
        .get_stream("PAYMENTS")
        .await?
        .get_or_create_consumer::<pull::Config>(
            "notifier",
            pull::Config {
                durable_name: Some("notifier".into()),
                filter_subject: common::subjects::PAYMENT_CAPTURED.into(),
                ..Default::default()
            },
        )
        .await?;

    let mut stream = consumer.messages().await?.take_until(tokio::signal::ctrl_c());
    while let Some(Ok(msg)) = stream.next().await {
        let Some(msg_id) = msg
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.to_string())
        else {
            tracing::warn!("message without Nats-Msg-Id, skipping");
            msg.ack().await.ok();
            continue;
        };

        let first_time = sqlx::query("INSERT INTO notifier_inbox (message_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(&msg_id)
            .execute(&pool)
            .await?
            .rows_affected()
            > 0;
        if first_time {
            let evt: common::Envelope<common::events::PaymentCaptured> = serde_json::from_slice(&msg.payload)?;
            let psp_reference: Option<String> = sqlx::query_scalar("SELECT psp_reference FROM payments WHERE id = $1")
                .bind(evt.payload.payment_id)
                .fetch_one(&pool)
                .await?;
            let to = msg
                .headers
                .as_ref()
                .and_then(|h| h.get("Customer-Email"))
                .map(|v| v.to_string())
                .unwrap_or_default();
            mailer.send_receipt(&to, &evt.payload, psp_reference.as_deref()).await?;
        }
        msg.ack().await.map_err(|e| anyhow::anyhow!(e))?;
    }
    Ok(())
}
