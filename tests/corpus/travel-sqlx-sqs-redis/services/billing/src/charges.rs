use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Ctx;

#[derive(Deserialize)]
pub struct ChargeRequest {
    booking_id: Uuid,
    amount_minor: i64,
    currency: String,
    card_token: String,
}

#[derive(Serialize)]
pub struct ChargeCreated {
    charge_id: Uuid,
}

#[derive(Deserialize)]
struct PspResult {
    reference: String,
    status: String,
}

pub async fn create_charge(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Json(req): Json<ChargeRequest>,
) -> Result<(StatusCode, Json<ChargeCreated>), (StatusCode, String)> {
    let idem = headers
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .ok_or((StatusCode::BAD_REQUEST, "missing Idempotency-Key".to_string()))?;
    let err = |e: sqlx::Error| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string());

    let mut tx = ctx.db.begin().await.map_err(err)?;
    let claimed = sqlx::query!(
        "INSERT INTO idempotency_keys (key) VALUES ($1) ON CONFLICT (key) DO NOTHING",
        idem
    )
    .execute(&mut *tx)
    .await
    .map_err(err)?
    .rows_affected();
    if claimed == 0 {
        let existing = sqlx::query_scalar!("SELECT charge_id FROM idempotency_keys WHERE key = $1", idem)
            .fetch_one(&mut *tx)
            .await
            .map_err(err)?;
        return existing
            .map(|charge_id| (StatusCode::OK, Json(ChargeCreated { charge_id })))
            .ok_or((StatusCode::CONFLICT, "charge in progress".into()));
    }

    let psp: PspResult = ctx
        .http
        .post(format!("{}/payments", ctx.cfg.psp.url))
        .header("Idempotency-Key", idem)
        .json(&serde_json::json!({
            "amount": req.amount_minor,
            "currency": req.currency,
            "source": req.card_token,
        }))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| (StatusCode::PAYMENT_REQUIRED, e.to_string()))?
        .json()
        .await
        .map_err(|e| (StatusCode::BAD_GATEWAY, e.to_string()))?;

    let charge_id = Uuid::new_v4();
    sqlx::query!(
        "INSERT INTO charges (id, booking_id, amount_minor, currency, psp_reference, status) VALUES ($1, $2, $3, $4, $5, $6)",
        charge_id,
        req.booking_id,
        req.amount_minor,
        req.currency,
        psp.reference,
        psp.status
    )
    .execute(&mut *tx)
    .await
    .map_err(err)?;
    sqlx::query!("UPDATE idempotency_keys SET charge_id = $2 WHERE key = $1", idem, charge_id)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    tx.commit().await.map_err(err)?;
    Ok((StatusCode::CREATED, Json(ChargeCreated { charge_id })))
}
