use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Line {
    pub sku: String,
    pub quantity: i32,
    pub unit_minor: i64,
}

#[derive(Debug, Serialize)]
pub struct OrderPlaced {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub currency: String,
    pub total_minor: i64,
    pub lines: Vec<Line>,
}

#[derive(Debug, Serialize)]
pub struct OrderCancelled {
    pub order_id: Uuid,
    pub reason: String,
}

/// The part of the inventory and payments events this service reads.
#[derive(Debug, Deserialize)]
pub struct OrderOutcome {
    pub order_id: Uuid,
    #[serde(default)]
    pub reason: Option<String>,
}
