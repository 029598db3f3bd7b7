//! Card gateway client. The gateway SDK we were given is synchronous (ureq), so every call is
//! moved off the async runtime.

use serde::Deserialize;

#[derive(Clone)]
pub struct Psp {
    base: String,
    agent: ureq::Agent,
}

#[derive(Debug, Deserialize)]
pub struct PspResult {
    pub reference: String,
    pub approved: bool,
    #[serde(default)]
    pub decline_reason: Option<String>,
}

impl Psp {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            base: std::env::var("PSP_URL")?,
            agent: ureq::AgentBuilder::new().timeout(std::time::Duration::from_secs(10)).build(),
        })
    }

    pub async fn charge(&self, idempotency_key: String, amount_minor: i64, currency: String) -> anyhow::Result<PspResult> {
        let agent = self.agent.clone();
        let url = format!("{}/charges", self.base);
        tokio::task::spawn_blocking(move || -> anyhow::Result<PspResult> {
            Ok(agent
                .post(&url)
                .set("Idempotency-Key", &idempotency_key)
                .send_json(ureq::json!({ "amount": amount_minor, "currency": currency }))?
                .into_json()?)
        })
        .await?
    }

    pub async fn refund(&self, idempotency_key: String, reference: String, amount_minor: i64) -> anyhow::Result<PspResult> {
        let agent = self.agent.clone();
        let url = format!("{}/charges/{}/refund", self.base, reference);
        tokio::task::spawn_blocking(move || -> anyhow::Result<PspResult> {
            Ok(agent
                .post(&url)
                .set("Idempotency-Key", &idempotency_key)
                .send_json(ureq::json!({ "amount": amount_minor }))?
                .into_json()?)
        })
        .await?
    }
}
