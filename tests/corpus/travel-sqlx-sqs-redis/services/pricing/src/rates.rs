use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::currencies::is_quotable;
use crate::AppState;

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(rename = "Cube")]
    cube: OuterCube,
}
#[derive(Debug, Deserialize)]
struct OuterCube {
    #[serde(rename = "Cube")]
    day: DayCube,
}
#[derive(Debug, Deserialize)]
struct DayCube {
    #[serde(rename = "@time")]
    time: NaiveDate,
    #[serde(rename = "Cube")]
    rates: Vec<RateCube>,
}
#[derive(Debug, Deserialize)]
struct RateCube {
    #[serde(rename = "@currency")]
    currency: String,
    #[serde(rename = "@rate")]
    rate: Decimal,
}

/// Called by the scheduler every morning after the ECB publishes.
pub async fn refresh(State(state): State<AppState>) -> Result<StatusCode, (StatusCode, String)> {
    let xml = reqwest::blocking::get(&state.settings.ecb_url)
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.text())
        .map_err(|e| (StatusCode::BAD_GATEWAY, e.to_string()))?;
    let env: Envelope =
        quick_xml::de::from_str(&xml).map_err(|e| (StatusCode::BAD_GATEWAY, e.to_string()))?;

    let mut tx = state.db.begin().await.map_err(internal)?;
    for r in env.cube.day.rates.iter().filter(|r| is_quotable(&r.currency)) {
        sqlx::query!(
            r#"INSERT INTO exchange_rates (currency, per_eur, as_of) VALUES ($1, $2, $3)
               ON CONFLICT (currency, as_of) DO UPDATE SET per_eur = EXCLUDED.per_eur"#,
            r.currency,
            r.rate,
            env.cube.day.time
        )
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    }
    tx.commit().await.map_err(internal)?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn latest(
    State(state): State<AppState>,
    Path(currency): Path<String>,
) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    let row = sqlx::query!(
        "SELECT per_eur, as_of FROM exchange_rates WHERE currency = $1 ORDER BY as_of DESC LIMIT 1",
        currency
    )
    .fetch_optional(&state.db)
    .await
    .map_err(internal)?
    .ok_or((StatusCode::NOT_FOUND, format!("no rate for {currency}")))?;
    Ok(Json(serde_json::json!({ "currency": currency, "per_eur": row.per_eur, "as_of": row.as_of })))
}

fn internal(e: sqlx::Error) -> (StatusCode, String) {
    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}
