use serde::Deserialize;
use uuid::Uuid;

#[derive(Clone)]
pub struct Psp {
    http: reqwest::Client,
    base: String,
}

#[derive(Debug, Deserialize)]
pub struct Charge {
    pub id: String,
    pub status: String,
}

impl Psp {
    pub fn new(base: String) -> Self {
        Self { http: reqwest::Client::new(), base }
    }

    pub async fn charge(&self, customer_id: Uuid, amount_minor: i64, currency: &str) -> reqwest::Result<Charge> {
        self.http
            .post(format!("{}/charges", self.base))
            .json(&serde_json::json!({ "customer": customer_id, "amount": amount_minor, "currency": currency }))
            .send()
            .await?
            .json()
            .await
    }

    pub async fn refund(&self, charge_id: &str) -> reqwest::Result<()> {
        self.http.post(format!("{}/charges/{charge_id}/refund", self.base)).send().await?.error_for_status()?;
        Ok(())
    }
}
