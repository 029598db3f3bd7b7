//! The OpenAPI 3.1 document, served at `/openapi.json`.

use std::sync::LazyLock;

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use utoipa::OpenApi;

use super::{admin, changes, countries, currencies, meta, pagination, problem, rates, tax};

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
        meta::dataset,
        meta::versions,
        changes::list,
        changes::stream,
        admin::create_tax_rate,
        admin::list_tax_rates,
        admin::replace_tax_rate,
        admin::retire_tax_rate,
        admin::upsert_country,
        admin::replace_country,
        admin::retire_country,
        admin::upsert_subdivision,
        admin::replace_subdivision,
        admin::retire_subdivision,
        admin::upsert_currency,
        admin::replace_currency,
        admin::retire_currency,
        admin::import_rates,
        admin::rollback,
        admin::audit,
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
        (name = "meta", description = "Datasets, their versions, health and metrics"),
        (name = "changes", description = "New dataset versions, as a list and as Server-Sent Events"),
        (name = "admin", description = "Governed changes (bearer token: editor; rollback: admin; audit and listings: reader)"),
    )
)]
pub struct ApiDoc;

static DOCUMENT: LazyLock<Value> = LazyLock::new(document);

/// The generated document, completed with what the derive cannot say: unique operation ids,
/// typed parameters, mutually exclusive parameter groups, projection and series schemas and
/// the statuses every route can answer.
pub fn document() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    add_schemas(&mut doc);
    doc["components"]["securitySchemes"] = json!({"bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from the tokens file (`--tokens`) or `REFDATA_ADMIN_TOKEN`"
    }});
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for operation in paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|item| item.values_mut())
        {
            type_if_match(operation);
        }
        for (path, item) in paths.iter_mut() {
            let Some(operation) = item.get_mut("get") else {
                continue;
            };
            complete_operation(path, operation);
        }
    }
    doc
}

/// The admin routes' `If-Match`: a dataset version, quoted or not, or `*`.
fn type_if_match(operation: &mut Value) {
    let Some(parameters) = operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for parameter in parameters
        .iter_mut()
        .filter(|p| p["in"] == "header" && p["name"] == "If-Match")
    {
        parameter["schema"] = json!({
            "type": "string",
            "pattern": "^(\\*|\"[0-9]{1,18}\"|[0-9]{1,18})$",
            "examples": ["\"7\""]
        });
    }
}

const DATE: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";

fn date() -> Value {
    json!({"type": "string", "format": "date", "pattern": DATE})
}

fn date_or_latest() -> Value {
    json!({"anyOf": [date(), {"type": "string", "enum": ["latest"]}]})
}

fn currency() -> Value {
    json!({"type": "string", "pattern": "^[A-Za-z]{3}$", "description": "ISO 4217 alphabetic code, case-insensitive", "examples": ["USD", "JPY", "EUR"]})
}

fn country() -> Value {
    json!({"type": "string", "pattern": "^([A-Za-z]{2,3}|[0-9]{3})$", "description": "ISO 3166-1 alpha-2, alpha-3 or numeric code, case-insensitive", "examples": ["DE", "USA", "250"]})
}

/// Free text: not empty, no surrounding whitespace (the API refuses both).
fn text() -> Value {
    json!({"type": "string", "minLength": 1, "pattern": "^[^ \\t\\n\\r]([\\s\\S]*[^ \\t\\n\\r])?$"})
}

/// Schema of a parameter by name (the same name means the same thing on every route).
fn parameter_schema(path: &str, name: &str) -> Option<Value> {
    Some(match name {
        "date" if path == "/v1/exchange-rates/{date}" => date_or_latest(),
        "date" | "start" => date(),
        "end" => date_or_latest(),
        "base" | "from" | "to" | "currency" => currency(),
        "code" if path.starts_with("/v1/currencies") => {
            json!({"type": "string", "pattern": "^([A-Za-z]{3}|[0-9]{3})$", "examples": ["EUR", "392"]})
        }
        "code" | "country" => country(),
        "subdivision" => {
            json!({"type": "string", "pattern": "^[A-Za-z]{2}-[A-Za-z0-9]{1,3}$", "description": "ISO 3166-2 code of a subdivision of `country`", "examples": ["US-CA"]})
        }
        "type" if path.starts_with("/v1/tax-rates") => {
            json!({"type": "string", "enum": ["standard", "reduced", "super_reduced", "parking"]})
        }
        "symbols" => json!({"type": "array", "items": currency(), "minItems": 1}),
        "fields" => {
            json!({"type": "array", "items": {"type": "string", "enum": countries::COUNTRY_FIELDS}, "minItems": 1})
        }
        "historic" | "fund" | "metal" => json!({"type": "boolean"}),
        "since" => json!({"type": "integer", "minimum": 0, "maximum": usize::MAX}),
        "version" => json!({"type": "integer", "minimum": 1, "maximum": usize::MAX}),
        "limit" | "per_page" => json!({"type": "integer", "minimum": 1, "maximum": 1000}),
        "offset" => json!({"type": "integer", "minimum": 0, "maximum": usize::MAX}),
        "page" => json!({"type": "integer", "minimum": 1, "maximum": pagination::MAX_PAGE}),
        "amount" => json!({
            "type": "string",
            "pattern": "^-?[0-9]{1,15}([.][0-9]{1,12})?$",
            "description": "plain decimal: optional minus, 1-15 digits, optionally a point and \
                1-12 digits; no exponent, no `+`, no `_` separators",
            "examples": ["12.34", "-5", "1000"]
        }),
        "q" | "region" | "subregion" | "type" => text(),
        _ => return None,
    })
}

/// Query parameters that must not be combined: `date` or `start`/`end`; `limit`/`offset` or
/// `page`/`per_page`.
const EXCLUSIVE: [&[&[&str]]; 2] = [
    &[&["date"], &["start", "end"]],
    &[&["limit", "offset"], &["page", "per_page"]],
];

fn parameter_name(parameter: &Value) -> &str {
    parameter["name"].as_str().unwrap_or_default()
}

/// The exclusive alternatives that apply to a route's query parameters, if any.
fn exclusive_alternatives(parameters: &[Value]) -> Option<&'static [&'static [&'static str]]> {
    EXCLUSIVE.into_iter().find(|alternatives| {
        alternatives.iter().all(|names| {
            parameters
                .iter()
                .any(|p| p["in"] == "query" && names.contains(&parameter_name(p)))
        })
    })
}

/// Replaces the query parameters with one exploded object parameter, `query`, whose schema is
/// `anyOf` one object per alternative, each with the shared parameters and no others. (Only
/// one object can be exploded into the query unambiguously, so every parameter goes in it;
/// list values become comma-separated strings.)
fn exclusive_query(parameters: Vec<Value>, alternatives: &[&[&str]]) -> Vec<Value> {
    let (query, mut rest): (Vec<Value>, Vec<Value>) =
        parameters.into_iter().partition(|p| p["in"] == "query");
    let grouped: Vec<&str> = alternatives
        .iter()
        .flat_map(|a| a.iter().copied())
        .collect();
    let property = |parameter: &Value| {
        let mut schema = parameter["schema"].clone();
        if schema["type"] == "array" {
            schema = comma_separated(&schema["items"]);
        }
        if let Some(description) = parameter.get("description") {
            schema["description"] = description.clone();
        }
        schema
    };
    let choices: Vec<Value> = alternatives
        .iter()
        .map(|names| {
            let properties: serde_json::Map<String, Value> = query
                .iter()
                .filter(|p| {
                    let name = parameter_name(p);
                    !grouped.contains(&name) || names.contains(&name)
                })
                .map(|p| (parameter_name(p).to_owned(), property(p)))
                .collect();
            let mut choice = json!({
                "type": "object",
                "properties": properties,
                "additionalProperties": false
            });
            if names.contains(&"start") {
                choice["required"] = json!(["start"]);
            }
            choice
        })
        .collect();
    let required: Vec<&str> = query
        .iter()
        .filter(|p| p["required"] == true)
        .map(parameter_name)
        .collect();
    let mut schema = json!({"anyOf": choices});
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    rest.push(json!({
        "name": "query",
        "in": "query",
        "required": !required.is_empty(),
        "style": "form",
        "explode": true,
        "description": format!(
            "The query parameters; {} are alternatives",
            alternatives.iter().map(|a| a.join("/")).collect::<Vec<_>>().join(" and ")
        ),
        "schema": schema
    }));
    rest
}

/// A comma-separated list of `item` as one string.
fn comma_separated(item: &Value) -> Value {
    let element = match item.get("enum").and_then(Value::as_array) {
        Some(values) => format!(
            "({})",
            values
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("|")
        ),
        None => item["pattern"]
            .as_str()
            .unwrap_or("^[^,]+$")
            .trim_start_matches('^')
            .trim_end_matches('$')
            .to_owned(),
    };
    json!({"type": "string", "pattern": format!("^{element}(,{element})*$")})
}

fn operation_id(path: &str) -> &'static str {
    match path {
        "/v1/countries" => "listCountries",
        "/v1/countries/{code}" => "getCountry",
        "/v1/countries/{code}/subdivisions" => "listSubdivisions",
        "/v1/currencies" => "listCurrencies",
        "/v1/currencies/{code}" => "getCurrency",
        "/v1/exchange-rates" => "getExchangeRates",
        "/v1/exchange-rates/{date}" => "getExchangeRatesOn",
        "/v1/convert" => "convert",
        "/v1/tax-rates" => "getTaxRates",
        "/v1/tax-rates/{country}" => "getCountryTaxRates",
        "/v1/datasets" => "listDatasets",
        "/healthz" => "healthz",
        "/readyz" => "readyz",
        "/metrics" => "metrics",
        "/v1/datasets/{name}" => "getDataset",
        "/v1/datasets/{name}/versions" => "listDatasetVersions",
        "/v1/changes" => "listChanges",
        "/v1/changes/stream" => "streamChanges",
        "/v1/admin/tax-rates" => "listAdminTaxRates",
        "/v1/admin/audit" => "getAuditLog",
        _ => "unnamed",
    }
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

fn complete_operation(path: &str, operation: &mut Value) {
    operation["operationId"] = json!(operation_id(path));
    let mut parameters: Vec<Value> = operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
        .map(std::mem::take)
        .unwrap_or_default();
    for parameter in &mut parameters {
        let name = parameter["name"].as_str().unwrap_or_default().to_owned();
        if let Some(schema) = parameter_schema(path, &name) {
            if schema["type"] == "array" {
                // Comma-separated, as `symbols=USD,JPY`.
                parameter["style"] = json!("form");
                parameter["explode"] = json!(false);
            }
            parameter["schema"] = schema;
        }
    }
    if let Some(alternatives) = exclusive_alternatives(&parameters) {
        parameters = exclusive_query(parameters, alternatives);
    }
    if !parameters.is_empty() {
        operation["parameters"] = Value::Array(parameters);
    }

    let responses = &mut operation["responses"];
    let meta = matches!(path, "/healthz" | "/readyz" | "/metrics")
        || path.starts_with("/v1/admin")
        || path.starts_with("/v1/changes");
    if !meta {
        responses["304"] = json!({
            "description": "Not modified: `If-None-Match` (or, without it, `If-Modified-Since`) matched; no body, the same `ETag`, `Cache-Control` and `Vary`"
        });
        responses["406"] = problem("`Accept-Encoding` refuses identity and every coding available");
        responses["412"] =
            json!({"description": "`If-Match` or `If-Unmodified-Since` failed; no body"});
        responses["503"] = problem("Datasets still loading (`not-ready`), every expensive-render permit taken (`busy`, with `Retry-After`) or rendering timed out (`timeout`)");
        if path != "/v1/datasets" {
            if responses.get("400").is_none() {
                responses["400"] = problem("Unknown or malformed parameter");
            }
            if responses.get("422").is_none() {
                responses["422"] =
                    problem("A well-formed code the datasets do not have (`unknown-code`)");
            }
        }
    }
    responses["414"] = problem("Path and query longer than 8 KiB (`uri-too-long`)");

    let ok_schema = match path {
        "/v1/countries/{code}" => Some(json!({"$ref": "#/components/schemas/CountryProjection"})),
        "/v1/exchange-rates" => Some(json!({"anyOf": [
            {"$ref": "#/components/schemas/RatesResponse"},
            {"$ref": "#/components/schemas/SeriesResponse"}
        ]})),
        _ => None,
    };
    if let Some(schema) = ok_schema {
        responses["200"]["content"]["application/json"]["schema"] = schema;
    }
}

/// `CountryProjection` (any subset of a country's keys, for `fields=`) and list pages whose
/// items may be projected.
fn add_schemas(doc: &mut Value) {
    let schemas = &mut doc["components"]["schemas"];
    let country = schemas["Country"].clone();
    schemas["CountryProjection"] = json!({
        "description": "A country, or the subset of its keys chosen with `fields=`.",
        "type": "object",
        "properties": country["properties"].clone(),
        "additionalProperties": false
    });
    schemas["CountryPage"]["properties"]["items"]["items"] =
        json!({"$ref": "#/components/schemas/CountryProjection"});
}

/// `GET /openapi.json`.
pub async fn serve() -> Response {
    Json(&*DOCUMENT).into_response()
}
