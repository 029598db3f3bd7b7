use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{payments, refunds};
use crate::AppState;

type ApiResult<T> = Result<T, (StatusCode, String)>;

fn internal<E: std::fmt::Display>(e: E) -> (StatusCode, String) {
    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

#[derive(Debug, Deserialize)]
pub struct CreatePayment {
    pub order_id: Uuid,
    pub amount_minor: i64,
    pub currency: String,
}

/// Synchronous charge used by instant-buy. One payment per order (unique order_id); a repeated
/// request finds the row and does not charge again.
pub async fn create_payment(
    State(state): State<AppState>,
    Json(req): Json<CreatePayment>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let payment_id = Uuid::new_v4();
    let inserted = payments::Entity::insert(payments::ActiveModel {
        id: Set(payment_id),
        order_id: Set(req.order_id),
        amount_minor: Set(req.amount_minor),
        currency: Set(req.currency.clone()),
        status: Set("pending".into()),
        psp_reference: Set(None),
        created_at: Set(Utc::now().into()),
    })
    .on_conflict(OnConflict::column(payments::Column::OrderId).do_nothing().to_owned())
    .exec_without_returning(&state.db)
    .await
    .map_err(internal)?;
    if inserted == 0 {
        return Ok((StatusCode::OK, Json(serde_json::json!({ "status": "duplicate" }))));
    }

    let result = state
        .psp
        .charge(format!("order-{}", req.order_id), req.amount_minor, req.currency)
        .await
        .map_err(internal)?;
    payments::ActiveModel {
        id: Set(payment_id),
        status: Set(if result.approved { "completed" } else { "failed" }.into()),
        psp_reference: Set(Some(result.reference)),
        ..Default::default()
    }
    .update(&state.db)
    .await
    .map_err(internal)?;

    if result.approved {
        Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": payment_id }))))
    } else {
        Err((StatusCode::PAYMENT_REQUIRED, result.decline_reason.unwrap_or_default()))
    }
}

#[derive(Debug, Deserialize)]
pub struct AdjustAuthorization {
    pub amount_minor: i64,
}

pub async fn adjust_authorization(
    State(state): State<AppState>,
    Path(order_id): Path<Uuid>,
    Json(req): Json<AdjustAuthorization>,
) -> ApiResult<StatusCode> {
    payments::Entity::update_many()
        .col_expr(payments::Column::AmountMinor, sea_orm::sea_query::Expr::value(req.amount_minor))
        .filter(payments::Column::OrderId.eq(order_id))
        .filter(payments::Column::Status.eq("pending"))
        .exec(&state.db)
        .await
        .map_err(internal)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct CreateRefund {
    pub payment_id: Uuid,
    pub amount_minor: i64,
    pub reason: String,
}

/// Back-office refunds (goodwill, partial refunds) issued by customer support.
pub async fn create_refund(
    State(state): State<AppState>,
    Json(req): Json<CreateRefund>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let payment = payments::Entity::find_by_id(req.payment_id)
        .one(&state.db)
        .await
        .map_err(internal)?
        .ok_or((StatusCode::NOT_FOUND, "payment not found".to_owned()))?;
    let reference = payment
        .psp_reference
        .ok_or((StatusCode::CONFLICT, "payment was never captured".to_owned()))?;

    let refund_id = Uuid::new_v4();
    state
        .psp
        .refund(refund_id.to_string(), reference, req.amount_minor)
        .await
        .map_err(internal)?;

    refunds::ActiveModel {
        id: Set(refund_id),
        payment_id: Set(req.payment_id),
        amount_minor: Set(req.amount_minor),
        reason: Set(req.reason),
        created_at: Set(Utc::now().into()),
    }
    .insert(&state.db)
    .await
    .map_err(internal)?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": refund_id }))))
}
