//! Dataset metadata, health, readiness and metrics.

use std::fmt::Write;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::problem::Problem;
use super::{policy, with_policy, AppState};
use crate::store::DatasetInfo;

/// Versions and hashes of the loaded datasets.
#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetsResponse {
    /// Increases whenever a dataset is (re)loaded.
    generation: u64,
    datasets: Vec<DatasetInfo>,
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
    Ok(with_policy(
        policy::metadata(&all),
        Json(DatasetsResponse {
            generation: state.generation().current(),
            datasets: data.datasets().to_vec(),
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
        (status = 200, description = "Datasets are loaded", body = Status),
        (status = 503, description = "Still loading", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Status>, Problem> {
    if state.is_ready() {
        Ok(Json(Status { status: "ready" }))
    } else {
        Err(Problem::not_ready())
    }
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
