use sea_orm_migration::prelude::*;

/// Settlement happens in EUR; we keep our own daily rates from the acquirer's feed.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ExchangeRates::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(ExchangeRates::Currency).char_len(3).not_null())
                    .col(ColumnDef::new(ExchangeRates::RateToEur).decimal_len(18, 8).not_null())
                    .col(ColumnDef::new(ExchangeRates::Day).date().not_null())
                    .primary_key(Index::create().col(ExchangeRates::Currency).col(ExchangeRates::Day))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ExchangeRates::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum ExchangeRates {
    Table,
    Currency,
    RateToEur,
    Day,
}
