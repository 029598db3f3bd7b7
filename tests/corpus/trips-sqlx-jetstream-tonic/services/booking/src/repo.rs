use async_trait_free::BookingRepo;
use common::events::{BookingConfirmed, Envelope};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Booking {
    pub id: Uuid,
    pub customer_email: String,
    pub trip_id: Uuid,
    pub seats: i32,
    pub total_minor: i64,
    pub currency: String,
    pub status: String,
    pub reservation_id: Option<String>,
    pub payment_id: Option<Uuid>,
}

pub mod async_trait_free {
    use super::*;

    /// Repository over the booking tables. Implemented for the pool and for a transaction.
    pub trait BookingRepo {
        fn find(&mut self, id: Uuid) -> impl std::future::Future<Output = sqlx::Result<Option<Booking>>> + Send;
        fn set_status(&mut self, id: Uuid, status: &'static str) -> impl std::future::Future<Output = sqlx::Result<()>> + Send;
    }
}

pub struct PgBookings<'a> {
    pub tx: Transaction<'a, Postgres>,
}

impl<'a> BookingRepo for PgBookings<'a> {
    async fn find(&mut self, id: Uuid) -> sqlx::Result<Option<Booking>> {
        sqlx::query_as!(
            Booking,
            r#"SELECT id, customer_email, trip_id, seats, total_minor, currency, status, reservation_id, payment_id
               FROM bookings WHERE id = $1"#,
            id
        )
        .fetch_optional(&mut *self.tx)
        .await
    }

    async fn set_status(&mut self, id: Uuid, status: &'static str) -> sqlx::Result<()> {
        sqlx::query!("UPDATE bookings SET status = $2, updated_at = now() WHERE id = $1", id, status)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}

impl<'a> PgBookings<'a> {
    pub async fn begin(pool: &PgPool) -> sqlx::Result<PgBookings<'static>> {
        Ok(PgBookings { tx: pool.begin().await? })
    }

    pub async fn enqueue_confirmed(&mut self, b: &Booking) -> sqlx::Result<()> {
        let evt = Envelope::new(
            BookingConfirmed {
                booking_id: b.id,
                customer_email: b.customer_email.clone(),
                trip_id: b.trip_id,
                seats: b.seats as u32,
                total: common::money::Money::zero(common::money::Currency::Eur),
            },
            1,
        );
        sqlx::query("INSERT INTO outbox (subject, payload) VALUES ($1, $2)")
            .bind(common::subjects::BOOKING_CONFIRMED)
            .bind(sqlx::types::Json(&evt))
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn commit(self) -> sqlx::Result<()> {
        self.tx.commit().await
    }
}

pub async fn log_state(pool: &PgPool, booking_id: Uuid, state: &str, detail: serde_json::Value) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO saga_log (booking_id, state, detail) VALUES ($1, $2, $3)",
        booking_id,
        state,
        detail
    )
    .execute(pool)
    .await?;
    Ok(())
}
