pub mod idempotency_keys;
pub mod inbox;
pub mod order_items;
pub mod orders;
pub mod outbox;
