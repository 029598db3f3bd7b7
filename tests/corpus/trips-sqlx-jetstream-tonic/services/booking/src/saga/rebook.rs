//! Rebooking: move a confirmed booking to another trip and charge the fare difference.

use rust_decimal::Decimal;
use uuid::Uuid;

use super::retry;
use crate::{error::BookingError, repo::{async_trait_free::BookingRepo, PgBookings}, AppState};

const MAX_ATTEMPTS: u32 = 3;

pub async fn rebook(app: &AppState, booking_id: Uuid, new_trip_id: Uuid, fare_difference: Decimal) -> Result<(), BookingError> {
    let mut repo = PgBookings::begin(&app.db).await?;
    let booking = repo.find(booking_id).await?.ok_or(BookingError::NotFound(booking_id))?;
    repo.commit().await?;

    // 1. hold seats on the new trip
    let mut attempt = 0;
    let new_reservation = loop {
        match app.inventory.reserve_seats(new_trip_id, booking.seats as u32, booking_id).await {
            Ok(r) => break r,
            Err(e) if attempt + 1 < MAX_ATTEMPTS => {
                tracing::warn!(error = %e, attempt, "reserve failed, retrying");
                retry::backoff(attempt);
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    };

    // 2. charge the difference
    if fare_difference > Decimal::ZERO {
        app.payments.charge(booking_id, fare_difference, &booking.currency).await?;
    }

    // 3. release the old seats
    if let Some(old) = booking.reservation_id.as_deref() {
        app.inventory.release_seats(old).await?;
    }

    sqlx::query!(
        "UPDATE bookings SET trip_id = $2, reservation_id = $3, updated_at = now() WHERE id = $1",
        booking_id,
        new_trip_id,
        new_reservation
    )
    .execute(&app.db)
    .await?;
    Ok(())
}
