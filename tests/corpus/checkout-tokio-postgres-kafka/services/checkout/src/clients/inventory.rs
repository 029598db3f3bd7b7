use common::events::OrderLine;
use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

use super::ClientError;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct ReservationId(pub Uuid);

#[derive(Serialize)]
struct ReserveRequest<'a> {
    order_id: Uuid,
    lines: &'a [OrderLine],
}

#[derive(Deserialize)]
struct ReserveResponse {
    reservation_id: ReservationId,
}

/// Thin typed wrapper around the inventory service's REST API.
#[derive(Clone)]
pub struct InventoryClient {
    http: reqwest::Client,
    base: Url,
}

impl InventoryClient {
    pub fn new(http: reqwest::Client, base: &str) -> Result<Self, ClientError> {
        Ok(Self { http, base: Url::parse(base)? })
    }

    pub async fn reserve(
        &self,
        order_id: Uuid,
        lines: &[OrderLine],
    ) -> Result<ReservationId, ClientError> {
        let resp = self
            .http
            .post(self.base.join("/v1/reservations")?)
            .json(&ReserveRequest { order_id, lines })
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(ClientError::Status {
                service: "inventory",
                status: resp.status().as_u16(),
                body: resp.text().await.unwrap_or_default(),
            });
        }
        let body: ReserveResponse = resp.json().await?;
        Ok(body.reservation_id)
    }

    pub async fn release(&self, reservation: ReservationId) -> Result<(), ClientError> {
        let url = self.base.join(&format!("/v1/reservations/{}", reservation.0))?;
        self.http.delete(url).send().await?.error_for_status()?;
        Ok(())
    }
}
