//! The change feed: `GET /v1/changes?since=` and the Server-Sent Events stream
//! `GET /v1/changes/stream`, both served from memory.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::stream::{self, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use utoipa::{IntoParams, ToSchema};

use super::extract::{parse_count, ApiQuery};
use super::problem::Problem;
use super::AppState;
use crate::storage::VersionInfo;

/// One new dataset version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Change {
    pub version: u64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// What was done, e.g. `tax-rates.create`.
    pub action: String,
    /// Datasets whose contents changed.
    pub datasets: Vec<String>,
}

impl From<&VersionInfo> for Change {
    fn from(info: &VersionInfo) -> Self {
        Change {
            version: info.version,
            created_at: info.created_at.clone(),
            action: info.action.clone(),
            datasets: info.datasets.clone(),
        }
    }
}

/// Versions after `since`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangesResponse {
    /// The version served now.
    pub version: u64,
    /// Oldest first.
    pub items: Vec<Change>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// Only versions after this one (default 0: all).
    since: Option<String>,
}

fn since(query: &ChangesQuery) -> Result<u64, Problem> {
    Ok(parse_count("since", &query.since)?.unwrap_or(0) as u64)
}

/// Most changes one answer lists; a client further behind asks again from the last one.
pub const MAX_CHANGES: usize = 1000;

/// Versions after `since`, oldest first, at most [`MAX_CHANGES`].
fn after(state: &AppState, since: u64) -> Vec<Change> {
    state
        .history()
        .iter()
        .filter(|v| v.version > since)
        .take(MAX_CHANGES)
        .map(Change::from)
        .collect()
}

#[utoipa::path(get, path = "/v1/changes", tag = "changes",
    params(ChangesQuery),
    responses(
        (status = 200, description = "Dataset versions after `since`, oldest first, at most 1000 (ask again from the last one for more)", body = ChangesResponse),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Datasets not loaded yet", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ChangesQuery>,
) -> Result<Response, Problem> {
    state.data()?;
    let since = since(&query)?;
    Ok(Json(ChangesResponse {
        version: state.version(),
        items: after(&state, since),
    })
    .into_response())
}

fn change_event(change: &Change) -> Event {
    Event::default()
        .event("change")
        .id(change.version.to_string())
        .json_data(change)
        .unwrap_or_else(|_| Event::default().event("change"))
}

/// Keep-alive comments keep proxies and the idle timeout from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

#[utoipa::path(get, path = "/v1/changes/stream", tag = "changes",
    params(ChangesQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "The last version received; later ones are sent first")),
    responses(
        (status = 200, description = "Server-Sent Events: first `version` (the version served now), then one `change` per new version (`id` is the version, `data` a Change). A `resync` event means changes were skipped: reload everything.",
            body = String, content_type = "text/event-stream"),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Datasets not loaded yet", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<ChangesQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Problem> {
    state.data()?;
    let last_event = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let since = match last_event {
        Some(version) => Some(version),
        None => query.since.is_some().then(|| since(&query)).transpose()?,
    };
    // Subscribe before reading the history, so nothing falls between the two.
    let receiver = state.subscribe();
    let current = state.version();
    let mut first = vec![Event::default()
        .event("version")
        .id(current.to_string())
        .data(format!("{{\"version\":{current}}}"))];
    if let Some(since) = since {
        let missed = after(&state, since);
        if missed.len() == MAX_CHANGES {
            // Too far behind to replay: start over.
            first.push(Event::default().event("resync").data("{}"));
        } else {
            first.extend(missed.iter().map(change_event));
        }
    }
    let closing = state.closing();
    let updates = stream::unfold(
        (receiver, current, closing),
        |(mut receiver, sent, mut closing)| async move {
            loop {
                let received = tokio::select! {
                    received = receiver.recv() => received,
                    // The server is shutting down (or gone): end the stream so draining can finish.
                    _ = closing.wait_for(|closed| *closed) => return None,
                };
                match received {
                    Ok(info) if info.version <= sent => continue,
                    Ok(info) => {
                        let event = change_event(&Change::from(&info));
                        return Some((event, (receiver, info.version, closing)));
                    }
                    Err(RecvError::Lagged(_)) => {
                        let event = Event::default().event("resync").data("{}");
                        return Some((event, (receiver, sent, closing)));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    );
    let events = stream::iter(first).chain(updates).map(Ok);
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}
