use std::time::Duration;

use async_nats::jetstream::Context;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult, Statement};

#[derive(Debug, FromQueryResult)]
struct PendingRow {
    id: i64,
    subject: String,
    msg_id: String,
    payload: serde_json::Value,
}

const NEXT_BATCH: &str = "SELECT id, subject, msg_id, payload FROM payments_outbox \
     WHERE published_at IS NULL ORDER BY id LIMIT 100";
const MARK_SENT: &str = "UPDATE payments_outbox SET published_at = now() WHERE id = $1";

pub async fn run(db: DatabaseConnection, js: Context) {
    let mut ticker = tokio::time::interval(Duration::from_millis(300));
    loop {
        ticker.tick().await;
        let rows = match PendingRow::find_by_statement(Statement::from_string(DbBackend::Postgres, NEXT_BATCH))
            .all(&db)
            .await
        {
            Ok(rows) => rows,
            Err(err) => {
                tracing::warn!(error = %err, "outbox poll failed");
                continue;
            }
        };
        for row in rows {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", row.msg_id.as_str());
            let body = serde_json::to_vec(&row.payload).unwrap_or_default();
            let acked = match js.publish_with_headers(row.subject.clone(), headers, body.into()).await {
                Ok(ack) => ack.await.is_ok(),
                Err(_) => false,
            };
            if !acked {
                break;
            }
            if let Err(err) = db
                .execute(Statement::from_sql_and_values(DbBackend::Postgres, MARK_SENT, [row.id.into()]))
                .await
            {
                tracing::warn!(error = %err, "could not mark outbox row");
            }
        }
    }
}
