use actix_web::{post, web, HttpRequest, HttpResponse};
use common::events::PaymentCaptured;
use common::Envelope;
use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::Deserialize;
use uuid::Uuid;

use crate::schema::{idempotency_keys, outbox, payments};
use crate::AppState;

#[derive(Debug, Deserialize)]
pub struct ChargeRequest {
    pub order_id: Uuid,
    pub amount_cents: i64,
    pub currency: String,
}

fn internal<E: std::fmt::Display>(e: E) -> actix_web::Error {
    actix_web::error::ErrorInternalServerError(e.to_string())
}

/// Captures a payment for an order. The caller's Idempotency-Key is stored with the payment; a
/// retry returns the payment created by the first attempt.
#[post("/charges")]
pub async fn create_charge(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<ChargeRequest>,
) -> actix_web::Result<HttpResponse> {
    let key = req
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| actix_web::error::ErrorBadRequest("missing Idempotency-Key"))?
        .to_owned();
    let mut conn = state.pool.get().await.map_err(internal)?;

    let existing: Option<Uuid> = idempotency_keys::table
        .find(&key)
        .select(idempotency_keys::payment_id)
        .first(&mut conn)
        .await
        .optional()
        .map_err(internal)?;
    if let Some(payment_id) = existing {
        return Ok(HttpResponse::Ok().json(serde_json::json!({ "id": payment_id, "status": "captured" })));
    }

    let charge = state
        .psp
        .capture(&key, body.amount_cents, &body.currency)
        .await
        .map_err(|e| actix_web::error::ErrorPaymentRequired(e.to_string()))?;

    let payment_id = Uuid::new_v4();
    let body = body.into_inner();
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        async move {
            diesel::insert_into(payments::table)
                .values((
                    payments::id.eq(payment_id),
                    payments::order_id.eq(body.order_id),
                    payments::amount_cents.eq(body.amount_cents),
                    payments::currency.eq(&body.currency),
                    payments::psp_reference.eq(&charge.reference),
                    payments::status.eq("captured"),
                ))
                .execute(conn)
                .await?;
            diesel::insert_into(idempotency_keys::table)
                .values((idempotency_keys::key.eq(&key), idempotency_keys::payment_id.eq(payment_id)))
                .execute(conn)
                .await?;
            let event = Envelope::new(
                "payment.captured",
                1,
                PaymentCaptured {
                    payment_id,
                    order_id: body.order_id,
                    amount_cents: body.amount_cents,
                    currency: body.currency.clone(),
                },
            );
            diesel::insert_into(outbox::table)
                .values((
                    outbox::exchange.eq("payments"),
                    outbox::routing_key.eq("payment.captured"),
                    outbox::payload.eq(serde_json::to_value(&event).expect("serializable")),
                ))
                .execute(conn)
                .await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
    .map_err(internal)?;

    Ok(HttpResponse::Created().json(serde_json::json!({ "id": payment_id, "status": "captured" })))
}

#[derive(Debug, Deserialize)]
pub struct RefundRequest {
    pub reason: String,
}

const INSERT_REFUND: &str = "INSERT INTO refunds (id, payment_id, amount_cents, reason) \
     SELECT $1, p.id, p.amount_cents, $3 FROM payments p WHERE p.id = $2 \
     ON CONFLICT (payment_id) DO NOTHING";

/// One refund per payment: a repeated call (the saga retries compensations) finds the refund
/// row already there and does not hit the gateway again.
#[post("/charges/{id}/refunds")]
pub async fn refund_charge(
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: web::Json<RefundRequest>,
) -> actix_web::Result<HttpResponse> {
    let payment_id = path.into_inner();
    let refund_id = Uuid::new_v4();
    let mut conn = state.pool.get().await.map_err(internal)?;

    let inserted = diesel::sql_query(INSERT_REFUND)
        .bind::<SqlUuid, _>(refund_id)
        .bind::<SqlUuid, _>(payment_id)
        .bind::<Text, _>(&body.reason)
        .execute(&mut conn)
        .await
        .map_err(internal)?;
    if inserted == 0 {
        return Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "already_refunded" })));
    }

    let psp_reference: Option<String> = payments::table
        .find(payment_id)
        .select(payments::psp_reference)
        .first(&mut conn)
        .await
        .map_err(internal)?;
    if let Some(reference) = psp_reference {
        let refund = state
            .psp
            .refund(&format!("refund-{payment_id}"), &reference)
            .await
            .map_err(internal)?;
        diesel::sql_query("UPDATE refunds SET psp_reference = $1 WHERE id = $2")
            .bind::<Text, _>(refund.reference)
            .bind::<SqlUuid, _>(refund_id)
            .execute(&mut conn)
            .await
            .map_err(internal)?;
    }
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": refund_id })))
}
