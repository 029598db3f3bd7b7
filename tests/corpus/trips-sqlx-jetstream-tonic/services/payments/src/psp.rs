use serde::{Deserialize, Serialize};

#[derive(Clone)]
pub struct PspClient {
    http: reqwest::Client,
    base: String,
}

#[derive(Serialize)]
pub struct PspCharge<'a> {
    pub amount: i64,
    pub currency: &'a str,
    pub reference: String,
}

#[derive(Deserialize)]
pub struct PspResult {
    pub id: String,
    pub status: String,
}

impl PspClient {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self { http: reqwest::Client::new(), base: std::env::var("PSP_BASE_URL")? })
    }

    pub async fn charge(&self, req: &PspCharge<'_>) -> reqwest::Result<PspResult> {
        self.http.post(format!("{}/v2/charges", self.base)).json(req).send().await?.json().await
    }

    pub async fn refund(&self, psp_reference: &str) -> reqwest::Result<PspResult> {
        self.http
            .post(format!("{}/v2/charges/{}/refunds", self.base, psp_reference))
            .send()
            .await?
            .json()
            .await
    }
}
