use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Every message we put on Kafka is wrapped in this envelope so consumers can
/// dedupe on `event_id` and evolve payloads by `schema_version`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u16,
    pub occurred_at: DateTime<Utc>,
    pub payload: T,
}

impl<T> Envelope<T> {
    pub fn new(event_type: impl Into<String>, schema_version: u16, payload: T) -> Self {
        Self {
            event_id: Uuid::new_v4(),
            event_type: event_type.into(),
            schema_version,
            occurred_at: Utc::now(),
            payload,
        }
    }
}

/// Just enough of an envelope to route a message before deserialising the payload.
#[derive(Debug, Deserialize)]
pub struct EnvelopeHeader {
    pub event_id: Uuid,
    pub event_type: String,
    #[serde(default)]
    pub schema_version: u16,
}
