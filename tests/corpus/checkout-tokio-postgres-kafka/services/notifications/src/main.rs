mod handlers;
mod mailer;

use config::{Config, Environment, File};
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::Message;
use serde::Deserialize;
use tokio_postgres::NoTls;
use tracing::{error, warn};

mod embedded {
    refinery::embed_migrations!("migrations");
}

#[derive(Debug, Deserialize)]
struct Settings {
    pg: deadpool_postgres::Config,
    mailer: mailer::MailerConfig,
    kafka: KafkaSettings,
}

#[derive(Debug, Deserialize)]
struct KafkaSettings {
    group_id: String,
    topics: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().json().init();
    let settings: Settings = Config::builder()
        .add_source(File::with_name("config/default"))
        .add_source(Environment::with_prefix("NOTIFICATIONS").separator("__"))
        .build()?
        .try_deserialize()?;

    let pool = settings
        .pg
        .create_pool(Some(deadpool_postgres::Runtime::Tokio1), NoTls)?;
    embedded::migrations::runner()
        .run_async(pool.get().await?.as_mut())
        .await?;

    let mailer = mailer::Mailer::new(settings.mailer);
    let topics: Vec<&str> = settings.kafka.topics.iter().map(String::as_str).collect();
    let consumer = common::kafka::consumer(&settings.kafka.group_id, &topics)?;

    loop {
        let msg = match consumer.recv().await {
            Ok(m) => m,
            Err(e) => {
                warn!(error = %e, "kafka recv");
                continue;
            }
        };
        let topic = msg.topic().to_owned();
        let payload = msg.payload().map(<[u8]>::to_vec).unwrap_or_default();
        if let Err(e) = handlers::route(&pool, &mailer, &topic, &payload).await {
            error!(error = %e, %topic, "notification failed");
        }
        consumer.commit_message(&msg, CommitMode::Async)?;
    }
}
