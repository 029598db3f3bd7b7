use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(NotificationLog::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(NotificationLog::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(NotificationLog::OrderId).uuid().not_null())
                    .col(ColumnDef::new(NotificationLog::Kind).string().not_null())
                    .col(ColumnDef::new(NotificationLog::Recipient).string().not_null())
                    .col(ColumnDef::new(NotificationLog::SentAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(NotificationLog::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum NotificationLog {
    Table,
    Id,
    OrderId,
    Kind,
    Recipient,
    SentAt,
}
