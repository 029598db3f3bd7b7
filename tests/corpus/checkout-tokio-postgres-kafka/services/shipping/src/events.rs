use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Published on `shipping.events` whenever a shipment changes state.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentStatusChanged {
    pub shipment_id: Uuid,
    pub order_id: Uuid,
    pub status: String,
    pub tracking_number: Option<String>,
    pub changed_at: chrono::DateTime<chrono::Utc>,
}
