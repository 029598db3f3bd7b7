pub use sea_orm_migration::prelude::*;

mod m20240110_000001_create_orders;
mod m20240110_000002_create_outbox_inbox;
mod m20240215_000003_create_exchange_rates;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20240110_000001_create_orders::Migration),
            Box::new(m20240110_000002_create_outbox_inbox::Migration),
            Box::new(m20240215_000003_create_exchange_rates::Migration),
        ]
    }
}
