use config::{Config, ConfigError, Environment, File};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Settings {
    pub http: Http,
    pub database: Database,
    pub ledger: Ledger,
    pub reconciliation: Reconciliation,
    pub psp: Psp,
    pub kafka: Kafka,
}

#[derive(Debug, Deserialize)]
pub struct Http {
    pub bind: String,
}

#[derive(Debug, Deserialize)]
pub struct Database {
    pub url: String,
    pub replica_url: String,
}

#[derive(Debug, Deserialize)]
pub struct Ledger {
    pub url: String,
}

#[derive(Debug, Deserialize)]
pub struct Reconciliation {
    pub checkout_replica_url: String,
    pub schedule_secs: u64,
}

#[derive(Debug, Deserialize)]
pub struct Psp {
    pub base_url: String,
    pub api_key: String,
}

#[derive(Debug, Deserialize)]
pub struct Kafka {
    pub group_id: String,
}

impl Settings {
    pub fn load() -> Result<Self, ConfigError> {
        Config::builder()
            .add_source(File::with_name("config/default"))
            .add_source(Environment::with_prefix("PAYMENTS").separator("__"))
            .build()?
            .try_deserialize()
    }
}
