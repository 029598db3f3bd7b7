//! Client for the external payment service provider.

use serde::{Deserialize, Serialize};

pub const SUPPORTED_CURRENCIES: [&str; 3] = ["EUR", "USD", "GBP"];

pub struct PspClient {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
}

#[derive(Serialize)]
struct PspCharge<'a> {
    amount: i64,
    currency: &'a str,
    source: &'a str,
    reference: String,
}

#[derive(Debug, Deserialize)]
pub struct PspChargeResult {
    pub id: String,
    pub status: String,
}

impl PspClient {
    pub fn new(base_url: &str, api_key: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: api_key.to_owned(),
        }
    }

    pub async fn charge(
        &self,
        amount: i64,
        currency: &str,
        source: &str,
        idempotency_key: &str,
    ) -> reqwest::Result<PspChargeResult> {
        self.http
            .post(format!("{}/charges", self.base_url))
            .bearer_auth(&self.api_key)
            .header("Idempotency-Key", idempotency_key)
            .json(&PspCharge { amount, currency, source, reference: idempotency_key.to_owned() })
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    pub async fn refund(&self, psp_reference: &str, amount: i64) -> reqwest::Result<()> {
        self.http
            .post(format!("{}/charges/{}/refunds", self.base_url, psp_reference))
            .bearer_auth(&self.api_key)
            .header("Idempotency-Key", format!("refund-{psp_reference}"))
            .json(&serde_json::json!({ "amount": amount }))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}
