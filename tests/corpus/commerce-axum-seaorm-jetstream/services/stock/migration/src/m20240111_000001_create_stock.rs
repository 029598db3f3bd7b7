use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StockLevels::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(StockLevels::Sku).string().not_null().primary_key())
                    .col(ColumnDef::new(StockLevels::OnHand).integer().not_null())
                    .col(ColumnDef::new(StockLevels::Available).integer().not_null())
                    .col(ColumnDef::new(StockLevels::UpdatedAt).timestamp_with_time_zone().not_null().default(Expr::current_timestamp()))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Reservations::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Reservations::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Reservations::OrderId).uuid().not_null())
                    .col(ColumnDef::new(Reservations::Sku).string().not_null())
                    .col(ColumnDef::new(Reservations::Quantity).integer().not_null())
                    .col(ColumnDef::new(Reservations::Status).string().not_null().default("held"))
                    .col(ColumnDef::new(Reservations::CreatedAt).timestamp_with_time_zone().not_null().default(Expr::current_timestamp()))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_reservations_order")
                    .table(Reservations::Table)
                    .col(Reservations::OrderId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Reservations::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(StockLevels::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum StockLevels {
    Table,
    Sku,
    OnHand,
    Available,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Reservations {
    Table,
    Id,
    OrderId,
    Sku,
    Quantity,
    Status,
    CreatedAt,
}
