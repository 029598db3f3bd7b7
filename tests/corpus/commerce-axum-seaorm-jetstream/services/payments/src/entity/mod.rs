pub mod payments;
pub mod payments_outbox;
pub mod processed_events;
pub mod refunds;
