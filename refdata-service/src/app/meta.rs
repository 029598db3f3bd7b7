//! Dataset metadata, health, readiness and metrics.

use std::fmt::Write;
use std::time::SystemTime;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::ApiPath;
use super::problem::Problem;
use super::{policy, with_policy, AppState};
use crate::clock;
use crate::store::{DatasetInfo, Snapshot};

/// Versions and hashes of the loaded datasets.
#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetsResponse {
    /// Increases whenever a dataset is (re)loaded.
    generation: u64,
    /// The stored dataset version served (0 without a database); writes send it as
    /// `If-Match`.
    version: u64,
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
            version: state.version(),
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
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain"),
        (status = 401, description = "Missing, malformed or unknown token (any role may read metrics)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<Response, Problem> {
    super::admin::authorize(&state, &headers, crate::auth::Role::Reader)?;
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
        "# HELP refdata_dataset_version Stored dataset version served (0 without a database).\n\
         # TYPE refdata_dataset_version gauge\nrefdata_dataset_version {}",
        state.version()
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
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// One version of a dataset.
#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetVersion {
    version: u64,
    /// RFC 3339, UTC.
    created_at: String,
    /// What was done, e.g. `tax-rates.create`, `rollback`, `seed`.
    action: String,
    /// Why, as given by the author.
    reason: String,
}

/// The versions in which a dataset changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetVersions {
    dataset: String,
    /// The dataset version served now.
    current: u64,
    /// Oldest first.
    items: Vec<DatasetVersion>,
}

fn known_dataset(name: &str) -> Result<(), Problem> {
    if crate::storage::DATASETS.contains(&name) {
        Ok(())
    } else {
        Err(Problem::not_found("dataset", name))
    }
}

#[utoipa::path(get, path = "/v1/datasets/{name}/versions", tag = "meta",
    params(("name" = String, Path, description = "countries, subdivisions, currencies, exchange_rates or tax_rates",
        pattern = "^(countries|subdivisions|currencies|exchange_rates|tax_rates)$")),
    responses(
        (status = 200, description = "The stored versions in which the dataset changed, oldest first", body = DatasetVersions),
        (status = 404, description = "Unknown dataset", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Datasets not loaded yet", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn versions(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, Problem> {
    state.data()?;
    known_dataset(&name)?;
    let items = state
        .history()
        .iter()
        .filter(|v| v.datasets.iter().any(|d| d == &name))
        .map(|v| DatasetVersion {
            version: v.version,
            created_at: v.created_at.clone(),
            action: v.action.clone(),
            reason: v.reason.clone(),
        })
        .collect();
    Ok(Json(DatasetVersions {
        dataset: name,
        current: state.version(),
        items,
    })
    .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DatasetQuery {
    /// A stored dataset version (default: the current one). Versions never change, so such
    /// answers are cached as immutable.
    #[param(pattern = "^[0-9]{1,18}$")]
    version: Option<String>,
}

/// A dataset's records at one version.
#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetContents {
    dataset: String,
    version: u64,
    /// The records, in the shape of the read API (tax rates with their ids).
    #[schema(value_type = Vec<Object>)]
    items: serde_json::Value,
}

#[utoipa::path(get, path = "/v1/datasets/{name}", tag = "meta",
    params(("name" = String, Path, description = "countries, subdivisions, currencies, exchange_rates or tax_rates",
        pattern = "^(countries|subdivisions|currencies|exchange_rates|tax_rates)$"), DatasetQuery),
    responses(
        (status = 200, description = "The dataset as of `version`: JSON records, or for exchange_rates the CSV table (`date,USD,...`, one row per publication)", 
            content((DatasetContents = "application/json"), (String = "text/csv"))),
        (status = 304, description = "Not modified"),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown dataset or version", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Datasets not loaded yet, or no database", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn dataset(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    super::extract::ApiQuery(query): super::extract::ApiQuery<DatasetQuery>,
) -> Result<Response, Problem> {
    let data = state.data()?;
    known_dataset(&name)?;
    let requested = super::extract::parse_count("version", &query.version)?;
    let current = state.version();
    let version = requested.map_or(current, |v| v as u64);
    if version == 0 || version > current {
        return Err(Problem::not_found("dataset version", &version.to_string()));
    }
    let store = state.store().cloned().ok_or_else(|| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "read-only",
            "No database",
            "this instance serves the embedded snapshot without stored versions",
        )
    })?;
    // Reading an old version goes to the database: one such render at a time per permit,
    // like the other expensive answers.
    let permit = state.expensive_permit()?;
    let contents = store
        .dataset_contents(version, &name)
        .await
        .map_err(super::admin::storage_problem)?;
    let failed = |error: crate::storage::StorageError| super::admin::storage_problem(error);
    let items = match name.as_str() {
        "countries" => serde_json::to_value(contents.countries().map_err(failed)?),
        "subdivisions" => serde_json::to_value(contents.subdivisions().map_err(failed)?),
        "currencies" => serde_json::to_value(contents.currencies().map_err(failed)?),
        "tax_rates" => serde_json::to_value(contents.tax_rows().map_err(failed)?),
        _ => {
            let csv = contents.rates_csv().map_err(failed)?;
            let tag = format!("exchange_rates@v{version}");
            return Ok(super::holding(
                with_policy(
                    version_policy(&data, &tag, requested.is_some()),
                    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv),
                ),
                Some(permit),
            ));
        }
    }
    .unwrap_or_default();
    let tag = format!("{name}@v{version}");
    Ok(super::holding(
        with_policy(
            version_policy(&data, &tag, requested.is_some()),
            Json(DatasetContents {
                dataset: name,
                version,
                items,
            }),
        ),
        Some(permit),
    ))
}

/// A named version never changes; the current one is cached like the other reference data.
fn version_policy(data: &Snapshot, tag: &str, pinned: bool) -> crate::caching::CachePolicy {
    let infos: Vec<&DatasetInfo> = data.datasets().iter().collect();
    let mut policy = if pinned {
        policy::historic_rates(&infos)
    } else {
        policy::reference(&infos)
    };
    policy.dataset_version = tag.to_owned();
    policy
}
