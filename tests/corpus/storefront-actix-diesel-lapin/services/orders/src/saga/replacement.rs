//! Admin endpoint: send a replacement for a damaged order, optionally charging a fee.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use tokio::sync::Mutex;
use uuid::Uuid;

use super::steps::{run_steps, ChargeReplacementFeeStep, ReserveStockStep, SagaStep, ScheduleShipmentStep};
use crate::error::ApiError;
use crate::models::{OrderLineRow, ShippingAddress};
use crate::AppState;

#[derive(Debug, Deserialize)]
pub struct ReplacementRequest {
    pub lines: Vec<OrderLineRow>,
    pub address: ShippingAddress,
    pub fee_cents: i64,
    pub currency: String,
}

pub async fn create_replacement(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: web::Json<ReplacementRequest>,
) -> Result<HttpResponse, ApiError> {
    let order_id = path.into_inner();
    if req.headers().get("Idempotency-Key").is_none() {
        return Err(ApiError::BadRequest("Idempotency-Key header is required".into()));
    }
    let body = body.into_inner();

    let mut steps: Vec<Box<dyn SagaStep>> = vec![
        Box::new(ReserveStockStep { order_id, lines: body.lines, reservation: Mutex::new(None) }),
        Box::new(ScheduleShipmentStep { order_id, address: body.address, shipment: Mutex::new(None) }),
    ];
    if body.fee_cents > 0 {
        steps.push(Box::new(ChargeReplacementFeeStep {
            order_id,
            fee_cents: body.fee_cents,
            currency: body.currency,
            charge: Mutex::new(None),
        }));
    }

    run_steps(&state.clients, steps)
        .await
        .map_err(|e| ApiError::Conflict(e.to_string()))?;
    Ok(HttpResponse::Accepted().finish())
}
