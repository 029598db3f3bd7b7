use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Events booking publishes (through the outbox) on the `booking-events` stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum BookingEvent {
    #[serde(rename = "booking.confirmed.v1")]
    Confirmed {
        booking_id: Uuid,
        hotel_id: i64,
        room_hold_id: Uuid,
        guest_name: String,
        check_in: NaiveDate,
        check_out: NaiveDate,
    },
    #[serde(rename = "booking.cancelled.v1")]
    Cancelled { booking_id: Uuid, reason: String },
}

impl BookingEvent {
    pub fn type_name(&self) -> &'static str {
        match self {
            BookingEvent::Confirmed { .. } => "booking.confirmed.v1",
            BookingEvent::Cancelled { .. } => "booking.cancelled.v1",
        }
    }
}
