pub use sea_orm_migration::prelude::*;

mod m20240112_000001_create_payments;
mod m20240112_000002_create_bookkeeping;
mod m20240301_000003_create_exchange_rates;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migration_table_name() -> DynIden {
        Alias::new("payments_seaql_migrations").into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20240112_000001_create_payments::Migration),
            Box::new(m20240112_000002_create_bookkeeping::Migration),
            Box::new(m20240301_000003_create_exchange_rates::Migration),
        ]
    }
}
