use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use billing_store::{InvoiceLine, NewInvoice};
use rust_decimal::Decimal;
use serde::Deserialize;
use uuid::Uuid;

use crate::Ctx;

#[derive(Deserialize)]
pub struct InvoiceRequest {
    booking_id: Uuid,
    customer_ref: String,
    route: String,
    currency: String,
    lines: Vec<LineRequest>,
}

#[derive(Deserialize)]
pub struct LineRequest {
    description: String,
    amount: Decimal,
}

/// Back-office endpoint: finance creates manual invoices (amendments, fees).
pub async fn create_invoice(
    State(ctx): State<Ctx>,
    Json(req): Json<InvoiceRequest>,
) -> Result<(StatusCode, Json<serde_json::Value>), (StatusCode, String)> {
    let err = |e: String| (StatusCode::INTERNAL_SERVER_ERROR, e);
    let inv = NewInvoice {
        booking_id: req.booking_id,
        customer_ref: req.customer_ref,
        route: req.route,
        currency: req.currency,
        lines: req
            .lines
            .into_iter()
            .map(|l| InvoiceLine { description: l.description, amount: l.amount })
            .collect(),
    };
    let mut tx = ctx.db.begin().await.map_err(|e| err(e.to_string()))?;
    let id = ctx.invoices.insert(&mut tx, &inv).await.map_err(|e| err(e.to_string()))?;
    tx.commit().await.map_err(|e| err(e.to_string()))?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "invoice_id": id }))))
}
