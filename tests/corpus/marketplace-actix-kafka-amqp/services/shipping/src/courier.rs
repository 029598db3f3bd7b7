use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Thin client for the courier's booking API.
pub struct Courier {
    http: reqwest::blocking::Client,
    base: String,
}

#[derive(Serialize)]
struct Booking<'a> {
    reference: Uuid,
    zone: &'a str,
}

#[derive(Deserialize)]
pub struct Booked {
    pub tracking: String,
}

impl Courier {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::blocking::Client::builder().timeout(std::time::Duration::from_secs(10)).build()?,
            base: std::env::var("COURIER_API")?,
        })
    }

    pub fn book(&self, order_id: Uuid, zone: &str) -> reqwest::Result<Booked> {
        self.http
            .post(format!("{}/v1/pickups", self.base))
            .json(&Booking { reference: order_id, zone })
            .send()?
            .error_for_status()?
            .json()
    }
}
