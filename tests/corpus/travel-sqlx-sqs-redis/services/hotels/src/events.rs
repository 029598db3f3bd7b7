use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

/// Published on the `hotel-events` stream for the channel manager and analytics.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HotelEvent {
    HoldPlaced {
        hold_id: Uuid,
        booking_id: Uuid,
        hotel_id: i64,
        check_in: NaiveDate,
        check_out: NaiveDate,
    },
    HoldReleased {
        hold_id: Uuid,
    },
}
