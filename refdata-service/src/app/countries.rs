//! `/v1/countries`: ISO 3166-1 countries and their ISO 3166-2 subdivisions.

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::extract::{given, ApiPath, ApiQuery};
use super::pagination::{self, PageParams, PageRequest};
use super::problem::Problem;
use super::{holding, policy, with_policy, AppState};
use crate::domain::{Country, Subdivision};
use crate::store::CountryFilter;

/// Top-level keys of a country, for `fields=`.
pub const COUNTRY_FIELDS: [&str; 10] = [
    "alpha2",
    "alpha3",
    "numeric",
    "name",
    "official_name",
    "common_name",
    "flag",
    "currencies",
    "region",
    "subregion",
];

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CountryListQuery {
    /// UN M49 region, e.g. `Europe` (case-insensitive).
    region: Option<String>,
    /// UN M49 sub-region, e.g. `Western Europe` (case-insensitive).
    subregion: Option<String>,
    /// ISO 4217 code of a currency the country uses.
    currency: Option<String>,
    /// Case- and accent-insensitive substring of the name, official or common name.
    q: Option<String>,
    /// Comma-separated top-level keys to return, e.g. `alpha2,name`.
    fields: Option<String>,
    /// Page size (1-1000, default 250); with `offset`.
    limit: Option<String>,
    /// Items to skip; with `limit`.
    offset: Option<String>,
    /// 1-based page number; with `per_page`.
    page: Option<String>,
    /// Page size (1-1000, default 250); with `page`.
    per_page: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CountryQuery {
    /// Comma-separated top-level keys to return.
    fields: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubdivisionQuery {
    /// Subdivision type, e.g. `State` (case-insensitive).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

/// A page of countries (`fields=` may trim the items).
#[derive(Serialize, ToSchema)]
pub struct CountryPage {
    items: Vec<Country>,
    total: usize,
    limit: usize,
    offset: usize,
}

/// A page of subdivisions.
#[derive(Serialize, ToSchema)]
pub struct SubdivisionPage {
    items: Vec<Subdivision>,
    total: usize,
    limit: usize,
    offset: usize,
}

fn parse_fields(fields: &Option<String>) -> Result<Option<Vec<String>>, Problem> {
    let Some(fields) = given(fields) else {
        return Ok(None);
    };
    let selected: Vec<String> = fields.split(',').map(str::to_owned).collect();
    if let Some(unknown) = selected
        .iter()
        .find(|f| !COUNTRY_FIELDS.contains(&f.as_str()))
    {
        return Err(Problem::invalid_parameter(format!(
            "unknown field {unknown:?} in fields; expected some of {}",
            COUNTRY_FIELDS.join(", ")
        )));
    }
    Ok(Some(selected))
}

/// A country as served: whole (keys in declaration order) or trimmed to `fields=`.
#[derive(Serialize)]
#[serde(untagged)]
enum CountryView<'a> {
    Full(&'a Country),
    Projected(Value),
}

fn project<'a>(country: &'a Country, fields: Option<&[String]>) -> CountryView<'a> {
    let Some(fields) = fields else {
        return CountryView::Full(country);
    };
    let mut value = serde_json::to_value(country).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.retain(|key, _| fields.contains(key));
    }
    CountryView::Projected(value)
}

#[utoipa::path(
    get,
    path = "/v1/countries",
    tag = "countries",
    params(CountryListQuery),
    responses(
        (status = 200, description = "Countries matching the filters, in alpha-2 order", body = CountryPage,
            headers(("x-total-count" = usize), ("link" = String, description = "RFC 8288 first/prev/next/last"))),
        (status = 400, description = "Unknown or malformed parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    uri: Uri,
    ApiQuery(query): ApiQuery<CountryListQuery>,
) -> Result<Response, Problem> {
    let data = state.data()?;
    let page_request = PageRequest::parse(PageParams {
        limit: &query.limit,
        offset: &query.offset,
        page: &query.page,
        per_page: &query.per_page,
    })?;
    let permit = state.page_permit(page_request.limit)?;
    let fields = parse_fields(&query.fields)?;
    let currency = match given(&query.currency) {
        None => None,
        Some(code) => Some(
            data.currency(code)
                .ok_or_else(|| Problem::unknown_code("ISO 4217 currency", code))?
                .code
                .clone(),
        ),
    };
    let filter = CountryFilter {
        region: given(&query.region).map(str::to_owned),
        subregion: given(&query.subregion).map(str::to_owned),
        currency,
        query: given(&query.q).map(str::to_owned),
    };
    let matches = data.find_countries(&filter);
    let page = pagination::paginate(matches, page_request);
    let headers = pagination::headers(&uri, page_request, page.total);
    let body = pagination::Page {
        items: page
            .items
            .iter()
            .map(|c| project(c, fields.as_deref()))
            .collect::<Vec<_>>(),
        total: page.total,
        limit: page.limit,
        offset: page.offset,
    };
    let datasets = [data.dataset("countries")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
    Ok(holding(
        with_policy(policy::reference(&datasets), (headers, Json(body))),
        permit,
    ))
}

#[utoipa::path(
    get,
    path = "/v1/countries/{code}",
    tag = "countries",
    params(("code" = String, Path, description = "Alpha-2, alpha-3 or numeric code, case-insensitive"), CountryQuery),
    responses(
        (status = 200, description = "The country", body = Country),
        (status = 404, description = "No such country", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_one(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    ApiQuery(query): ApiQuery<CountryQuery>,
) -> Result<Response, Problem> {
    let data = state.data()?;
    let fields = parse_fields(&query.fields)?;
    let country = data
        .country(&code)
        .ok_or_else(|| Problem::not_found("country", &code))?;
    let datasets = [data.dataset("countries")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
    Ok(with_policy(
        policy::reference(&datasets),
        Json(project(country, fields.as_deref())),
    ))
}

#[utoipa::path(
    get,
    path = "/v1/countries/{code}/subdivisions",
    tag = "countries",
    params(("code" = String, Path, description = "Alpha-2, alpha-3 or numeric code"), SubdivisionQuery),
    responses(
        (status = 200, description = "ISO 3166-2 subdivisions in code order", body = SubdivisionPage),
        (status = 404, description = "No such country", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn subdivisions(
    State(state): State<AppState>,
    uri: Uri,
    ApiPath(code): ApiPath<String>,
    ApiQuery(query): ApiQuery<SubdivisionQuery>,
) -> Result<Response, Problem> {
    let data = state.data()?;
    let page_request = PageRequest::parse(PageParams {
        limit: &query.limit,
        offset: &query.offset,
        page: &query.page,
        per_page: &query.per_page,
    })?;
    let permit = state.page_permit(page_request.limit)?;
    let country = data
        .country(&code)
        .ok_or_else(|| Problem::not_found("country", &code))?;
    let kind = given(&query.kind).map(crate::domain::text::fold);
    let matches: Vec<&Subdivision> = data
        .subdivisions(&country.alpha2)
        .iter()
        .filter(|s| {
            kind.as_ref()
                .is_none_or(|k| crate::domain::text::fold(&s.kind) == *k)
        })
        .collect();
    let page = pagination::paginate(matches, page_request);
    let headers = pagination::headers(&uri, page_request, page.total);
    let datasets = [data.dataset("subdivisions")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
    Ok(holding(
        with_policy(policy::reference(&datasets), (headers, Json(page))),
        permit,
    ))
}
