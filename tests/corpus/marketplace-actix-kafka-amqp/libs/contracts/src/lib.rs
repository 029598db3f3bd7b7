//! Event contracts of the order-fulfilment choreography.
//!
//! Every event is a variant of a per-domain enum, internally tagged with a versioned type name.
//! Breaking changes get a new variant (`...v2`) and both are consumed during the migration window.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub mod topics {
    pub const ORDER_EVENTS: &str = "orders.events.v1";
    pub const STOCK_EVENTS: &str = "stock.events.v1";
    pub const PAYMENT_EVENTS: &str = "payments.events.v1";
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Line {
    pub sku: String,
    pub qty: i32,
    pub unit_price_minor: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum OrderEvent {
    #[serde(rename = "order.placed.v1")]
    Placed {
        order_id: Uuid,
        customer_id: Uuid,
        lines: Vec<Line>,
        currency: String,
        ship_to_country: String,
        placed_at: DateTime<Utc>,
    },
    #[serde(rename = "order.cancelled.v1")]
    Cancelled { order_id: Uuid, reason: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum StockEvent {
    #[serde(rename = "stock.reserved.v1")]
    Reserved { order_id: Uuid, total_minor: i64, currency: String, customer_id: Uuid },
    #[serde(rename = "stock.rejected.v1")]
    Rejected { order_id: Uuid, missing_skus: Vec<String> },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum PaymentEvent {
    #[serde(rename = "payment.succeeded.v1")]
    Succeeded { order_id: Uuid, payment_id: Uuid, ship_to_country: Option<String> },
    #[serde(rename = "payment.failed.v1")]
    Failed { order_id: Uuid, reason: String },
}

impl OrderEvent {
    pub fn order_id(&self) -> Uuid {
        match self {
            OrderEvent::Placed { order_id, .. } | OrderEvent::Cancelled { order_id, .. } => *order_id,
        }
    }
}
