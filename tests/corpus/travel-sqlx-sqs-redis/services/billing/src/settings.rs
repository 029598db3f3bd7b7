use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Settings {
    pub listen: String,
    pub db: Db,
    pub queues: Queues,
    pub psp: Psp,
    pub redis: Redis,
}

#[derive(Debug, Deserialize)]
pub struct Db {
    pub url: String,
    pub ledger_url: String,
}

#[derive(Debug, Deserialize)]
pub struct Queues {
    pub invoice_requests: String,
    pub refund_requests: String,
    pub billing_events: String,
}

#[derive(Debug, Deserialize)]
pub struct Psp {
    pub url: String,
}

#[derive(Debug, Deserialize)]
pub struct Redis {
    pub url: String,
}

impl Settings {
    pub fn load() -> Result<Self, config::ConfigError> {
        config::Config::builder()
            .add_source(config::File::with_name("config/default"))
            .add_source(config::Environment::with_prefix("BILLING").separator("__"))
            .build()?
            .try_deserialize()
    }
}
