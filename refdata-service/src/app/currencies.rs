//! `/v1/currencies`: ISO 4217 currencies, current and withdrawn.

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{given, parse_bool, ApiPath, ApiQuery};
use super::pagination::{self, PageParams, PageRequest};
use super::problem::Problem;
use super::{holding, policy, with_policy, AppState};
use crate::domain::Currency;
use crate::store::CurrencyFilter;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CurrencyListQuery {
    /// `true` for withdrawn currencies only, `false` for current ones only.
    historic: Option<String>,
    /// `true` for fund codes only (e.g. `CLF`), `false` to exclude them.
    fund: Option<String>,
    /// `true` for precious metals only.
    metal: Option<String>,
    /// Alpha-2 code of a country using the currency.
    country: Option<String>,
    /// Case- and accent-insensitive substring of the name, or the exact code.
    q: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

/// A page of currencies.
#[derive(Serialize, ToSchema)]
pub struct CurrencyPage {
    items: Vec<Currency>,
    total: usize,
    limit: usize,
    offset: usize,
}

#[utoipa::path(
    get,
    path = "/v1/currencies",
    tag = "currencies",
    params(CurrencyListQuery),
    responses(
        (status = 200, description = "Currencies in code order", body = CurrencyPage,
            headers(("x-total-count" = usize), ("link" = String))),
        (status = 400, description = "Unknown or malformed parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    uri: Uri,
    ApiQuery(query): ApiQuery<CurrencyListQuery>,
) -> Result<Response, Problem> {
    let data = state.data()?;
    let page_request = PageRequest::parse(PageParams {
        limit: &query.limit,
        offset: &query.offset,
        page: &query.page,
        per_page: &query.per_page,
    })?;
    let permit = state.page_permit(page_request.limit)?;
    let country = match given(&query.country) {
        None => None,
        Some(code) => Some(
            data.country(code)
                .ok_or_else(|| Problem::unknown_code("ISO 3166-1 country", code))?
                .alpha2
                .clone(),
        ),
    };
    let filter = CurrencyFilter {
        historic: parse_bool("historic", &query.historic)?,
        fund: parse_bool("fund", &query.fund)?,
        metal: parse_bool("metal", &query.metal)?,
        country,
        query: given(&query.q).map(str::to_owned),
    };
    let matches = data.find_currencies(&filter);
    let page = pagination::paginate(matches, page_request);
    let headers = pagination::headers(&uri, page_request, page.total);
    let datasets = [data.dataset("currencies")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
    Ok(holding(
        with_policy(policy::reference(&datasets), (headers, Json(page))),
        permit,
    ))
}

#[utoipa::path(
    get,
    path = "/v1/currencies/{code}",
    tag = "currencies",
    params(("code" = String, Path, description = "Alphabetic or numeric ISO 4217 code, case-insensitive")),
    responses(
        (status = 200, description = "The currency", body = Currency),
        (status = 404, description = "No such currency", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_one(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    ApiQuery(_query): ApiQuery<NoQuery>,
) -> Result<Response, Problem> {
    let data = state.data()?;
    let currency = data
        .currency(&code)
        .ok_or_else(|| Problem::not_found("currency", &code))?;
    let datasets = [data.dataset("currencies")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
    Ok(with_policy(policy::reference(&datasets), Json(currency)))
}

/// Routes without parameters still reject unknown ones.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoQuery {}
