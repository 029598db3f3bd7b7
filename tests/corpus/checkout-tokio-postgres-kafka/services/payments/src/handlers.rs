use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use common::events::{PaymentCaptured, PAYMENTS_TOPIC};
use common::Envelope;
use rdkafka::producer::FutureRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::psp::SUPPORTED_CURRENCIES;
use crate::AppState;

type ApiResult<T> = Result<T, (StatusCode, String)>;

fn internal<E: std::fmt::Display>(e: E) -> (StatusCode, String) {
    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

#[derive(Deserialize)]
pub struct ChargeRequest {
    order_id: Uuid,
    customer_id: Uuid,
    amount_cents: i64,
    currency: String,
    payment_method_token: String,
}

#[derive(Serialize)]
pub struct ChargeResponse {
    payment_id: Uuid,
    status: String,
}

pub async fn create_charge(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<ChargeRequest>,
) -> ApiResult<Json<Value>> {
    let key = headers
        .get("Idempotency-Key")
        .and_then(|h| h.to_str().ok())
        .ok_or((StatusCode::BAD_REQUEST, "Idempotency-Key required".to_owned()))?
        .to_owned();
    if !SUPPORTED_CURRENCIES.contains(&req.currency.as_str()) {
        return Err((StatusCode::UNPROCESSABLE_ENTITY, format!("unsupported currency {}", req.currency)));
    }

    let mut conn = state.db.get().await.map_err(internal)?;
    let claimed = conn
        .execute(
            "INSERT INTO idempotency_keys (key) VALUES ($1) ON CONFLICT (key) DO NOTHING",
            &[&key],
        )
        .await
        .map_err(internal)?;
    if claimed == 0 {
        let row = conn
            .query_one("SELECT response_body FROM idempotency_keys WHERE key = $1", &[&key])
            .await
            .map_err(internal)?;
        let body: Option<Value> = row.get(0);
        return body
            .map(Json)
            .ok_or((StatusCode::CONFLICT, "request in progress".to_owned()));
    }

    let result = state
        .psp
        .charge(req.amount_cents, &req.currency, &req.payment_method_token, &key)
        .await
        .map_err(|e| (StatusCode::PAYMENT_REQUIRED, e.to_string()))?;

    let payment_id = Uuid::new_v4();
    let response = serde_json::to_value(ChargeResponse { payment_id, status: result.status.clone() })
        .map_err(internal)?;

    let tx = conn.transaction().await.map_err(internal)?;
    tx.execute(
        "INSERT INTO payments (id, order_id, customer_id, amount_cents, currency, psp_reference, status) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &payment_id,
            &req.order_id,
            &req.customer_id,
            &req.amount_cents,
            &req.currency,
            &result.id,
            &result.status,
        ],
    )
    .await
    .map_err(internal)?;
    tx.execute(
        "UPDATE idempotency_keys SET response_body = $2 WHERE key = $1",
        &[&key, &response],
    )
    .await
    .map_err(internal)?;
    tx.commit().await.map_err(internal)?;

    let event = Envelope::new(
        "PaymentCaptured",
        1,
        PaymentCaptured {
            payment_id,
            order_id: req.order_id,
            amount_cents: req.amount_cents,
            currency: req.currency.clone(),
        },
    );
    let payload = serde_json::to_string(&event).map_err(internal)?;
    let key = req.order_id.to_string();
    if let Err((e, _)) = state
        .producer
        .send(
            FutureRecord::to(PAYMENTS_TOPIC).key(&key).payload(&payload),
            Duration::from_secs(5),
        )
        .await
    {
        tracing::error!(error = %e, %payment_id, "failed to publish PaymentCaptured");
    }

    Ok(Json(response))
}

#[derive(Deserialize)]
pub struct RefundRequest {
    reason: String,
}

pub async fn refund_charge(
    State(state): State<AppState>,
    Path(payment_id): Path<Uuid>,
    Json(req): Json<RefundRequest>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db.get().await.map_err(internal)?;
    let tx = conn.transaction().await.map_err(internal)?;
    let row = tx
        .query_opt(
            "SELECT psp_reference, amount_cents FROM payments WHERE id = $1 FOR UPDATE",
            &[&payment_id],
        )
        .await
        .map_err(internal)?
        .ok_or((StatusCode::NOT_FOUND, "no such payment".to_owned()))?;
    let psp_reference: String = row.get(0);
    let amount: i64 = row.get(1);

    let inserted = tx
        .execute(
            "INSERT INTO refunds (id, payment_id, amount_cents, reason) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (payment_id) DO NOTHING",
            &[&Uuid::new_v4(), &payment_id, &amount, &req.reason],
        )
        .await
        .map_err(internal)?;
    if inserted == 0 {
        return Ok(StatusCode::OK);
    }
    state.psp.refund(&psp_reference, amount).await.map_err(internal)?;
    tx.execute("UPDATE payments SET status = 'refunded' WHERE id = $1", &[&payment_id])
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    Ok(StatusCode::CREATED)
}

pub async fn daily_report(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let conn = state.replica.get().await.map_err(internal)?;
    let stmt = conn
        .prepare("SELECT currency, SUM(amount_cents)::bigint FROM payments WHERE created_at::date = current_date GROUP BY currency")
        .await
        .map_err(internal)?;
    let rows = conn.query(&stmt, &[]).await.map_err(internal)?;
    let totals: serde_json::Map<String, Value> = rows
        .iter()
        .map(|r| (r.get::<_, String>(0), Value::from(r.get::<_, i64>(1))))
        .collect();
    Ok(Json(Value::Object(totals)))
}
