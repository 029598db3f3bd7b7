use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const COMMAND_SCHEMA_VERSION: u16 = 2;

/// Wrapper for every command put on a queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommandEnvelope<C> {
    pub version: u16,
    pub command_id: Uuid,
    pub reply_to: Option<String>,
    pub command: C,
}

impl<C> CommandEnvelope<C> {
    pub fn new(command: C) -> Self {
        Self { version: COMMAND_SCHEMA_VERSION, command_id: Uuid::new_v4(), reply_to: None, command }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum FlightCommand {
    HoldSeats {
        hold_id: Uuid,
        booking_id: Uuid,
        flight_id: i64,
        fare_class: String,
        seats: i32,
        travel_date: NaiveDate,
    },
    ReleaseSeats {
        hold_id: Uuid,
    },
}
