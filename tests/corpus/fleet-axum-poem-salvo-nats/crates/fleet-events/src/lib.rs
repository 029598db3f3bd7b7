//! Wire types shared by the fleetops services.
//!
//! Every envelope published on NATS or Kafka carries `schema_version`; consumers
//! reject versions they do not know instead of guessing.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const SHIPMENT_EVENTS_SUBJECT: &str = "fleetops.shipments";
pub const VEHICLE_EVENTS_SUBJECT: &str = "fleetops.vehicles";
pub const POSITION_SUBJECT: &str = "fleetops.positions";
pub const BILLING_TOPIC: &str = "fleetops.billing.v1";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub schema_version: u16,
    pub event_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub payload: T,
}

impl<T> Envelope<T> {
    pub fn v1(payload: T) -> Self {
        Self {
            schema_version: 1,
            event_id: Uuid::new_v4(),
            occurred_at: Utc::now(),
            payload,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ShipmentEvent {
    Created {
        shipment_id: Uuid,
        customer_id: Uuid,
        origin_country: String,
        destination_country: String,
    },
    Delivered {
        shipment_id: Uuid,
        delivered_at: DateTime<Utc>,
    },
    Cancelled {
        shipment_id: Uuid,
        reason: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TripCompleted {
    pub schema_version: u16,
    pub trip_id: Uuid,
    pub shipment_id: Uuid,
    pub customer_id: Uuid,
    pub distance_km: Decimal,
    pub currency: String,
}

/// Raw GPS ping as emitted by the telematics gateway and re-broadcast by tracking.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PositionReported {
    pub vehicle_id: Uuid,
    pub lat: f64,
    pub lon: f64,
    pub speed_kmh: f32,
    pub recorded_at: DateTime<Utc>,
}
