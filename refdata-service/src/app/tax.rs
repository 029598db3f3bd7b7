//! `/v1/tax-rates`: VAT and sales-tax rates with effective dates.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{given, parse_date, required, ApiPath, ApiQuery};
use super::problem::Problem;
use super::{policy, with_policy, AppState};
use crate::clock;
use crate::domain::tax::{TaxRate, TaxType};
use crate::store::Snapshot;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TaxQuery {
    /// Country (alpha-2, alpha-3 or numeric).
    #[param(required = true)]
    country: Option<String>,
    /// ISO 3166-2 subdivision of that country, e.g. `US-CA`; without it, national rates.
    subdivision: Option<String>,
    /// Date the rates must be in force on (`YYYY-MM-DD`, default today, UTC).
    date: Option<String>,
    /// `standard`, `reduced`, `super_reduced` or `parking`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
}

/// Rates of one country: those in force today and the full history.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountryTaxRates {
    country: String,
    /// Today (UTC), the date `current` refers to.
    date: NaiveDate,
    current: Vec<TaxRate>,
    /// Every rate, national and sub-national, by place, type and start date.
    history: Vec<TaxRate>,
}

fn policy_for(data: &Snapshot) -> crate::caching::CachePolicy {
    let datasets: Vec<_> = data.dataset("tax_rates").into_iter().collect();
    policy::tax_rates(&datasets)
}

/// The first day after `today` on which one of `rates` starts or stops applying.
fn next_change(rates: &[&TaxRate], today: NaiveDate) -> Option<NaiveDate> {
    rates
        .iter()
        .flat_map(|rate| {
            [
                Some(rate.valid_from),
                rate.valid_to.and_then(|d| d.succ_opt()),
            ]
        })
        .flatten()
        .filter(|&day| day > today)
        .min()
}

#[utoipa::path(
    get,
    path = "/v1/tax-rates",
    tag = "tax rates",
    params(TaxQuery),
    responses(
        (status = 200, description = "Rates in force on `date`", body = Vec<TaxRate>),
        (status = 400, description = "Missing or malformed parameter, unknown country or subdivision", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn query(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<TaxQuery>,
) -> Result<Response, Problem> {
    let data = state.data()?;
    let country_code = required("country", &query.country)?;
    let country = data
        .country(country_code)
        .ok_or_else(|| Problem::unknown_code("ISO 3166-1 country", country_code))?;
    let subdivision = match given(&query.subdivision) {
        None => None,
        Some(code) => {
            let subdivision = data
                .subdivision(code)
                .filter(|s| s.country == country.alpha2)
                .ok_or_else(|| {
                    Problem::unknown_code(
                        &format!("ISO 3166-2 subdivision of {}", country.alpha2),
                        code,
                    )
                })?;
            Some(subdivision.code.as_str())
        }
    };
    let asked = given(&query.date).map(parse_date).transpose()?;
    let today = state.clock().today();
    let kind = given(&query.kind)
        .map(|text| text.parse::<TaxType>().map_err(Problem::invalid_parameter))
        .transpose()?;
    let mut policy = policy_for(&data);
    if asked.is_none() {
        // "In force today" changes when the next scheduled rate of this place starts or ends.
        let place = data.find_tax_rates(&country.alpha2, subdivision, None, kind);
        if let Some(day) = next_change(&place, today) {
            policy = policy::until(policy, clock::start_of(day));
        }
    }
    let rates: Vec<TaxRate> = data
        .find_tax_rates(
            &country.alpha2,
            subdivision,
            Some(asked.unwrap_or(today)),
            kind,
        )
        .into_iter()
        .cloned()
        .collect();
    Ok(with_policy(policy, Json(rates)))
}

#[utoipa::path(
    get,
    path = "/v1/tax-rates/{country}",
    tag = "tax rates",
    params(("country" = String, Path, description = "Alpha-2, alpha-3 or numeric code")),
    responses(
        (status = 200, description = "Current rates and history", body = CountryTaxRates),
        (status = 404, description = "No such country", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn by_country(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    ApiQuery(_query): ApiQuery<super::currencies::NoQuery>,
) -> Result<Response, Problem> {
    let data = state.data()?;
    let country = data
        .country(&code)
        .ok_or_else(|| Problem::not_found("country", &code))?;
    let now = state.clock().now();
    let today = state.clock().today();
    let mut history: Vec<TaxRate> = data.tax_rates(&country.alpha2).cloned().collect();
    history.sort_by(|a, b| {
        (&a.subdivision, a.kind, a.valid_from).cmp(&(&b.subdivision, b.kind, b.valid_from))
    });
    let current = history
        .iter()
        .filter(|r| r.applies_on(today))
        .cloned()
        .collect();
    // The body names today's date, so it changes at midnight.
    Ok(with_policy(
        policy::until(policy_for(&data), clock::next_midnight(now)),
        Json(CountryTaxRates {
            country: country.alpha2.clone(),
            date: today,
            current,
            history,
        }),
    ))
}
