use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Serialize)]
pub struct SeatsReleased {
    pub reservation_id: Uuid,
    pub trip_id: Uuid,
    pub seats: i32,
}
