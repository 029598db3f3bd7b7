use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use uuid::Uuid;

use crate::money::Money;

/// Every event published on JetStream is wrapped in an envelope carrying the schema version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub meta: EventMeta,
    pub payload: T,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventMeta {
    pub event_id: Uuid,
    pub schema_version: u16,
    pub occurred_at: DateTime<Utc>,
    pub correlation_id: Option<Uuid>,
}

impl<T: Serialize + DeserializeOwned> Envelope<T> {
    pub fn new(payload: T, schema_version: u16) -> Self {
        Self {
            meta: EventMeta {
                event_id: Uuid::new_v4(),
                schema_version,
                occurred_at: Utc::now(),
                correlation_id: None,
            },
            payload,
        }
    }

    pub fn with_correlation(mut self, id: Uuid) -> Self {
        self.meta.correlation_id = Some(id);
        self
    }

    pub fn to_bytes(&self) -> Result<bytes::Bytes, serde_json::Error> {
        serde_json::to_vec(self).map(Into::into)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BookingConfirmed {
    pub booking_id: Uuid,
    pub customer_email: String,
    pub trip_id: Uuid,
    pub seats: u32,
    pub total: Money,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BookingCancelled {
    pub booking_id: Uuid,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentCaptured {
    pub payment_id: Uuid,
    pub booking_id: Uuid,
    pub amount: Money,
}
