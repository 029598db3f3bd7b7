use sea_orm_migration::prelude::*;

/// Orders are priced in the customer's currency; totals are reported in EUR.
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
                    .col(ColumnDef::new(ExchangeRates::BaseCurrency).char_len(3).not_null())
                    .col(ColumnDef::new(ExchangeRates::QuoteCurrency).char_len(3).not_null())
                    .col(ColumnDef::new(ExchangeRates::Rate).decimal_len(18, 8).not_null())
                    .col(ColumnDef::new(ExchangeRates::ValidOn).date().not_null())
                    .primary_key(
                        Index::create()
                            .col(ExchangeRates::BaseCurrency)
                            .col(ExchangeRates::QuoteCurrency)
                            .col(ExchangeRates::ValidOn),
                    )
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
    BaseCurrency,
    QuoteCurrency,
    Rate,
    ValidOn,
}
