//! Types shared by every service: event envelopes, NATS subjects, money.

pub mod events;
pub mod money;
pub mod subjects;

pub use events::{Envelope, EventMeta};
