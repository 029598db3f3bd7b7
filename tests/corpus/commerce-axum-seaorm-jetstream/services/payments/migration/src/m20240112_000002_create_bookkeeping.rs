use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            r#"
            CREATE TABLE IF NOT EXISTS payments_outbox (
                id           BIGSERIAL PRIMARY KEY,
                subject      TEXT        NOT NULL,
                msg_id       TEXT        NOT NULL UNIQUE,
                payload      JSONB       NOT NULL,
                created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
                published_at TIMESTAMPTZ
            );
            CREATE TABLE IF NOT EXISTS processed_events (
                event_id     TEXT PRIMARY KEY,
                handler      TEXT        NOT NULL,
                processed_at TIMESTAMPTZ NOT NULL DEFAULT now()
            );
            "#,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE processed_events; DROP TABLE payments_outbox;")
            .await?;
        Ok(())
    }
}
