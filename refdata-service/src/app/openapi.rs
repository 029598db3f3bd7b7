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
    admin_schemas(&mut doc);
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, operation) in item.iter_mut() {
                type_if_match(operation);
                type_admin_operation(path, method, operation);
                operation["responses"]["414"] =
                    problem("Path and query longer than 8 KiB (`uri-too-long`)");
                operation["responses"]["431"] = problem(
                    "Request head over 64 KiB or with more than 100 header fields \
                     (`headers-too-large`)",
                );
            }
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

/// Characters `str::trim` removes (Unicode `White_Space`): free text must have another one.
const NOT_BLANK: &str = "[^\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";

/// Free text as the admin API checks it: not blank, at most 1000 characters.
fn free_text(nullable: bool) -> Value {
    json!({
        "type": if nullable { json!(["string", "null"]) } else { json!("string") },
        "minLength": 1,
        "maxLength": crate::storage::edit::MAX_TEXT,
        "pattern": NOT_BLANK
    })
}

fn code(pattern: &str, nullable: bool) -> Value {
    json!({
        "type": if nullable { json!(["string", "null"]) } else { json!("string") },
        "pattern": pattern
    })
}

const ALPHA2: &str = "^[A-Z]{2}$";
const ALPHA3: &str = "^[A-Z]{3}$";
const NUMERIC3: &str = "^[0-9]{3}$";
const SUBDIVISION: &str = "^[A-Z]{2}-[A-Z0-9]{1,3}$";
const YEAR_MONTH: &str = "^[0-9]{4}-(0[1-9]|1[0-2])$";

/// The admin request bodies exactly as the service validates their shape (types, patterns,
/// enums, bounds, no unknown fields), so that a request valid by the document is refused only
/// for what depends on the data: unknown codes, overlapping periods, references, a body code
/// other than the path's, `valid_to` not after `valid_from`.
fn admin_schemas(doc: &mut Value) {
    let schemas = &mut doc["components"]["schemas"];
    let object = |description: &Value, properties: Value, required: &[&str]| {
        json!({
            "description": description,
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false
        })
    };
    let described = |schema: Value, description: &str| {
        let mut schema = schema;
        schema["description"] = json!(description);
        schema
    };
    let example = schemas["TaxRateChange"]["example"].clone();
    schemas["TaxRateChange"] = object(
        &schemas["TaxRateChange"]["description"],
        json!({
            "country": described(code(ALPHA2, false), "ISO 3166-1 alpha-2"),
            "subdivision": described(code(SUBDIVISION, true), "ISO 3166-2 code of a subdivision of `country`, or null for the national rate"),
            "type": {"type": "string", "enum": ["standard", "reduced", "super_reduced", "parking"]},
            "rate": {"type": "string", "pattern": "^(100(\\.0{1,4})?|[0-9]{1,2}(\\.[0-9]{1,4})?)$", "description": "Percentage from 0 to 100, at most 4 decimals"},
            "valid_from": date(),
            "valid_to": {"type": ["string", "null"], "format": "date", "pattern": DATE, "description": "Inclusive last day, after `valid_from`; null while in force"},
            "source": described(free_text(false), "Citation of the legal or official source"),
            "reason": described(free_text(false), "Why the change is made (kept in the audit log)"),
        }),
        &["country", "type", "rate", "valid_from", "source", "reason"],
    );
    schemas["TaxRateChange"]["example"] = example;
    let example = schemas["CountryChange"]["example"].clone();
    schemas["CountryChange"] = object(
        &schemas["CountryChange"]["description"],
        json!({
            "alpha2": code(ALPHA2, false),
            "alpha3": code(ALPHA3, false),
            "numeric": code(NUMERIC3, false),
            "name": free_text(false),
            "official_name": free_text(true),
            "common_name": free_text(true),
            "flag": described(free_text(true), "Default: the regional-indicator flag of `alpha2`"),
            "currencies": {"type": ["array", "null"], "items": code(ALPHA3, false), "description": "ISO 4217 codes of its legal tenders"},
            "region": free_text(true),
            "subregion": free_text(true),
            "reason": free_text(false),
        }),
        &["alpha2", "alpha3", "numeric", "name", "reason"],
    );
    schemas["CountryChange"]["example"] = example;
    let example = schemas["CurrencyChange"]["example"].clone();
    schemas["CurrencyChange"] = object(
        &schemas["CurrencyChange"]["description"],
        json!({
            "code": code(ALPHA3, false),
            "numeric": code(NUMERIC3, false),
            "name": free_text(false),
            "minor_units": {"type": ["integer", "null"], "minimum": 0, "maximum": 4, "description": "0 to 4, or null where ISO 4217 says N.A."},
            "countries": {"type": ["array", "null"], "items": code(ALPHA2, false)},
            "historic": {"type": ["boolean", "null"]},
            "fund": {"type": ["boolean", "null"]},
            "metal": {"type": ["boolean", "null"]},
            "withdrawn": described(code(YEAR_MONTH, true), "`YYYY-MM`"),
            "reason": free_text(false),
        }),
        &["code", "numeric", "name", "reason"],
    );
    schemas["CurrencyChange"]["example"] = example;
    let example = schemas["SubdivisionChange"]["example"].clone();
    schemas["SubdivisionChange"] = object(
        &schemas["SubdivisionChange"]["description"],
        json!({
            "code": described(code(SUBDIVISION, false), "ISO 3166-2 code; its prefix is the country, which must exist"),
            "country": described(code(ALPHA2, true), "Alpha-2 code of the country (optional: the code's prefix)"),
            "name": free_text(false),
            "type": described(free_text(false), "The ISO 3166-2 category, e.g. `State`, `Province`"),
            "parent": described(code(SUBDIVISION, true), "Code of the parent subdivision in the same country, if any"),
            "reason": free_text(false),
        }),
        &["code", "name", "type", "reason"],
    );
    schemas["SubdivisionChange"]["example"] = example;
    schemas["Reason"] = object(
        &json!("Why a record is retired."),
        json!({"reason": free_text(false)}),
        &["reason"],
    );
    schemas["CurrencyRetirement"] = object(
        &json!("Why a currency is withdrawn, and since when."),
        json!({
            "reason": free_text(false),
            "withdrawn": described(code(YEAR_MONTH, true), "Month of withdrawal (`YYYY-MM`), default this month"),
        }),
        &["reason"],
    );
    schemas["RollbackRequest"] = object(
        &schemas["RollbackRequest"]["description"],
        json!({
            "version": {"type": "integer", "minimum": 0, "maximum": 9_007_199_254_740_991_u64, "description": "The version whose contents become current again"},
            "datasets": {"type": ["array", "null"], "items": {"type": "string", "enum": crate::storage::DATASETS}, "description": "Datasets to restore; all when absent or empty"},
            "reason": free_text(false),
        }),
        &["version", "reason"],
    );
}

/// Path codes of the admin routes, and the currency retirement's own body.
fn type_admin_operation(path: &str, method: &str, operation: &mut Value) {
    if path == "/v1/admin/exchange-rates" {
        if let Some(parameters) = operation
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
        {
            for parameter in parameters.iter_mut().filter(|p| p["name"] == "reason") {
                parameter["schema"]["pattern"] = json!(NOT_BLANK);
            }
        }
        return;
    }
    let pattern = match path {
        "/v1/admin/countries/{code}" => ALPHA2,
        "/v1/admin/currencies/{code}" => ALPHA3,
        "/v1/admin/subdivisions/{code}" => SUBDIVISION,
        _ => return,
    };
    if let Some(parameters) = operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
    {
        for parameter in parameters.iter_mut().filter(|p| p["name"] == "code") {
            parameter["schema"] = code(pattern, false);
        }
    }
    if method == "delete" && path == "/v1/admin/currencies/{code}" {
        operation["requestBody"]["content"]["application/json"]["schema"] =
            json!({"$ref": "#/components/schemas/CurrencyRetirement"});
    }
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
