//! RFC 9457 problem details (`application/problem+json`) for every error the API returns.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::rates::RateError;

pub const CONTENT_TYPE: &str = "application/problem+json";

/// An RFC 9457 problem detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"type":"urn:refdata:problem:bad-date","title":"Invalid date",
    "status":400,"detail":"date \"2024-13-01\" is not a YYYY-MM-DD date",
    "instance":"/v1/exchange-rates?date=2024-13-01"}))]
pub struct Problem {
    /// URN identifying the problem type, `urn:refdata:problem:<slug>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Path and query of the request that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Sent as `Retry-After` (seconds) with 503s.
    #[serde(skip)]
    pub retry_after: Option<u32>,
    /// Every reason a change was rejected (`422` of the admin API).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub violations: Option<Box<Vec<crate::storage::Violation>>>,
    /// Sends `WWW-Authenticate: Bearer` (401s).
    #[serde(skip)]
    pub authenticate: bool,
}

/// Longest piece of user input a problem repeats; the rest is cut with an ellipsis.
pub const MAX_ECHO_CHARS: usize = 64;

/// `text` cut to [`MAX_ECHO_CHARS`] characters, for repeating user input in a problem.
pub fn clip(text: &str) -> std::borrow::Cow<'_, str> {
    clip_to(text, MAX_ECHO_CHARS)
}

/// `text` cut to `max` characters.
pub fn clip_to(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => text.into(),
        Some((end, _)) => format!("{}…", &text[..end]).into(),
    }
}

/// Longest `instance` (path and query) a problem repeats.
const MAX_INSTANCE_BYTES: usize = 256;

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("urn:refdata:problem:{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            instance: None,
            retry_after: None,
            violations: None,
            authenticate: false,
        }
    }

    /// Every permit for expensive renders is taken: retry after `retry_after`.
    pub fn busy(retry_after: std::time::Duration) -> Self {
        Self {
            retry_after: Some(u32::try_from(retry_after.as_secs().max(1)).unwrap_or(u32::MAX)),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "Too many expensive requests",
                "the service is rendering as many time series and large pages as it allows at \
                 once; retry after the time in Retry-After, or narrow the request",
            )
        }
    }

    /// A malformed or unknown query parameter.
    pub fn invalid_parameter(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-parameter",
            "Invalid request parameter",
            detail,
        )
    }

    pub fn bad_date(text: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad-date",
            "Invalid date",
            format!("date {:?} is not a YYYY-MM-DD date", clip(text)),
        )
    }

    /// A well-formed request naming a code the datasets do not have: 422, like the other
    /// answers that depend on the data rather than the request's shape.
    pub fn unknown_code(what: &str, code: &str) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown-code",
            "Unknown code",
            format!("{:?} is not a known {what}", clip(code)),
        )
    }

    pub fn not_found(what: &str, code: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!("no {what} with code {:?}", clip(code)),
        )
    }

    pub fn not_ready() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not-ready",
            "Datasets not loaded yet",
            "the service is still loading its datasets; retry shortly",
        )
    }

    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn render(&self) -> Response {
        let body = serde_json::to_vec(self).unwrap_or_default();
        let mut response = (self.status_code(), body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if self.authenticate {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"refdata\""),
            );
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = self.render();
        // Kept so `fill_instance` can add the request URI.
        response.extensions_mut().insert(self);
        response
    }
}

impl From<RateError> for Problem {
    fn from(error: RateError) -> Self {
        let detail = error.to_string();
        match error {
            RateError::Malformed(_) => Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                detail,
            ),
            RateError::NotAnEcbCurrency { .. }
            | RateError::NotQuoted { .. }
            | RateError::NotQuotedInRange { .. } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "currency-not-quoted",
                "Currency not quoted",
                detail,
            ),
            RateError::BeforeFirstPublication { .. } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "date-before-dataset-start",
                "Date before the start of the dataset",
                detail,
            ),
            RateError::InvertedRange { .. } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-range",
                "Invalid date range",
                detail,
            ),
            RateError::Overflow { .. } => Problem::new(
                StatusCode::BAD_REQUEST,
                "bad-amount",
                "Invalid amount",
                detail,
            ),
        }
    }
}

/// Middleware: sets `instance` of problem responses to the request's path and query.
pub async fn fill_instance(request: Request, next: Next) -> Response {
    let mut instance = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path().to_owned(), ToString::to_string);
    if instance.len() > MAX_INSTANCE_BYTES {
        let mut end = MAX_INSTANCE_BYTES;
        while !instance.is_char_boundary(end) {
            end -= 1;
        }
        instance.truncate(end);
        instance.push('…');
    }
    let mut response = next.run(request).await;
    match response.extensions_mut().remove::<Problem>() {
        Some(mut problem) if problem.instance.is_none() => {
            problem.instance = Some(instance);
            let mut rendered = problem.render();
            std::mem::swap(rendered.headers_mut(), response.headers_mut());
            rendered
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
            rendered.headers_mut().remove(header::CONTENT_LENGTH);
            rendered
        }
        _ => response,
    }
}

/// Fallback for unknown routes.
pub async fn route_not_found(request: Request) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "route-not-found",
        "Not found",
        format!(
            "no route for {}; see /openapi.json",
            clip(request.uri().path())
        ),
    )
}

/// Fallback for known routes called with another method.
pub async fn method_not_allowed(request: Request) -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        format!(
            "{} is not supported on {}",
            request.method(),
            clip(request.uri().path())
        ),
    )
}

/// Longest request target (path and query) answered; longer ones get a 414 problem.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Middleware: a 414 problem for request targets over [`MAX_URI_BYTES`].
pub async fn limit_uri(request: Request, next: Next) -> Response {
    let length = request
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    if length > MAX_URI_BYTES {
        return Problem::new(
            StatusCode::URI_TOO_LONG,
            "uri-too-long",
            "Request target too long",
            format!("the path and query are {length} bytes; at most {MAX_URI_BYTES} are read"),
        )
        .into_response();
    }
    next.run(request).await
}

/// Middleware: a 503 problem when rendering takes longer than `timeout`.
pub async fn time_limit(
    axum::extract::State(timeout): axum::extract::State<std::time::Duration>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "Request timed out",
            format!(
                "the answer took longer than {} s to render; retry, or narrow the request",
                timeout.as_secs()
            ),
        )
        .into_response(),
    }
}
