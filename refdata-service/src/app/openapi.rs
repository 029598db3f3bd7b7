//! The OpenAPI 3.1 document, served at `/openapi.json`.

use std::sync::LazyLock;

use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa::OpenApi;

use super::{countries, currencies, meta, problem, rates, tax};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "refdata",
        description = "Shared reference data: ISO 3166 countries and subdivisions, ISO 4217 \
currencies, ECB euro reference rates and tax rates with effective dates.\n\n\
Decimals (rates, amounts, percentages) are JSON strings, never floats.\n\n\
**Exchange rates.** Rates against the euro are the ECB figures as published. An \"as of\" \
date uses the last publication on or before it (weekends and TARGET holidays fall back to \
the previous working day); the response's `date` is the publication used. Dates before \
1999-01-04 and currencies the ECB did not quote that day are 422 problems.\n\n\
**Rounding.** A cross rate `base -> quote` is `eur_quote / eur_base` computed with 28 \
significant digits and shown rounded half-to-even to 6 significant digits. A conversion \
computes `amount * eur_to / eur_from` at full precision (not from the shown rate) and rounds \
the result half-to-even to the target currency's ISO 4217 minor units (6 decimals when it \
has none).\n\n\
**Errors** are RFC 9457 `application/problem+json`; unknown query parameters are rejected.",
        license(name = "MIT OR Apache-2.0"),
    ),
    paths(
        countries::list,
        countries::get_one,
        countries::subdivisions,
        currencies::list,
        currencies::get_one,
        rates::query,
        rates::on_date,
        rates::convert,
        tax::query,
        tax::by_country,
        meta::datasets,
        meta::healthz,
        meta::readyz,
        meta::metrics,
    ),
    components(schemas(problem::Problem, rates::SeriesResponse)),
    tags(
        (name = "countries", description = "ISO 3166-1 countries and ISO 3166-2 subdivisions"),
        (name = "currencies", description = "ISO 4217 currencies, current and withdrawn"),
        (name = "exchange rates", description = "ECB euro reference rates since 1999"),
        (name = "tax rates", description = "VAT and sales-tax rates with effective dates"),
        (name = "meta", description = "Datasets, health and metrics"),
    )
)]
pub struct ApiDoc;

static DOCUMENT: LazyLock<serde_json::Value> =
    LazyLock::new(|| serde_json::to_value(ApiDoc::openapi()).unwrap_or_default());

/// `GET /openapi.json`.
pub async fn serve() -> Response {
    Json(&*DOCUMENT).into_response()
}
