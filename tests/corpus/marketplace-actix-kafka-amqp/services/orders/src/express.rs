//! Express checkout: synchronous orchestration for B2B customers with credit terms.
//! Each step knows how to undo itself; on failure the completed steps are compensated in
//! reverse order.

use actix_web::{web, HttpResponse};
use async_trait::async_trait;
use serde::Deserialize;
use uuid::Uuid;

use crate::{error::OrderError, AppState};

#[derive(Debug, Clone, Deserialize)]
pub struct ExpressOrder {
    pub customer_id: Uuid,
    pub sku: String,
    pub qty: i32,
    pub amount_minor: i64,
    pub address: String,
}

#[async_trait]
trait Step: Send + Sync {
    fn name(&self) -> &'static str;
    async fn execute(&self, http: &reqwest::Client, order: &ExpressOrder, id: Uuid) -> Result<(), OrderError>;
    async fn compensate(&self, http: &reqwest::Client, id: Uuid) -> Result<(), OrderError>;
}

struct ReserveStock;
struct ChargeCredit;
struct BookShipment;

#[async_trait]
impl Step for ReserveStock {
    fn name(&self) -> &'static str {
        "reserve-stock"
    }

    async fn execute(&self, http: &reqwest::Client, o: &ExpressOrder, id: Uuid) -> Result<(), OrderError> {
        http.post("http://stock:8080/reservations")
            .json(&serde_json::json!({ "order_id": id, "sku": o.sku, "qty": o.qty }))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    async fn compensate(&self, http: &reqwest::Client, id: Uuid) -> Result<(), OrderError> {
        http.delete(format!("http://stock:8080/reservations/{id}")).send().await?.error_for_status()?;
        Ok(())
    }
}

#[async_trait]
impl Step for ChargeCredit {
    fn name(&self) -> &'static str {
        "charge-credit"
    }

    async fn execute(&self, http: &reqwest::Client, o: &ExpressOrder, id: Uuid) -> Result<(), OrderError> {
        http.post("http://billing:8080/credit-charges")
            .json(&serde_json::json!({ "order_id": id, "customer_id": o.customer_id, "amount_minor": o.amount_minor }))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    async fn compensate(&self, _http: &reqwest::Client, id: Uuid) -> Result<(), OrderError> {
        // Credit charges are settled at month end; nothing to undo here.
        log::info!("skipping compensation of credit charge for {id}");
        Ok(())
    }
}

#[async_trait]
impl Step for BookShipment {
    fn name(&self) -> &'static str {
        "book-shipment"
    }

    async fn execute(&self, http: &reqwest::Client, o: &ExpressOrder, id: Uuid) -> Result<(), OrderError> {
        http.post("http://shipping:8080/shipments")
            .json(&serde_json::json!({ "order_id": id, "address": o.address }))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    async fn compensate(&self, http: &reqwest::Client, id: Uuid) -> Result<(), OrderError> {
        http.delete(format!("http://shipping:8080/shipments/{id}")).send().await?;
        Ok(())
    }
}

pub async fn express_checkout(
    state: web::Data<AppState>,
    body: web::Json<ExpressOrder>,
) -> Result<HttpResponse, OrderError> {
    let order = body.into_inner();
    let id = Uuid::new_v4();
    let steps: Vec<Box<dyn Step>> = vec![Box::new(ReserveStock), Box::new(ChargeCredit), Box::new(BookShipment)];

    let mut done: Vec<&dyn Step> = Vec::with_capacity(steps.len());
    for step in &steps {
        if let Err(e) = step.execute(&state.http, &order, id).await {
            log::warn!("express {id}: step {} failed: {e}", step.name());
            for completed in done.iter().rev() {
                if let Err(ce) = completed.compensate(&state.http, id).await {
                    log::error!("express {id}: compensation {} failed: {ce}", completed.name());
                }
            }
            return Err(e);
        }
        done.push(step.as_ref());
    }
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": id })))
}
