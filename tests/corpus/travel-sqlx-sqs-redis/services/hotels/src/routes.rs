use std::convert::Infallible;

use chrono::NaiveDate;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use travel_core::HOTEL_EVENTS_STREAM;
use uuid::Uuid;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use crate::events::HotelEvent;

#[derive(Debug, Deserialize)]
pub struct HoldRequest {
    booking_id: Uuid,
    hotel_id: i64,
    check_in: NaiveDate,
    check_out: NaiveDate,
}

#[derive(Serialize)]
struct HoldResponse {
    hold_id: Uuid,
}

fn with<T: Clone + Send>(v: T) -> impl Filter<Extract = (T,), Error = Infallible> + Clone {
    warp::any().map(move || v.clone())
}

pub fn routes(
    db: PgPool,
    publisher: ConnectionManager,
) -> impl Filter<Extract = impl Reply, Error = Rejection> + Clone {
    let create = warp::post()
        .and(warp::path!("v1" / "holds"))
        .and(warp::header::<String>("idempotency-key"))
        .and(warp::body::json())
        .and(with(db.clone()))
        .and(with(publisher))
        .and_then(create_hold);

    let release = warp::delete()
        .and(warp::path!("v1" / "holds" / Uuid))
        .and(with(db))
        .and_then(release_hold);

    create.or(release)
}

#[derive(Debug)]
struct Internal(String);
impl warp::reject::Reject for Internal {}

fn reject<E: std::fmt::Display>(e: E) -> Rejection {
    warp::reject::custom(Internal(e.to_string()))
}

async fn create_hold(
    key: String,
    req: HoldRequest,
    db: PgPool,
    mut publisher: ConnectionManager,
) -> Result<impl Reply, Rejection> {
    if let Some(hold_id) = sqlx::query_scalar!("SELECT hold_id FROM hold_request_keys WHERE key = $1", key)
        .fetch_optional(&db)
        .await
        .map_err(reject)?
    {
        return Ok(warp::reply::with_status(warp::reply::json(&HoldResponse { hold_id }), StatusCode::OK));
    }

    let hold_id = Uuid::new_v4();
    let mut tx = db.begin().await.map_err(reject)?;
    sqlx::query!(
        "INSERT INTO room_holds (id, booking_id, hotel_id, check_in, check_out) VALUES ($1, $2, $3, $4, $5)",
        hold_id,
        req.booking_id,
        req.hotel_id,
        req.check_in,
        req.check_out
    )
    .execute(&mut *tx)
    .await
    .map_err(reject)?;
    sqlx::query!("INSERT INTO hold_request_keys (key, hold_id) VALUES ($1, $2)", key, hold_id)
        .execute(&mut *tx)
        .await
        .map_err(reject)?;
    tx.commit().await.map_err(reject)?;

    let event = HotelEvent::HoldPlaced {
        hold_id,
        booking_id: req.booking_id,
        hotel_id: req.hotel_id,
        check_in: req.check_in,
        check_out: req.check_out,
    };
    let payload = serde_json::to_string(&event).map_err(reject)?;
    let _: String = publisher
        .xadd(HOTEL_EVENTS_STREAM, "*", &[("event", payload)])
        .await
        .map_err(reject)?;

    Ok(warp::reply::with_status(warp::reply::json(&HoldResponse { hold_id }), StatusCode::CREATED))
}

async fn release_hold(hold_id: Uuid, db: PgPool) -> Result<impl Reply, Rejection> {
    sqlx::query!("UPDATE room_holds SET status = 'released' WHERE id = $1", hold_id)
        .execute(&db)
        .await
        .map_err(reject)?;
    Ok(StatusCode::NO_CONTENT)
}
