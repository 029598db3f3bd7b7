use proto::inventory::{inventory_client::InventoryClient as Grpc, ReleaseSeatsRequest, ReserveSeatsRequest};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tonic::transport::Channel;
use uuid::Uuid;

#[derive(Clone)]
pub struct InventoryClient {
    inner: Grpc<Channel>,
}

impl InventoryClient {
    pub async fn connect(endpoint: String) -> Result<Self, tonic::transport::Error> {
        Ok(Self { inner: Grpc::connect(endpoint).await? })
    }

    pub async fn reserve_seats(&self, trip_id: Uuid, seats: u32, booking_id: Uuid) -> Result<String, tonic::Status> {
        let mut c = self.inner.clone();
        let resp = c
            .reserve_seats(ReserveSeatsRequest {
                trip_id: trip_id.to_string(),
                seats,
                booking_id: booking_id.to_string(),
            })
            .await?;
        Ok(resp.into_inner().reservation_id)
    }

    pub async fn release_seats(&self, reservation_id: &str) -> Result<(), tonic::Status> {
        let mut c = self.inner.clone();
        c.release_seats(ReleaseSeatsRequest { reservation_id: reservation_id.to_owned() }).await?;
        Ok(())
    }
}

#[derive(Clone)]
pub struct PaymentsClient {
    http: reqwest::Client,
    base: String,
}

#[derive(Serialize)]
struct ChargeRequest<'a> {
    booking_id: Uuid,
    amount_minor: i64,
    currency: &'a str,
}

#[derive(Deserialize)]
pub struct ChargeResponse {
    pub payment_id: Uuid,
    pub status: String,
}

impl PaymentsClient {
    pub fn new(base: String) -> Self {
        Self { http: reqwest::Client::new(), base }
    }

    pub async fn charge(&self, booking_id: Uuid, amount: Decimal, currency: &str) -> Result<ChargeResponse, reqwest::Error> {
        let amount_minor = (amount * Decimal::ONE_HUNDRED).trunc().try_into().unwrap_or_default();
        self.http
            .post(format!("{}/charges", self.base))
            .header("Idempotency-Key", booking_id.to_string())
            .json(&ChargeRequest { booking_id, amount_minor, currency })
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    pub async fn refund(&self, payment_id: Uuid) -> Result<(), reqwest::Error> {
        self.http
            .post(format!("{}/charges/{}/refund", self.base, payment_id))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}
