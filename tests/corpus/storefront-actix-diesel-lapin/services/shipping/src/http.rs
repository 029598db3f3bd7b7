use actix_web::{delete, post, web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use uuid::Uuid;

use crate::countries;
use crate::schema::shipments;
use crate::PgPool;

#[derive(Debug, Deserialize)]
pub struct CreateShipment {
    pub order_id: Uuid,
    pub name: String,
    pub line1: String,
    pub city: String,
    pub postal_code: String,
    pub country: String,
}

#[post("/shipments")]
pub async fn create_shipment(
    pool: web::Data<PgPool>,
    body: web::Json<CreateShipment>,
) -> actix_web::Result<HttpResponse> {
    let body = body.into_inner();
    if !countries::is_shippable(&body.country) {
        return Ok(HttpResponse::UnprocessableEntity().body(format!("cannot ship to {}", body.country)));
    }
    let carrier = countries::carrier_for(&body.country);
    let shipment_id = Uuid::new_v4();
    let pool = pool.into_inner();
    web::block(move || {
        let mut conn = pool.get().map_err(|e| diesel::result::Error::QueryBuilderError(e.into()))?;
        diesel::insert_into(shipments::table)
            .values((
                shipments::id.eq(shipment_id),
                shipments::order_id.eq(body.order_id),
                shipments::recipient.eq(body.name),
                shipments::line1.eq(body.line1),
                shipments::city.eq(body.city),
                shipments::postal_code.eq(body.postal_code),
                shipments::country.eq(body.country),
                shipments::status.eq("scheduled"),
                shipments::carrier.eq(carrier),
            ))
            .execute(&mut conn)
    })
    .await?
    .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": shipment_id })))
}

#[delete("/shipments/{id}")]
pub async fn cancel_shipment(pool: web::Data<PgPool>, path: web::Path<Uuid>) -> actix_web::Result<HttpResponse> {
    let id = path.into_inner();
    let pool = pool.into_inner();
    web::block(move || {
        let mut conn = pool.get().map_err(|e| diesel::result::Error::QueryBuilderError(e.into()))?;
        diesel::update(shipments::table.find(id).filter(shipments::status.eq("scheduled")))
            .set(shipments::status.eq("cancelled"))
            .execute(&mut conn)
    })
    .await?
    .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::NoContent().finish())
}
