use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::events::BookingEvent;
use crate::saga::{BookingContext, ChargeCardStep, HoldRoomStep, HoldSeatsStep, Saga};
use crate::{change, App};

pub fn routes(app: App) -> Router {
    Router::new()
        .route("/v1/bookings", post(create_booking))
        .route("/v1/bookings/:id", get(get_booking))
        .route("/v1/bookings/:id/flight", put(change::change_flight))
        .with_state(app)
}

pub struct ApiError(StatusCode, String);

impl<E: Into<anyhow::Error>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.into().to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

#[derive(Debug, Deserialize)]
pub struct CreateBooking {
    customer_ref: String,
    customer_name: String,
    hotel_id: i64,
    flight_id: i64,
    fare_class: String,
    seats: i32,
    check_in: NaiveDate,
    check_out: NaiveDate,
    currency: String,
    total: Decimal,
    card_token: String,
}

#[derive(Serialize)]
pub struct BookingCreated {
    booking_id: Uuid,
    status: String,
}

async fn create_booking(
    State(app): State<App>,
    headers: HeaderMap,
    Json(req): Json<CreateBooking>,
) -> Result<(StatusCode, Json<BookingCreated>), ApiError> {
    let Some(key) = headers.get("Idempotency-Key").and_then(|v| v.to_str().ok()) else {
        return Err(ApiError(StatusCode::BAD_REQUEST, "Idempotency-Key header is required".into()));
    };

    if let Some(existing) = sqlx::query_scalar!(
        "SELECT booking_id FROM idempotency_keys WHERE key = $1",
        key
    )
    .fetch_optional(&app.db)
    .await?
    {
        let status = sqlx::query_scalar!("SELECT status FROM bookings WHERE id = $1", existing)
            .fetch_one(&app.db)
            .await?;
        return Ok((StatusCode::OK, Json(BookingCreated { booking_id: existing, status })));
    }

    let booking_id = Uuid::new_v4();
    let mut tx = app.db.begin().await?;
    sqlx::query!(
        r#"INSERT INTO bookings (id, customer_ref, customer_name, check_in, check_out, hotel_id, currency, total)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"#,
        booking_id,
        req.customer_ref,
        req.customer_name,
        req.check_in,
        req.check_out,
        req.hotel_id,
        req.currency,
        req.total,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO idempotency_keys (key, booking_id) VALUES ($1, $2)",
        key,
        booking_id
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;

    let mut ctx = BookingContext {
        booking_id,
        customer_ref: req.customer_ref.clone(),
        hotel_id: req.hotel_id,
        flight_id: req.flight_id,
        fare_class: req.fare_class.clone(),
        seats: req.seats,
        check_in: req.check_in,
        check_out: req.check_out,
        amount_minor: (req.total * Decimal::from(100)).trunc().try_into().unwrap_or_default(),
        currency: req.currency.clone(),
        card_token: req.card_token.clone(),
        ..Default::default()
    };

    let saga = Saga::new()
        .step(HoldSeatsStep {
            sqs: app.sqs.clone(),
            queue_url: app.cfg.queues.flight_commands_url.clone(),
        })
        .step(ChargeCardStep { http: app.http.clone(), billing_url: app.cfg.upstreams.billing.clone() })
        .step(HoldRoomStep { http: app.http.clone(), hotels_url: app.cfg.upstreams.hotels.clone() });

    let outcome = saga.run(&mut ctx).await;

    let mut tx = app.db.begin().await?;
    let (status, event) = match &outcome {
        Ok(()) => (
            "confirmed",
            BookingEvent::Confirmed {
                booking_id,
                hotel_id: req.hotel_id,
                room_hold_id: ctx.room_hold_id.unwrap_or_default(),
                guest_name: req.customer_name.clone(),
                check_in: req.check_in,
                check_out: req.check_out,
            },
        ),
        Err(e) => ("failed", BookingEvent::Cancelled { booking_id, reason: e.to_string() }),
    };
    sqlx::query!(
        r#"UPDATE bookings
           SET status = $2, flight_hold_id = $3, room_hold_id = $4, charge_id = $5, updated_at = now()
           WHERE id = $1"#,
        booking_id,
        status,
        ctx.flight_hold_id,
        ctx.room_hold_id,
        ctx.charge_id,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO outbox (aggregate_id, event_type, payload) VALUES ($1, $2, $3)",
        booking_id,
        event.type_name(),
        serde_json::to_value(&event)?,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;

    match outcome {
        Ok(()) => Ok((StatusCode::CREATED, Json(BookingCreated { booking_id, status: status.into() }))),
        Err(e) => Err(ApiError(StatusCode::CONFLICT, e.to_string())),
    }
}

#[derive(Serialize, sqlx::FromRow)]
struct BookingView {
    id: Uuid,
    status: String,
    check_in: NaiveDate,
    check_out: NaiveDate,
    total: Decimal,
    currency: String,
}

async fn get_booking(State(app): State<App>, Path(id): Path<Uuid>) -> Result<Json<BookingView>, ApiError> {
    let view = sqlx::query_as!(
        BookingView,
        r#"SELECT id, status, check_in, check_out, total, currency FROM bookings WHERE id = $1"#,
        id
    )
    .fetch_optional(&app.db)
    .await?
    .ok_or(ApiError(StatusCode::NOT_FOUND, "no such booking".into()))?;
    Ok(Json(view))
}
