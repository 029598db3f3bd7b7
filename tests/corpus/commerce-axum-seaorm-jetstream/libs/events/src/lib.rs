//! Event contracts of the order flow (choreography over NATS JetStream).
//!
//! order placed -> stock reserved / reservation failed -> payment completed / failed
//! -> order confirmed / cancelled

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub mod subjects {
    pub const ORDER_EVENTS: &str = "orders.events";
    pub const STOCK_RESERVED: &str = "stock.reserved";
    pub const STOCK_RESERVATION_FAILED: &str = "stock.reservation_failed";
    pub const PAYMENT_COMPLETED: &str = "payments.v1.completed";
    pub const PAYMENT_FAILED: &str = "payments.v1.failed";
    pub const PAYMENT_REFUNDED: &str = "payments.v1.refunded";
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LineItem {
    pub sku: String,
    pub quantity: i32,
    pub unit_price_minor: i64,
}

/// Everything the orders service announces, on one subject.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrderEvent {
    OrderPlaced {
        order_id: Uuid,
        customer_id: Uuid,
        items: Vec<LineItem>,
        total_minor: i64,
        currency: String,
        placed_at: DateTime<Utc>,
    },
    OrderCancelled {
        order_id: Uuid,
        reason: String,
    },
    OrderShipped {
        order_id: Uuid,
        carrier: String,
        tracking_number: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StockReserved {
    pub schema_version: u8,
    pub order_id: Uuid,
    pub reservation_id: Uuid,
    pub total_minor: i64,
    pub currency: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StockReservationFailed {
    pub schema_version: u8,
    pub order_id: Uuid,
    pub sku: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentCompleted {
    pub order_id: Uuid,
    pub payment_id: Uuid,
    pub amount_minor: i64,
    pub currency: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentFailed {
    pub order_id: Uuid,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentRefunded {
    pub order_id: Uuid,
    pub payment_id: Uuid,
    pub amount_minor: i64,
}
