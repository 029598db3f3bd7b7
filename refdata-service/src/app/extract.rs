//! Extractors that turn axum's rejections into problem details, and parameter parsing with
//! messages that name the parameter.

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use chrono::NaiveDate;
use serde::de::DeserializeOwned;

use super::problem::{clip, clip_to, Problem};

/// Rejection messages name the offending parameter and the expected ones; longer is input.
const MAX_REJECTION_CHARS: usize = 400;

/// `Query<T>` whose rejection (unknown or malformed parameter) is a 400 problem. Query structs
/// use `#[serde(deny_unknown_fields)]` so misspelt parameters are errors, not ignored.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| {
                Problem::invalid_parameter(clip_to(&rejection.body_text(), MAX_REJECTION_CHARS))
            })
    }
}

/// `Path<T>` whose rejection is a 400 problem.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|rejection| {
                Problem::invalid_parameter(clip_to(&rejection.body_text(), MAX_REJECTION_CHARS))
            })
    }
}

/// `None` for an absent or empty parameter.
pub fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

pub fn parse_date(text: &str) -> Result<NaiveDate, Problem> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| Problem::bad_date(text))
}

pub fn parse_bool(name: &str, value: &Option<String>) -> Result<Option<bool>, Problem> {
    match given(value) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(Problem::invalid_parameter(format!(
            "{name} must be true or false, not {:?}",
            clip(other)
        ))),
    }
}

pub fn parse_count(name: &str, value: &Option<String>) -> Result<Option<usize>, Problem> {
    given(value)
        .map(|text| {
            text.parse::<usize>().map_err(|_| {
                Problem::invalid_parameter(format!(
                    "{name} must be a non-negative integer, not {:?}",
                    clip(text)
                ))
            })
        })
        .transpose()
}

/// A required parameter.
pub fn required<'a>(name: &str, value: &'a Option<String>) -> Result<&'a str, Problem> {
    given(value).ok_or_else(|| Problem::invalid_parameter(format!("missing parameter {name}")))
}
