//! Dataset metadata, health, readiness and metrics.

use std::fmt::Write;
use std::time::SystemTime;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::problem::Problem;
use super::{policy, with_policy, AppState};
use crate::clock;
use crate::store::{DatasetInfo, Snapshot};

/// Versions and hashes of the loaded datasets.
#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetsResponse {
    /// Increases whenever a dataset is (re)loaded.
    generation: u64,
    datasets: Vec<DatasetInfo>,
    exchange_rates: RatesFreshness,
}

/// How old the newest exchange rates are.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatesFreshness {
    /// Date of the newest ECB publication loaded.
    latest_publication: NaiveDate,
    /// Whole days from that date to today (UTC).
    age_days: i64,
    /// When the next publication is expected (the next TARGET day, 14:00 UTC).
    #[schema(value_type = String, format = DateTime)]
    next_expected_publication: String,
    /// Whether that moment has passed without the publication being loaded.
    overdue: bool,
}

fn freshness(data: &Snapshot, now: SystemTime) -> (RatesFreshness, SystemTime) {
    let last = data.exchange_rates().last_date();
    let today = DateTime::<Utc>::from(now).date_naive();
    let expected = clock::expected_publication_after(last);
    let overdue = expected <= now;
    let mut changes_at = clock::next_midnight(now);
    if !overdue {
        changes_at = changes_at.min(expected);
    }
    let freshness = RatesFreshness {
        latest_publication: last,
        age_days: (today - last).num_days(),
        next_expected_publication: DateTime::<Utc>::from(expected)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        overdue,
    };
    (freshness, changes_at)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    status: &'static str,
}

#[utoipa::path(
    get,
    path = "/v1/datasets",
    tag = "meta",
    responses(
        (status = 200, description = "Each dataset's source version, content hash and last change", body = DatasetsResponse),
        (status = 503, description = "Datasets not loaded yet", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn datasets(State(state): State<AppState>) -> Result<Response, Problem> {
    let data = state.data()?;
    let all: Vec<&DatasetInfo> = data.datasets().iter().collect();
    let (exchange_rates, changes_at) = freshness(&data, state.clock().now());
    Ok(with_policy(
        policy::until(policy::metadata(&all), changes_at),
        Json(DatasetsResponse {
            generation: state.generation().current(),
            datasets: data.datasets().to_vec(),
            exchange_rates,
        }),
    ))
}

#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, description = "The process is up", body = Status)))]
pub async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

#[utoipa::path(get, path = "/readyz", tag = "meta",
    responses(
        (status = 200, description = "Datasets are loaded (and the rates are recent enough, when a maximum age is configured)", body = Status),
        (status = 503, description = "Still loading, or the newest rates are older than the configured maximum age", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Status>, Problem> {
    let data = state.data()?;
    if let Some(max_age) = state.config().max_rates_age {
        let last = data.exchange_rates().last_date();
        let age = clock::rates_age(last, state.clock().now());
        if age > max_age {
            return Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "rates-stale",
                "Exchange rates too old",
                format!(
                    "the newest exchange rates are of {last}, {} h old; the configured maximum \
                     is {} h: the daily import has stopped",
                    age.as_secs() / 3600,
                    max_age.as_secs() / 3600
                ),
            ));
        }
    }
    Ok(Json(Status { status: "ready" }))
}

#[utoipa::path(get, path = "/metrics", tag = "meta",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut text = String::new();
    let ready = u8::from(state.is_ready());
    let _ = writeln!(
        text,
        "# HELP refdata_ready Whether the datasets are loaded."
    );
    let _ = writeln!(text, "# TYPE refdata_ready gauge\nrefdata_ready {ready}");
    let _ = writeln!(
        text,
        "# HELP refdata_data_generation Number of dataset loads since start.\n\
         # TYPE refdata_data_generation counter\nrefdata_data_generation {}",
        state.generation().current()
    );
    let _ = writeln!(
        text,
        "# HELP refdata_shed_total Requests answered 503 busy: every expensive-render permit \
         was taken.\n# TYPE refdata_shed_total counter\nrefdata_shed_total {}",
        state.shed_count()
    );
    if let Some(data) = state.snapshot() {
        let _ = writeln!(
            text,
            "# HELP refdata_dataset_records Records per loaded dataset.\n\
             # TYPE refdata_dataset_records gauge"
        );
        for dataset in data.datasets() {
            let _ = writeln!(
                text,
                "refdata_dataset_records{{dataset=\"{}\"}} {}",
                dataset.name, dataset.records
            );
        }
        let last = data.exchange_rates().last_date();
        let published = clock::start_of(last)
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let _ = writeln!(
            text,
            "# HELP refdata_exchange_rates_latest_publication_timestamp_seconds 00:00 UTC of the \
             newest ECB publication loaded.\n\
             # TYPE refdata_exchange_rates_latest_publication_timestamp_seconds gauge\n\
             refdata_exchange_rates_latest_publication_timestamp_seconds {}\n\
             # HELP refdata_exchange_rates_age_seconds Time since 00:00 UTC of the newest ECB \
             publication loaded.\n\
             # TYPE refdata_exchange_rates_age_seconds gauge\n\
             refdata_exchange_rates_age_seconds {}",
            published.as_secs(),
            clock::rates_age(last, state.clock().now()).as_secs()
        );
    }
    text.push_str(&state.extra_metrics());
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
