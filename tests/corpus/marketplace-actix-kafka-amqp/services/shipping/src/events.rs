use serde::Serialize;
use uuid::Uuid;

pub const EXCHANGE: &str = "shipping";
pub const ROUTING_KEY_BOOKED: &str = "shipment.booked";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentBooked {
    pub order_id: Uuid,
    pub tracking: String,
    pub zone: String,
}
