use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const ORDERS_TOPIC: &str = "orders.events.v1";
pub const PAYMENTS_TOPIC: &str = "payments.events.v1";
pub const MARKETPLACE_ORDERS_TOPIC: &str = "marketplace.orders.v1";
pub const REFUND_REQUESTS_TOPIC: &str = "customer.refund-requests";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderLine {
    pub sku: String,
    pub quantity: i32,
    pub unit_price_cents: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderConfirmed {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub customer_email: String,
    pub shipping_country: String,
    pub lines: Vec<OrderLine>,
    pub total_cents: i64,
    pub currency: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderCancelled {
    pub order_id: Uuid,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MarketplaceOrderPlaced {
    pub order_id: Uuid,
    pub seller_id: Uuid,
    pub lines: Vec<OrderLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MarketplaceOrderCancelled {
    pub order_id: Uuid,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentCaptured {
    pub payment_id: Uuid,
    pub order_id: Uuid,
    pub amount_cents: i64,
    pub currency: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefundRequested {
    pub request_id: Uuid,
    pub customer_id: Uuid,
    pub amount_cents: i64,
    pub currency: String,
}
