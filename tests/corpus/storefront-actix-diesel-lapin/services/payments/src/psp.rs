//! Client for the external payment gateway. The gateway deduplicates on `Idempotency-Key`.

use serde::Deserialize;

#[derive(Clone)]
pub struct PspClient {
    http: reqwest::Client,
    base: String,
    api_key: String,
}

#[derive(Debug, Deserialize)]
pub struct PspCharge {
    pub reference: String,
    pub status: String,
}

#[derive(Debug, Deserialize)]
pub struct PspRefund {
    pub reference: String,
}

impl PspClient {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::new(),
            base: std::env::var("PSP_BASE_URL")?,
            api_key: std::env::var("PSP_API_KEY").unwrap_or_default(),
        })
    }

    pub async fn capture(&self, idempotency_key: &str, amount_cents: i64, currency: &str) -> anyhow::Result<PspCharge> {
        Ok(self
            .http
            .post(format!("{}/charges", self.base))
            .bearer_auth(&self.api_key)
            .header("Idempotency-Key", idempotency_key)
            .json(&serde_json::json!({ "amount": amount_cents, "currency": currency, "capture": true }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    pub async fn refund(&self, idempotency_key: &str, psp_reference: &str) -> anyhow::Result<PspRefund> {
        Ok(self
            .http
            .post(format!("{}/charges/{}/refunds", self.base, psp_reference))
            .bearer_auth(&self.api_key)
            .header("Idempotency-Key", idempotency_key)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }
}
