use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::schema::{idempotency_keys, processed_messages, reservations, stock_items};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = stock_items)]
pub struct StockItem {
    pub sku: String,
    pub warehouse: String,
    pub on_hand: i32,
    pub available: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = reservations)]
pub struct Reservation {
    pub id: Uuid,
    pub order_id: Uuid,
    pub sku: String,
    pub quantity: i32,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = processed_messages)]
pub struct ProcessedMessage<'a> {
    pub message_id: Uuid,
    pub consumer: &'a str,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRecord {
    pub key: String,
    pub request_hash: String,
    pub response_body: serde_json::Value,
    pub status_code: i16,
    pub created_at: DateTime<Utc>,
}
