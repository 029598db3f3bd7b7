use actix_web::{web, HttpResponse};
use deadpool_postgres::Pool;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Deserialize)]
pub struct Reserve {
    order_id: Uuid,
    sku: String,
    qty: i32,
}

/// POST /reservations (express checkout). Safe to retry: the reservation row is the claim.
pub async fn reserve(pool: web::Data<Pool>, body: web::Json<Reserve>) -> actix_web::Result<HttpResponse> {
    let mut client = pool.get().await.map_err(actix_web::error::ErrorServiceUnavailable)?;
    let tx = client.transaction().await.map_err(actix_web::error::ErrorInternalServerError)?;
    let inserted = tx
        .execute(
            "INSERT INTO reservations (order_id, sku, qty) VALUES ($1, $2, $3) ON CONFLICT (order_id, sku) DO NOTHING",
            &[&body.order_id, &body.sku, &body.qty],
        )
        .await
        .map_err(actix_web::error::ErrorInternalServerError)?;
    if inserted == 1 {
        let ok = tx
            .execute(
                "UPDATE stock_levels SET available = available - $2 WHERE sku = $1 AND available >= $2",
                &[&body.sku, &body.qty],
            )
            .await
            .map_err(actix_web::error::ErrorInternalServerError)?;
        if ok == 0 {
            return Ok(HttpResponse::Conflict().finish());
        }
    }
    tx.commit().await.map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Created().finish())
}

pub async fn release(pool: web::Data<Pool>, path: web::Path<Uuid>) -> actix_web::Result<HttpResponse> {
    let mut client = pool.get().await.map_err(actix_web::error::ErrorServiceUnavailable)?;
    let tx = client.transaction().await.map_err(actix_web::error::ErrorInternalServerError)?;
    crate::store::release_order(&tx, path.into_inner())
        .await
        .map_err(actix_web::error::ErrorInternalServerError)?;
    tx.commit().await.map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::NoContent().finish())
}
