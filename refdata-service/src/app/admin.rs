//! `/v1/admin`: governed changes to the datasets, the audit log, and the token checks shared
//! with `/metrics`.
//!
//! Every route checks the bearer token before it reads the body, so an anonymous caller
//! learns nothing about what a valid request looks like. Writes are validated completely
//! (a `422` lists every violation), take `If-Match` with the dataset version (a stale one is
//! a `412`), and answer with the new version, which every replica serves within a second.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::problem::{clip, Problem};
use super::AppState;
use crate::auth::{Caller, Refusal, Role};
use crate::storage::contents::TaxRow;
use crate::storage::edit::{self, Fields};
use crate::storage::{Contents, Store, VersionInfo, Violation, WriteError, Written};

/// Largest JSON body of a record change.
const MAX_JSON_BODY: usize = 64 * 1024;

/// Longest `reason` query parameter of a rate import (characters).
const MAX_QUERY_REASON: usize = 500;

/// The caller, if its token has at least `needs`; otherwise the 401 or 403 problem.
pub fn authorize(state: &AppState, headers: &HeaderMap, needs: Role) -> Result<Caller, Problem> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    state
        .config()
        .tokens
        .check(presented, needs)
        .map_err(|refusal| {
            let detail = match refusal {
                Refusal::Missing => "this route needs `Authorization: Bearer <token>`".to_owned(),
                Refusal::Malformed => "the Authorization header is not `Bearer <token>`".to_owned(),
                Refusal::Unknown => "the bearer token is not valid".to_owned(),
                Refusal::Forbidden { has, needs } => {
                    format!("this route needs the {needs} role; the token has {has}")
                }
            };
            match refusal {
                Refusal::Forbidden { .. } => {
                    Problem::new(StatusCode::FORBIDDEN, "forbidden", "Role too small", detail)
                }
                _ => Problem {
                    authenticate: true,
                    ..Problem::new(
                        StatusCode::UNAUTHORIZED,
                        "unauthorized",
                        "Authentication required",
                        detail,
                    )
                },
            }
        })
}

/// Middleware: anything under `/v1/admin` without a valid token is a 401, unknown routes and
/// methods included, so the admin surface is not mapped by anonymous callers. Each route
/// then checks the role it needs.
pub async fn gate(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path();
    if path == "/v1/admin" || path.starts_with("/v1/admin/") {
        if let Err(problem) = authorize(&state, request.headers(), Role::Reader) {
            return problem.into_response();
        }
    }
    next.run(request).await
}

fn store(state: &AppState) -> Result<Arc<Store>, Problem> {
    state.store().cloned().ok_or_else(|| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "read-only",
            "No database",
            "this instance serves the embedded snapshot without a database; changes need \
             --database-url",
        )
    })
}

async fn read_body(body: Body, limit: usize) -> Result<Bytes, Problem> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            "Request body too large",
            format!("the body exceeds {limit} bytes"),
        )
    })
}

/// `If-Match: "7"` (or `7`, or `*`): the version the writer based its change on.
fn if_match(headers: &HeaderMap) -> Result<Option<u64>, Problem> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    text.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<u64>()
        .map(Some)
        .map_err(|_| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-parameter",
                "Invalid If-Match",
                format!(
                    "If-Match {:?} is not a dataset version such as \"7\"",
                    clip(text)
                ),
            )
        })
}

fn malformed(violation: Violation) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "malformed-body",
        "Malformed request body",
        violation.message,
    )
}

fn write_problem(error: WriteError) -> Problem {
    match error {
        WriteError::Stale { expected, current } => Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            "Stale dataset version",
            format!(
                "the change was based on version {expected}, but the datasets are at version \
                 {current}; read them again and retry with If-Match: \"{current}\""
            ),
        ),
        WriteError::Invalid(violations) => Problem {
            violations: Some(Box::new(violations.clone())),
            ..Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-change",
                "Invalid change",
                violations
                    .iter()
                    .map(|v| {
                        if v.field.is_empty() {
                            v.message.clone()
                        } else {
                            format!("{}: {}", v.field, v.message)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        },
        WriteError::NotFound(detail) => {
            Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
        }
        WriteError::Storage(error) => {
            tracing::error!(%error, "a write failed");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage-unavailable",
                "Storage unavailable",
                "the change could not be stored; nothing was changed. Retry shortly",
            )
        }
    }
}

/// The answer to a write.
#[derive(Debug, Serialize, ToSchema)]
pub struct WriteResult {
    /// The dataset version after the change (send it as `If-Match` with the next change).
    version: u64,
    /// Whether the change made a new version (`false` when it changed nothing).
    changed: bool,
    /// Id of a created record (tax rates).
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<u64>,
}

async fn commit(
    state: &AppState,
    headers: &HeaderMap,
    caller: &Caller,
    action: &str,
    reason: &str,
    created: bool,
    edit: &crate::storage::Edit<'_>,
) -> Result<Response, Problem> {
    let store = store(state)?;
    let expected = if_match(headers)?;
    let written: Written = store
        .write(
            expected,
            &caller.name,
            action,
            reason,
            edit,
            state.snapshot(),
        )
        .await
        .map_err(write_problem)?;
    if let Some(snapshot) = written.snapshot {
        state.install_version(snapshot, vec![written.info.clone()]);
    }
    tracing::info!(
        target: "refdata::audit",
        version = written.version,
        author = %caller.name,
        action,
        reason,
        "dataset change"
    );
    let status = if created && written.changed {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = (
        status,
        Json(WriteResult {
            version: written.version,
            changed: written.changed,
            id: written.created_id,
        }),
    )
        .into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", written.version)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}

/// Parses the JSON body and reads its `reason` for the log; a body that is not a JSON object
/// is a 400. A missing or empty reason is one of the violations the change reports (with all
/// the others), so it is not refused here.
fn json_fields(body: &[u8]) -> Result<(Fields, String), Problem> {
    let mut fields = Fields::parse(body).map_err(malformed)?;
    let reason = edit::reason(&mut fields).unwrap_or_default();
    Ok((fields, reason))
}

fn fields_of(body: &[u8]) -> Result<Fields, WriteError> {
    Fields::parse(body).map_err(|v| WriteError::Invalid(vec![v]))
}

const TAX_EXAMPLE: &str = r#"{"country":"DE","subdivision":null,"type":"standard","rate":"19","valid_from":"2027-01-01","valid_to":null,"source":"UStG § 12","reason":"rate change announced"}"#;

/// A tax-rate period; every field is checked and every violation reported.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"country":"DE","subdivision":null,"type":"standard","rate":"19",
    "valid_from":"2027-01-01","valid_to":null,"source":"UStG § 12 Abs. 1",
    "reason":"rate change announced in the Federal Law Gazette"}))]
#[allow(dead_code)]
pub struct TaxRateChange {
    /// ISO 3166-1 alpha-2.
    country: String,
    /// ISO 3166-2 code of a subdivision of `country`, or null for the national rate.
    subdivision: Option<String>,
    #[serde(rename = "type")]
    #[schema(value_type = String, pattern = "^(standard|reduced|super_reduced|parking)$")]
    kind: String,
    /// Percentage from 0 to 100, at most 4 decimals.
    #[schema(pattern = "^[0-9]{1,3}(\\.[0-9]{1,4})?$")]
    rate: String,
    #[schema(format = Date)]
    valid_from: String,
    /// Inclusive last day, after `valid_from`; null while in force.
    #[schema(format = Date)]
    valid_to: Option<String>,
    /// Citation of the legal or official source.
    source: String,
    /// Why the change is made (kept in the audit log).
    reason: String,
}

/// A reason, for retirements and rollbacks.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct Reason {
    reason: String,
    /// Currencies only: month of withdrawal (`YYYY-MM`), default this month.
    withdrawn: Option<String>,
}

#[utoipa::path(post, path = "/v1/admin/tax-rates", tag = "admin",
    security(("bearer" = [])),
    request_body(content = TaxRateChange, description = TAX_EXAMPLE),
    params(("If-Match" = Option<String>, Header, description = "Dataset version the change is based on, e.g. \"7\"")),
    responses(
        (status = 201, description = "Created; the body names the new dataset version and the rate's id", body = WriteResult),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role is too small (needs editor)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names an older version", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid; `violations` lists every problem and nothing changed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_tax_rate(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let caller = authorize(&state, &headers, Role::Editor)?;
    let body = read_body(body, MAX_JSON_BODY).await?;
    let (_, reason) = json_fields(&body)?;
    commit(
        &state,
        &headers,
        &caller,
        "tax-rates.create",
        &reason,
        true,
        &|contents: &mut Contents| {
            let mut fields = fields_of(&body)?;
            let rate = edit::tax_rate_input(&mut fields, contents)?;
            edit::create_tax_rate(contents, rate)
        },
    )
    .await
}

#[utoipa::path(put, path = "/v1/admin/tax-rates/{id}", tag = "admin",
    security(("bearer" = [])),
    request_body = TaxRateChange,
    params(("id" = u64, Path, description = "Id of the tax rate (see GET /v1/admin/tax-rates)"),
        ("If-Match" = Option<String>, Header, description = "Dataset version the change is based on")),
    responses(
        (status = 200, description = "Changed", body = WriteResult),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role is too small (needs editor)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rate", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names an older version", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid; nothing changed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn replace_tax_rate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let caller = authorize(&state, &headers, Role::Editor)?;
    let id = parse_id(&id)?;
    let body = read_body(body, MAX_JSON_BODY).await?;
    let (_, reason) = json_fields(&body)?;
    commit(
        &state,
        &headers,
        &caller,
        "tax-rates.replace",
        &reason,
        false,
        &|contents: &mut Contents| {
            let mut fields = fields_of(&body)?;
            let rate = edit::tax_rate_input(&mut fields, contents)?;
            edit::replace_tax_rate(contents, id, rate)
        },
    )
    .await
}

#[utoipa::path(delete, path = "/v1/admin/tax-rates/{id}", tag = "admin",
    security(("bearer" = [])),
    request_body = Reason,
    params(("id" = u64, Path, description = "Id of the tax rate"),
        ("If-Match" = Option<String>, Header, description = "Dataset version the change is based on")),
    responses(
        (status = 200, description = "Retired (removed from the current version; earlier versions keep it)", body = WriteResult),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role is too small (needs editor)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rate", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names an older version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid; nothing changed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn retire_tax_rate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let caller = authorize(&state, &headers, Role::Editor)?;
    let id = parse_id(&id)?;
    let body = read_body(body, MAX_JSON_BODY).await?;
    let (mut fields, reason) = json_fields(&body)?;
    fields.check().map_err(write_problem)?;
    commit(
        &state,
        &headers,
        &caller,
        "tax-rates.retire",
        &reason,
        false,
        &|contents: &mut Contents| edit::retire_tax_rate(contents, id),
    )
    .await
}

fn parse_id(text: &str) -> Result<u64, Problem> {
    text.parse().map_err(|_| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!("no tax rate with id {:?}", clip(text)),
        )
    })
}

/// Query of `GET /v1/admin/tax-rates`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TaxRateListQuery {
    /// ISO 3166-1 alpha-2, alpha-3 or numeric code.
    country: Option<String>,
}

/// Tax rates with their ids.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaxRateList {
    /// Dataset version listed (send it as `If-Match`).
    version: u64,
    items: Vec<TaxRow>,
}

#[utoipa::path(get, path = "/v1/admin/tax-rates", tag = "admin",
    security(("bearer" = [])),
    params(TaxRateListQuery),
    responses(
        (status = 200, description = "Tax rates with the ids PUT and DELETE take", body = TaxRateList),
        (status = 400, description = "Unknown parameter or malformed code", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown country", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No database", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_tax_rates(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<TaxRateListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    authorize(&state, &headers, Role::Reader)?;
    let Query(query) = query.map_err(|e| Problem::invalid_parameter(e.body_text()))?;
    let store = store(&state)?;
    let version = state.version();
    let contents = store.contents(version).await.map_err(storage_problem)?;
    let country = match query.country.as_deref() {
        None => None,
        Some(code)
            if !(matches!(code.len(), 2 | 3) && code.bytes().all(|b| b.is_ascii_alphabetic())
                || code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit())) =>
        {
            return Err(Problem::invalid_parameter(format!(
                "country {:?} is not an ISO 3166-1 code",
                clip(code)
            )))
        }
        Some(code) => Some(
            state
                .data()?
                .country(code)
                .map(|c| c.alpha2.clone())
                .ok_or_else(|| Problem::unknown_code("country", code))?,
        ),
    };
    let items = contents
        .tax_rows()
        .map_err(storage_problem)?
        .into_iter()
        .filter(|row| country.as_ref().is_none_or(|c| &row.rate.country == c))
        .collect();
    Ok(Json(TaxRateList { version, items }).into_response())
}

pub fn storage_problem(error: crate::storage::StorageError) -> Problem {
    tracing::error!(%error, "storage read failed");
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "storage-unavailable",
        "Storage unavailable",
        "the database could not be read; retry shortly",
    )
}

/// A country (the read API's shape) and a reason.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"alpha2":"XK","alpha3":"XKX","numeric":"983","name":"Kosovo",
    "official_name":"Republic of Kosovo","common_name":null,"currencies":["EUR"],
    "region":"Europe","subregion":"Southern Europe","reason":"user-assigned code in use"}))]
#[allow(dead_code)]
pub struct CountryChange {
    #[schema(pattern = "^[A-Z]{2}$")]
    alpha2: String,
    #[schema(pattern = "^[A-Z]{3}$")]
    alpha3: String,
    #[schema(pattern = "^[0-9]{3}$")]
    numeric: String,
    name: String,
    official_name: Option<String>,
    common_name: Option<String>,
    /// Default: the regional-indicator flag of `alpha2`.
    flag: Option<String>,
    /// ISO 4217 codes of its legal tenders.
    currencies: Option<Vec<String>>,
    region: Option<String>,
    subregion: Option<String>,
    reason: String,
}

/// A currency (the read API's shape) and a reason.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"code":"XCG","numeric":"532","name":"Caribbean Guilder",
    "minor_units":2,"countries":["CW","SX"],"historic":false,"fund":false,"metal":false,
    "withdrawn":null,"reason":"new currency of Curaçao and Sint Maarten"}))]
#[allow(dead_code)]
pub struct CurrencyChange {
    #[schema(pattern = "^[A-Z]{3}$")]
    code: String,
    #[schema(pattern = "^[0-9]{3}$")]
    numeric: String,
    name: String,
    /// 0 to 4, or null where ISO 4217 says N.A.
    minor_units: Option<u8>,
    countries: Option<Vec<String>>,
    historic: Option<bool>,
    fund: Option<bool>,
    metal: Option<bool>,
    /// `YYYY-MM`.
    withdrawn: Option<String>,
    reason: String,
}

/// A subdivision (the read API's shape) and a reason.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"code":"FR-971","country":"FR","name":"Guadeloupe",
    "type":"Overseas department","parent":null,"reason":"listed separately from 2027"}))]
#[allow(dead_code)]
pub struct SubdivisionChange {
    /// ISO 3166-2 code; its prefix is the country, which must exist.
    #[schema(pattern = "^[A-Z]{2}-[A-Z0-9]{1,3}$")]
    code: String,
    /// Alpha-2 code of the country (optional: the code's prefix).
    #[schema(pattern = "^[A-Z]{2}$")]
    country: Option<String>,
    name: String,
    /// The ISO 3166-2 category, e.g. `State`, `Province`.
    #[serde(rename = "type")]
    kind: String,
    /// Code of the parent subdivision in the same country, if any.
    #[schema(pattern = "^[A-Z]{2}-[A-Z0-9]{1,3}$")]
    parent: Option<String>,
    reason: String,
}

macro_rules! record_routes {
    ($upsert:ident, $replace:ident, $retire:ident, $path:literal, $item:literal, $body:ty,
     $input:path, $apply:path, $retire_fn:expr, $what:literal) => {
        #[utoipa::path(post, path = $path, tag = "admin",
            security(("bearer" = [])),
            request_body = $body,
            params(("If-Match" = Option<String>, Header, description = "Dataset version the change is based on")),
            responses(
                (status = 200, description = "Replaced", body = WriteResult),
                (status = 201, description = "Created", body = WriteResult),
                (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
                (status = 401, description = "Missing, malformed or unknown token", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "The token's role is too small (needs editor)", body = Problem, content_type = "application/problem+json"),
                (status = 412, description = "If-Match names an older version", body = Problem, content_type = "application/problem+json"),
                (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Invalid; nothing changed", body = Problem, content_type = "application/problem+json"),
            ))]
        pub async fn $upsert(
            State(state): State<AppState>,
            headers: HeaderMap,
            body: Body,
        ) -> Result<Response, Problem> {
            let caller = authorize(&state, &headers, Role::Editor)?;
            let body = read_body(body, MAX_JSON_BODY).await?;
            let (_, reason) = json_fields(&body)?;
            commit(&state, &headers, &caller, concat!($what, ".upsert"), &reason, true,
                &|contents: &mut Contents| {
                    let mut fields = fields_of(&body)?;
                    let record = $input(&mut fields, contents, None)?;
                    $apply(contents, record, false)
                }).await
        }

        #[utoipa::path(put, path = $item, tag = "admin",
            security(("bearer" = [])),
            request_body = $body,
            params(("code" = String, Path, description = "Code of the record"),
                ("If-Match" = Option<String>, Header, description = "Dataset version the change is based on")),
            responses(
                (status = 200, description = "Replaced", body = WriteResult),
                (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
                (status = 401, description = "Missing, malformed or unknown token", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "The token's role is too small (needs editor)", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
                (status = 412, description = "If-Match names an older version", body = Problem, content_type = "application/problem+json"),
                (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Invalid; nothing changed", body = Problem, content_type = "application/problem+json"),
            ))]
        pub async fn $replace(
            State(state): State<AppState>,
            Path(code): Path<String>,
            headers: HeaderMap,
            body: Body,
        ) -> Result<Response, Problem> {
            let caller = authorize(&state, &headers, Role::Editor)?;
            let body = read_body(body, MAX_JSON_BODY).await?;
            let (_, reason) = json_fields(&body)?;
            commit(&state, &headers, &caller, concat!($what, ".replace"), &reason, false,
                &|contents: &mut Contents| {
                    let mut fields = fields_of(&body)?;
                    let record = $input(&mut fields, contents, Some(code.as_str()))?;
                    $apply(contents, record, true)
                }).await
        }

        #[utoipa::path(delete, path = $item, tag = "admin",
            security(("bearer" = [])),
            request_body = Reason,
            params(("code" = String, Path, description = "Code of the record"),
                ("If-Match" = Option<String>, Header, description = "Dataset version the change is based on")),
            responses(
                (status = 200, description = "Retired", body = WriteResult),
                (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
                (status = 401, description = "Missing, malformed or unknown token", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "The token's role is too small (needs editor)", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
                (status = 412, description = "If-Match names an older version", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Invalid; nothing changed", body = Problem, content_type = "application/problem+json"),
            ))]
        pub async fn $retire(
            State(state): State<AppState>,
            Path(code): Path<String>,
            headers: HeaderMap,
            body: Body,
        ) -> Result<Response, Problem> {
            let caller = authorize(&state, &headers, Role::Editor)?;
            let body = read_body(body, MAX_JSON_BODY).await?;
            let (mut fields, reason) = json_fields(&body)?;
            // Only a currency is withdrawn in a month; for the others it is an unknown field.
            let withdrawn = if $what == "currencies" {
                fields.string("withdrawn", false, edit::year_month)
            } else {
                None
            };
            fields.check().map_err(write_problem)?;
            let retire = $retire_fn;
            commit(&state, &headers, &caller, concat!($what, ".retire"), &reason, false,
                &|contents: &mut Contents| retire(contents, code.as_str(), withdrawn.clone()))
                .await
        }
    };
}

record_routes!(
    upsert_country,
    replace_country,
    retire_country,
    "/v1/admin/countries",
    "/v1/admin/countries/{code}",
    CountryChange,
    edit::country_input,
    edit::upsert_country,
    |contents: &mut Contents, code: &str, _withdrawn: Option<String>| {
        edit::retire_country(contents, code)
    },
    "countries"
);

record_routes!(
    upsert_subdivision,
    replace_subdivision,
    retire_subdivision,
    "/v1/admin/subdivisions",
    "/v1/admin/subdivisions/{code}",
    SubdivisionChange,
    edit::subdivision_input,
    edit::upsert_subdivision,
    |contents: &mut Contents, code: &str, _withdrawn: Option<String>| {
        edit::retire_subdivision(contents, code)
    },
    "subdivisions"
);

record_routes!(
    upsert_currency,
    replace_currency,
    retire_currency,
    "/v1/admin/currencies",
    "/v1/admin/currencies/{code}",
    CurrencyChange,
    edit::currency_input,
    edit::upsert_currency,
    |contents: &mut Contents, code: &str, withdrawn: Option<String>| {
        edit::retire_currency(contents, code, withdrawn)
    },
    "currencies"
);

/// Query of `POST /v1/admin/exchange-rates`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Why the rates are loaded (kept in the audit log); at most 500 characters, so that the
    /// request target stays within 8 KiB however it is percent-encoded.
    #[param(min_length = 1, max_length = 500)]
    reason: Option<String>,
}

#[utoipa::path(post, path = "/v1/admin/exchange-rates", tag = "admin",
    security(("bearer" = [])),
    params(ImportQuery, ("If-Match" = Option<String>, Header, description = "Dataset version the change is based on")),
    request_body(content = String, description = "An ECB file: eurofxref-daily.xml, eurofxref-hist.xml (XML) or eurofxref.csv, eurofxref-hist.csv (CSV). The days it holds replace those days' rates.",
        content_type = "text/plain"),
    responses(
        (status = 200, description = "Imported", body = WriteResult),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role is too small (needs editor)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names an older version", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an ECB file, unknown currencies or dates in the future; nothing changed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn import_rates(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ImportQuery>, axum::extract::rejection::QueryRejection>,
    body: Body,
) -> Result<Response, Problem> {
    let caller = authorize(&state, &headers, Role::Editor)?;
    let Query(query) = query.map_err(|e| Problem::invalid_parameter(e.body_text()))?;
    let body = read_body(body, state.config().max_admin_body).await?;
    // Any text is a well-formed body; one that is not an ECB file is an invalid change.
    let not_ecb = |message: String| {
        write_problem(WriteError::Invalid(vec![Violation::new(
            "body",
            format!("not an ECB file: {message}"),
        )]))
    };
    let text = std::str::from_utf8(&body).map_err(|_| not_ecb("not UTF-8 text".into()))?;
    let table = crate::import::ecb::parse_any(text).map_err(not_ecb)?;
    let reason = match query.reason {
        None => "ECB reference rates".to_owned(),
        Some(reason) if reason.chars().count() > MAX_QUERY_REASON => {
            return Err(Problem::invalid_parameter(format!(
                "reason must be at most {MAX_QUERY_REASON} characters"
            )))
        }
        Some(reason) => match edit::free_text(&reason) {
            Ok(()) => reason,
            Err(message) => return Err(Problem::invalid_parameter(format!("reason {message}"))),
        },
    };
    commit(
        &state,
        &headers,
        &caller,
        "exchange-rates.import",
        &reason,
        false,
        &|contents: &mut Contents| edit::import_rates(contents, &table),
    )
    .await
}

/// What a rollback restores.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct RollbackRequest {
    /// The version whose contents become current again.
    version: u64,
    /// Datasets to restore; all when absent or empty.
    datasets: Option<Vec<String>>,
    reason: String,
}

#[utoipa::path(post, path = "/v1/admin/rollback", tag = "admin",
    security(("bearer" = [])),
    request_body = RollbackRequest,
    params(("If-Match" = Option<String>, Header, description = "Dataset version the change is based on")),
    responses(
        (status = 200, description = "A new version with the old contents", body = WriteResult),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role is too small (needs admin)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names an older version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid; nothing changed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn rollback(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let caller = authorize(&state, &headers, Role::Admin)?;
    let body = read_body(body, MAX_JSON_BODY).await?;
    let (mut fields, reason) = json_fields(&body)?;
    let datasets = fields.codes("datasets", |_| Ok(()));
    let version = fields.integer("version", true);
    fields.check().map_err(write_problem)?;
    let version = version.unwrap_or(0);
    let store = store(&state)?;
    let target = match store.contents(version).await {
        Ok(target) => target,
        Err(crate::storage::StorageError::NoSuchVersion(v)) => {
            return Err(write_problem(WriteError::NotFound(format!(
                "no version {v}"
            ))))
        }
        Err(error) => return Err(storage_problem(error)),
    };
    commit(
        &state,
        &headers,
        &caller,
        "rollback",
        &reason,
        false,
        &|contents: &mut Contents| {
            let (mut detail, id) = edit::rollback(contents, &target, &datasets)?;
            detail["to_version"] = version.into();
            Ok((detail, id))
        },
    )
    .await
}

/// Query of `GET /v1/admin/audit`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only versions after this one.
    #[param(minimum = 0)]
    since: Option<u64>,
    /// At most this many entries (1-1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// The audit log: who changed what, when and why; one entry per version.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLog {
    items: Vec<VersionInfo>,
}

#[utoipa::path(get, path = "/v1/admin/audit", tag = "admin",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "Entries oldest first", body = AuditLog),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No database", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    authorize(&state, &headers, Role::Reader)?;
    let Query(query) = query.map_err(|e| Problem::invalid_parameter(e.body_text()))?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Problem::invalid_parameter("limit must be from 1 to 1000"));
    }
    let store = store(&state)?;
    let items = store
        .versions(query.since.unwrap_or(0), limit)
        .await
        .map_err(storage_problem)?;
    Ok(Json(AuditLog { items }).into_response())
}
