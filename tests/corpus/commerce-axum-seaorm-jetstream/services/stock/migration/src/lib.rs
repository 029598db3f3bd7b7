pub use sea_orm_migration::prelude::*;

mod m20240111_000001_create_stock;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migration_table_name() -> DynIden {
        Alias::new("stock_seaql_migrations").into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20240111_000001_create_stock::Migration)]
    }
}
