use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::HeaderMap,
    Json,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{error::BookingError, saga, AppState};

#[derive(Deserialize)]
pub struct CreateBooking {
    pub customer_email: String,
    pub trip_id: Uuid,
    pub seats: u32,
    pub total: Decimal,
    pub currency: String,
}

#[derive(Serialize)]
pub struct BookingAccepted {
    pub id: Uuid,
    pub status: String,
}

trait HeaderMapExt {
    fn idempotency_key(&self) -> Result<&str, BookingError>;
}

impl HeaderMapExt for HeaderMap {
    fn idempotency_key(&self) -> Result<&str, BookingError> {
        self.get("Idempotency-Key")
            .and_then(|v| v.to_str().ok())
            .ok_or(BookingError::MissingKey)
    }
}

/// POST /bookings — replays return the booking created by the first request with the same key.
pub async fn create_booking(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(req): Json<CreateBooking>,
) -> Result<Json<BookingAccepted>, BookingError> {
    let key = headers.idempotency_key()?;
    let total_minor: i64 = (req.total * Decimal::ONE_HUNDRED).trunc().try_into().unwrap_or_default();

    let inserted = sqlx::query_scalar!(
        r#"INSERT INTO bookings (id, idempotency_key, customer_email, trip_id, seats, total_minor, currency)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (idempotency_key) DO NOTHING
           RETURNING id"#,
        Uuid::new_v4(),
        key,
        req.customer_email,
        req.trip_id,
        req.seats as i32,
        total_minor,
        req.currency,
    )
    .fetch_optional(&app.db)
    .await?;

    let id = match inserted {
        Some(id) => id,
        None => {
            let existing = sqlx::query_scalar!("SELECT id FROM bookings WHERE idempotency_key = $1", key)
                .fetch_one(&app.db)
                .await?;
            return Ok(Json(BookingAccepted { id: existing, status: "duplicate".into() }));
        }
    };

    let app2 = app.clone();
    tokio::spawn(async move {
        let mut saga = saga::BookingSaga::new(id, app2);
        if let Err(e) = saga.run().await {
            tracing::error!(booking = %id, error = %e, "booking saga failed");
        }
    });

    Ok(Json(BookingAccepted { id, status: "pending".into() }))
}

#[derive(Deserialize)]
pub struct Rebook {
    pub new_trip_id: Uuid,
    pub fare_difference: Decimal,
}

pub async fn rebook(
    State(app): State<Arc<AppState>>,
    Path(id): Path<Uuid>,
    Json(req): Json<Rebook>,
) -> Result<Json<BookingAccepted>, BookingError> {
    saga::rebook::rebook(&app, id, req.new_trip_id, req.fare_difference).await?;
    Ok(Json(BookingAccepted { id, status: "rebooked".into() }))
}
