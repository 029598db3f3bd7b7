use actix_web::{post, web, HttpResponse};
use deadpool_postgres::Pool;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Deserialize)]
struct CreditCharge {
    order_id: Uuid,
    customer_id: Uuid,
    amount_minor: i64,
}

/// POST /credit-charges — one charge per order; repeats are no-ops.
#[post("/credit-charges")]
pub async fn create(pool: web::Data<Pool>, body: web::Json<CreditCharge>) -> actix_web::Result<HttpResponse> {
    let client = pool.get().await.map_err(actix_web::error::ErrorServiceUnavailable)?;
    client
        .execute(
            "INSERT INTO credit_charges (order_id, customer_id, amount_minor) VALUES ($1, $2, $3)
             ON CONFLICT (order_id) DO NOTHING",
            &[&body.order_id, &body.customer_id, &body.amount_minor],
        )
        .await
        .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Created().finish())
}
