use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    Json,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::{psp::PspCharge, Payments};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Psp(#[from] reqwest::Error),
    #[error("Idempotency-Key required")]
    NoKey,
    #[error("Idempotency-Key reused with a different body")]
    KeyMismatch,
}

impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        let code = match self {
            ApiError::NoKey => StatusCode::BAD_REQUEST,
            ApiError::KeyMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (code, self.to_string()).into_response()
    }
}

#[derive(Deserialize, Serialize)]
pub struct ChargeRequest {
    booking_id: Uuid,
    amount_minor: i64,
    currency: String,
}

#[derive(Serialize)]
pub struct ChargeResponse {
    payment_id: Uuid,
    status: String,
}

fn request_hash(body: &ChargeRequest) -> String {
    let raw = serde_json::to_string(body).unwrap_or_default();
    format!("{:x}", md5_like(raw.as_bytes()))
}

fn md5_like(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3))
}

pub async fn create_charge(
    State(p): State<Arc<Payments>>,
    headers: HeaderMap,
    Json(body): Json<ChargeRequest>,
) -> Result<Json<Value>, ApiError> {
    let key = headers
        .get("idempotency-key")
        .and_then(|h| h.to_str().ok())
        .ok_or(ApiError::NoKey)?
        .to_owned();
    let hash = request_hash(&body);

    // Claim the key; a replay returns the stored response.
    let claimed = sqlx::query("INSERT INTO idempotency_keys (key, request_hash) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(&key)
        .bind(&hash)
        .execute(&p.db)
        .await?
        .rows_affected()
        == 1;
    if !claimed {
        let (stored_hash, response): (String, Option<Value>) =
            sqlx::query_as("SELECT request_hash, response FROM idempotency_keys WHERE key = $1")
                .bind(&key)
                .fetch_one(&p.db)
                .await?;
        if stored_hash != hash {
            return Err(ApiError::KeyMismatch);
        }
        return Ok(Json(response.unwrap_or(Value::Null)));
    }

    let result = p
        .psp
        .charge(&PspCharge { amount: body.amount_minor, currency: &body.currency, reference: key.clone() })
        .await?;
    let payment_id = Uuid::new_v4();
    let status = if result.status == "succeeded" { "captured" } else { "declined" };
    sqlx::query(
        "INSERT INTO payments (id, booking_id, amount_minor, currency, psp_reference, status) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(payment_id)
    .bind(body.booking_id)
    .bind(body.amount_minor)
    .bind(&body.currency)
    .bind(&result.id)
    .bind(status)
    .execute(&p.db)
    .await?;

    let response = serde_json::to_value(ChargeResponse { payment_id, status: status.into() }).unwrap_or_default();
    sqlx::query("UPDATE idempotency_keys SET response = $2 WHERE key = $1")
        .bind(&key)
        .bind(&response)
        .execute(&p.db)
        .await?;
    Ok(Json(response))
}

/// POST /charges/:id/refund
pub async fn refund_charge(
    State(p): State<Arc<Payments>>,
    Path(payment_id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let psp_reference: String = sqlx::query_scalar("SELECT psp_reference FROM payments WHERE id = $1")
        .bind(payment_id)
        .fetch_one(&p.db)
        .await?;
    let refund = p.psp.refund(&psp_reference).await?;
    sqlx::query("INSERT INTO refunds (id, payment_id, psp_refund) VALUES ($1, $2, $3)")
        .bind(Uuid::new_v4())
        .bind(payment_id)
        .bind(refund.id)
        .execute(&p.db)
        .await?;
    Ok(StatusCode::ACCEPTED)
}
