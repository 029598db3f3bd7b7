use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Server {
    pub port: u16,
}

#[derive(Debug, Deserialize)]
pub struct Databases {
    pub orders: String,
    pub inventory: String,
}

#[derive(Debug, Deserialize)]
pub struct Settings {
    pub server: Server,
    pub databases: Databases,
}

impl Settings {
    pub fn load() -> anyhow::Result<Self> {
        Ok(config::Config::builder()
            .add_source(config::File::with_name("config/default"))
            .add_source(config::Environment::with_prefix("REPORTING").separator("__"))
            .build()?
            .try_deserialize()?)
    }
}
