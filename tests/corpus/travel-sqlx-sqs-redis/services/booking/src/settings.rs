use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub listen: String,
    pub upstreams: Upstreams,
    pub queues: Queues,
    pub relay: RelaySettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Upstreams {
    pub flights: String,
    pub hotels: String,
    pub billing: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Queues {
    pub flight_commands_url: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RelaySettings {
    pub batch: i64,
    pub idle_ms: u64,
}

impl Settings {
    pub fn load() -> Result<Self, config::ConfigError> {
        config::Config::builder()
            .add_source(config::File::with_name("config/default"))
            .add_source(config::Environment::with_prefix("BOOKING").separator("__"))
            .build()?
            .try_deserialize()
    }
}
