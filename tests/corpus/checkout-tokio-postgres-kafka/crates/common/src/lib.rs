//! Types and plumbing shared by every service in the shop platform.

pub mod envelope;
pub mod events;
pub mod kafka;

pub use envelope::Envelope;
