//! Transactional e-mail via the mailer's HTTP API.

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Email<'a> {
    pub to: &'a str,
    pub template: &'a str,
    pub vars: serde_json::Value,
}

pub fn send(agent: &ureq::Agent, mailer_url: &str, email: &Email<'_>) -> anyhow::Result<()> {
    agent
        .post(mailer_url)
        .set("Authorization", &format!("Bearer {}", std::env::var("MAILER_TOKEN").unwrap_or_default()))
        .send_json(email)?;
    Ok(())
}
