use std::time::Duration;

use serde::Deserialize;
use tracing::warn;

#[derive(Debug, Clone, Deserialize)]
pub struct MailerConfig {
    pub api_url: String,
    pub from: String,
    pub max_attempts: u32,
}

pub struct Mailer {
    http: reqwest::Client,
    cfg: MailerConfig,
}

impl Mailer {
    pub fn new(cfg: MailerConfig) -> Self {
        Self { http: reqwest::Client::new(), cfg }
    }

    pub async fn send(&self, to: &str, subject: &str, body: &str) -> anyhow::Result<()> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let res = self
                .http
                .post(&self.cfg.api_url)
                .json(&serde_json::json!({
                    "from": self.cfg.from,
                    "to": to,
                    "subject": subject,
                    "text": body,
                }))
                .send()
                .await
                .and_then(|r| r.error_for_status());
            match res {
                Ok(_) => return Ok(()),
                Err(e) if attempt < self.cfg.max_attempts => {
                    warn!(error = %e, attempt, "mail API failed, backing off");
                    backoff(attempt);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

fn backoff(attempt: u32) {
    let ms = 200u64 * 2u64.pow(attempt.min(6));
    std::thread::sleep(Duration::from_millis(ms));
}
