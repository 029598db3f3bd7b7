//! Types and helpers shared by every service in the storefront.

pub mod amqp;
pub mod events;

pub use events::Envelope;
