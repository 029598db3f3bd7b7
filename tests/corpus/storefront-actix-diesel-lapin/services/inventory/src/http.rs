//! Reservation API used by the orders checkout saga.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse, ResponseError};
use chrono::Utc;
use diesel::prelude::*;
use inventory_store::models::{IdempotencyRecord, Reservation, StockItem};
use inventory_store::schema::{idempotency_keys, reservations, stock_items};
use inventory_store::PgPool;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("insufficient stock for {0}")]
    Insufficient(String),
    #[error("Idempotency-Key header is required")]
    MissingKey,
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for InventoryError {
    fn from(e: diesel::result::Error) -> Self {
        InventoryError::Internal(e.into())
    }
}

impl ResponseError for InventoryError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        use actix_web::http::StatusCode;
        match self {
            InventoryError::Insufficient(_) => StatusCode::CONFLICT,
            InventoryError::MissingKey => StatusCode::BAD_REQUEST,
            InventoryError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[derive(Debug, Deserialize, Serialize)]
pub struct ReservationItem {
    pub sku: String,
    pub quantity: i32,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct ReserveRequest {
    pub order_id: Uuid,
    pub items: Vec<ReservationItem>,
}

/// Holds stock for an order. Retries with the same Idempotency-Key replay the stored response.
#[post("/reservations")]
pub async fn create_reservation(
    req: HttpRequest,
    pool: web::Data<PgPool>,
    body: web::Json<ReserveRequest>,
) -> Result<HttpResponse, InventoryError> {
    let key = req
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or(InventoryError::MissingKey)?;
    let body = body.into_inner();
    let request_hash = hex::encode(Sha256::digest(serde_json::to_vec(&body).unwrap_or_default()));
    let pool = pool.into_inner();

    let (status, response) = web::block(move || -> Result<(u16, serde_json::Value), InventoryError> {
        let mut conn = pool.get().map_err(anyhow::Error::from)?;
        conn.transaction(|conn| {
            if let Some(previous) = idempotency_keys::table
                .find(&key)
                .first::<IdempotencyRecord>(conn)
                .optional()?
            {
                return Ok((previous.status_code as u16, previous.response_body));
            }

            let reservation_id = Uuid::new_v4();
            for item in &body.items {
                let updated = diesel::update(
                    stock_items::table
                        .filter(stock_items::sku.eq(&item.sku))
                        .filter(stock_items::available.ge(item.quantity)),
                )
                .set(stock_items::available.eq(stock_items::available - item.quantity))
                .execute(conn)?;
                if updated == 0 {
                    return Err(InventoryError::Insufficient(item.sku.clone()));
                }
                diesel::insert_into(reservations::table)
                    .values(&Reservation {
                        id: reservation_id,
                        order_id: body.order_id,
                        sku: item.sku.clone(),
                        quantity: item.quantity,
                        status: "held".into(),
                        created_at: Utc::now(),
                    })
                    .execute(conn)?;
            }

            let response = serde_json::json!({ "id": reservation_id });
            diesel::insert_into(idempotency_keys::table)
                .values(&IdempotencyRecord {
                    key: key.clone(),
                    request_hash,
                    response_body: response.clone(),
                    status_code: 201,
                    created_at: Utc::now(),
                })
                .execute(conn)?;
            Ok((201, response))
        })
    })
    .await
    .map_err(|e| InventoryError::Internal(e.into()))??;

    Ok(HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).json(response))
}

#[delete("/reservations/{id}")]
pub async fn release_reservation(
    pool: web::Data<PgPool>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, InventoryError> {
    let id = path.into_inner();
    let pool = pool.into_inner();
    web::block(move || -> Result<(), InventoryError> {
        let mut conn = pool.get().map_err(anyhow::Error::from)?;
        conn.transaction(|conn| {
            let held: Vec<Reservation> = diesel::update(
                reservations::table
                    .filter(reservations::id.eq(id))
                    .filter(reservations::status.eq("held")),
            )
            .set(reservations::status.eq("released"))
            .get_results(conn)?;
            for r in held {
                diesel::update(stock_items::table.find(&r.sku))
                    .set(stock_items::available.eq(stock_items::available + r.quantity))
                    .execute(conn)?;
            }
            Ok(())
        })
    })
    .await
    .map_err(|e| InventoryError::Internal(e.into()))??;
    Ok(HttpResponse::NoContent().finish())
}

#[get("/stock/{sku}")]
pub async fn get_stock(pool: web::Data<PgPool>, path: web::Path<String>) -> Result<HttpResponse, InventoryError> {
    let sku = path.into_inner();
    let pool = pool.into_inner();
    let item = web::block(move || -> Result<Option<StockItem>, InventoryError> {
        let mut conn = pool.get().map_err(anyhow::Error::from)?;
        Ok(stock_items::table.find(sku).select(StockItem::as_select()).first(&mut conn).optional()?)
    })
    .await
    .map_err(|e| InventoryError::Internal(e.into()))??;
    Ok(match item {
        Some(item) => HttpResponse::Ok().json(item),
        None => HttpResponse::NotFound().finish(),
    })
}
