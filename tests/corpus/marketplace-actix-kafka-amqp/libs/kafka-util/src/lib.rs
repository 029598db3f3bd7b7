use rdkafka::{
    config::RDKafkaLogLevel,
    consumer::StreamConsumer,
    producer::FutureProducer,
    ClientConfig,
};

/// Consumer with auto-commit off; handlers commit after the work is durable.
pub fn consumer(brokers: &str, group: &str) -> StreamConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set_log_level(RDKafkaLogLevel::Info)
        .create()
        .expect("kafka consumer")
}

pub fn producer(brokers: &str) -> FutureProducer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("message.timeout.ms", "5000")
        .create()
        .expect("kafka producer")
}
