//! Extractors that turn axum's rejections into problem details, and parameter parsing with
//! messages that name the parameter.

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use chrono::NaiveDate;
use serde::de::DeserializeOwned;

use super::problem::{clip, clip_to, Problem};

/// Rejection messages name the offending parameter and the expected ones; longer is input.
const MAX_REJECTION_CHARS: usize = 400;

/// Whitespace a parameter value must not start or end with.
const SURROUNDING: [char; 4] = [' ', '\t', '\n', '\r'];

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
        // Empty values and values with surrounding whitespace are refused rather than read as
        // absent or trimmed, so what the OpenAPI patterns allow is exactly what is accepted.
        if let Ok(Query(pairs)) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri) {
            for (name, value) in &pairs {
                if value.is_empty() || value.trim_matches(SURROUNDING) != value {
                    return Err(Problem::invalid_parameter(format!(
                        "parameter {} is empty or has surrounding whitespace",
                        clip(name)
                    )));
                }
            }
        }
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

/// A `YYYY-MM-DD` date: four-digit year, no sign, the same in a path and in a query.
pub fn parse_date(text: &str) -> Result<NaiveDate, Problem> {
    let trimmed = text.trim();
    let shaped = trimmed.len() == 10
        && trimmed.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return Err(Problem::bad_date(text));
    }
    NaiveDate::parse_from_str(trimmed, "%Y-%m-%d").map_err(|_| Problem::bad_date(text))
}

/// Whether `text` is a plain decimal: optional minus, 1-15 digits, optionally a point and 1-12
/// digits. (`rust_decimal` would also take `1_000`, `+5` or `.5`; the API does not.)
pub fn is_plain_decimal(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let digits = |part: &str, most: usize| {
        (1..=most).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
    };
    digits(whole, MAX_WHOLE_DIGITS) && fraction.is_none_or(|f| digits(f, MAX_FRACTION_DIGITS))
}

/// Digits an amount may have before and after the point: well within `rust_decimal`'s 28
/// significant digits, even after conversion.
pub const MAX_WHOLE_DIGITS: usize = 15;
pub const MAX_FRACTION_DIGITS: usize = 12;

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
