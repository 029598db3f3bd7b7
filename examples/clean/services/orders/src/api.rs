use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use messaging::{subjects, Envelope};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::events::{Line, OrderPlaced};

const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

#[derive(Debug, Deserialize)]
pub struct PlaceOrder {
    pub customer_id: Uuid,
    pub currency: String,
    pub lines: Vec<Line>,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Order {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub currency: String,
    pub total_minor: i64,
    pub status: String,
}

type ApiResult<T> = Result<T, (StatusCode, String)>;

/// Records the order and its `OrderPlaced` event in one transaction. The client's
/// `Idempotency-Key` is claimed in the same transaction, so a retry gets the first order back.
pub async fn place_order(
    State(pool): State<PgPool>,
    headers: HeaderMap,
    Json(request): Json<PlaceOrder>,
) -> ApiResult<(StatusCode, Json<Order>)> {
    let key = headers
        .get(IDEMPOTENCY_KEY)
        .and_then(|value| value.to_str().ok())
        .ok_or((
            StatusCode::BAD_REQUEST,
            "Idempotency-Key header is required".into(),
        ))?
        .to_owned();
    if request.lines.is_empty() {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            "an order needs lines".into(),
        ));
    }

    let mut tx = pool.begin().await.map_err(internal)?;
    let claimed =
        sqlx::query("INSERT INTO idempotency_keys (key) VALUES ($1) ON CONFLICT (key) DO NOTHING")
            .bind(&key)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
    if claimed.rows_affected() == 0 {
        let order = sqlx::query_as::<_, Order>(
            "SELECT o.id, o.customer_id, o.currency, o.total_minor, o.status \
             FROM orders o JOIN idempotency_keys k ON k.order_id = o.id WHERE k.key = $1",
        )
        .bind(&key)
        .fetch_one(&mut *tx)
        .await
        .map_err(internal)?;
        return Ok((StatusCode::OK, Json(order)));
    }

    let total_minor: i64 = request
        .lines
        .iter()
        .map(|line| line.unit_minor * i64::from(line.quantity))
        .sum();
    let order = sqlx::query_as::<_, Order>(
        "INSERT INTO orders (id, customer_id, currency, total_minor) VALUES ($1, $2, $3, $4) \
         RETURNING id, customer_id, currency, total_minor, status",
    )
    .bind(Uuid::new_v4())
    .bind(request.customer_id)
    .bind(&request.currency)
    .bind(total_minor)
    .fetch_one(&mut *tx)
    .await
    .map_err(internal)?;
    for line in &request.lines {
        sqlx::query(
            "INSERT INTO order_lines (order_id, sku, quantity, unit_minor) VALUES ($1, $2, $3, $4)",
        )
        .bind(order.id)
        .bind(&line.sku)
        .bind(line.quantity)
        .bind(line.unit_minor)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    }

    let event = Envelope::new(
        "OrderPlaced",
        1,
        OrderPlaced {
            order_id: order.id,
            customer_id: order.customer_id,
            currency: order.currency.clone(),
            total_minor,
            lines: request.lines,
        },
    );
    sqlx::query("INSERT INTO outbox (subject, payload) VALUES ($1, $2)")
        .bind(subjects::ORDER_PLACED)
        .bind(sqlx::types::Json(&event))
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    sqlx::query("UPDATE idempotency_keys SET order_id = $2 WHERE key = $1")
        .bind(&key)
        .bind(order.id)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    Ok((StatusCode::CREATED, Json(order)))
}

pub async fn get_order(State(pool): State<PgPool>, Path(id): Path<Uuid>) -> ApiResult<Json<Order>> {
    sqlx::query_as::<_, Order>(
        "SELECT id, customer_id, currency, total_minor, status FROM orders WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&pool)
    .await
    .map_err(internal)?
    .map(Json)
    .ok_or((StatusCode::NOT_FOUND, format!("order {id} not found")))
}

fn internal(error: sqlx::Error) -> (StatusCode, String) {
    tracing::error!(%error, "database error");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
}
