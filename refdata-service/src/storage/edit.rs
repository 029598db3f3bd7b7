//! Changes the admin API and `refdata import --into` make, with their validation.
//!
//! Every check runs before anything is written and every violation is reported, not only the
//! first: a rejected change lists all that is wrong with it and changes nothing.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use super::contents::{Contents, RateTable, TaxRow};
use super::WriteError;
use crate::domain::tax::{TaxRate, TaxType};
use crate::domain::{Country, Currency, Subdivision};
use crate::import::ecb::EcbTable;

/// One thing wrong with a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Violation {
    /// The field of the request it concerns (empty for the change as a whole).
    pub field: String,
    pub message: String,
}

impl Violation {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Longest free text (`source`, `reason`, names) accepted.
pub const MAX_TEXT: usize = 1000;

/// Reads the fields of a JSON object, collecting violations instead of stopping at the first.
pub struct Fields {
    map: Map<String, Value>,
    seen: HashSet<&'static str>,
    pub violations: Vec<Violation>,
}

impl Fields {
    /// `body` as a JSON object; a body that is not one is a single violation.
    pub fn parse(body: &[u8]) -> Result<Self, Violation> {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Self {
                map,
                seen: HashSet::new(),
                violations: Vec::new(),
            }),
            Ok(_) => Err(Violation::new("", "the body must be a JSON object")),
            Err(error) => Err(Violation::new("", format!("malformed JSON: {error}"))),
        }
    }

    fn bad(&mut self, field: &str, message: impl Into<String>) {
        self.violations.push(Violation::new(field, message));
    }

    fn value(&mut self, field: &'static str) -> Option<Value> {
        self.seen.insert(field);
        self.map.get(field).cloned().filter(|v| !v.is_null())
    }

    /// A string matching `check`, or a violation.
    pub fn string(
        &mut self,
        field: &'static str,
        required: bool,
        check: fn(&str) -> Result<(), String>,
    ) -> Option<String> {
        match self.value(field) {
            None if required => {
                self.bad(field, "is required");
                None
            }
            None => None,
            Some(Value::String(text)) => match check(&text) {
                Ok(()) => Some(text),
                Err(message) => {
                    self.bad(field, message);
                    None
                }
            },
            Some(_) => {
                self.bad(field, "must be a string");
                None
            }
        }
    }

    pub fn text(&mut self, field: &'static str, required: bool) -> Option<String> {
        self.string(field, required, free_text)
    }

    pub fn date(&mut self, field: &'static str, required: bool) -> Option<NaiveDate> {
        self.string(field, required, |t| {
            parse_date(t)
                .map(|_| ())
                .ok_or_else(|| format!("{t:?} is not a YYYY-MM-DD date"))
        })
        .and_then(|t| parse_date(&t))
    }

    pub fn decimal(&mut self, field: &'static str) -> Option<Decimal> {
        let text = match self.value(field) {
            None => {
                self.bad(field, "is required");
                return None;
            }
            Some(Value::String(text)) => text,
            Some(Value::Number(number)) => number.to_string(),
            Some(_) => {
                self.bad(field, "must be a decimal string such as \"19\" or \"5.5\"");
                return None;
            }
        };
        let plain = !text.is_empty()
            && text.len() <= 20
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
            && !text.starts_with('.')
            && !text.ends_with('.');
        match Decimal::from_str_exact(&text).ok().filter(|_| plain) {
            Some(value) => Some(value),
            None => {
                self.bad(field, format!("{text:?} is not a plain decimal"));
                None
            }
        }
    }

    pub fn integer(&mut self, field: &'static str, required: bool) -> Option<u64> {
        match self.value(field) {
            None if required => {
                self.bad(field, "is required");
                None
            }
            None => None,
            Some(Value::Number(n)) if whole(&n).is_some() => whole(&n),
            Some(_) => {
                self.bad(field, "must be a whole number");
                None
            }
        }
    }

    pub fn boolean(&mut self, field: &'static str) -> Option<bool> {
        match self.value(field) {
            None => None,
            Some(Value::Bool(b)) => Some(b),
            Some(_) => {
                self.bad(field, "must be true or false");
                None
            }
        }
    }

    pub fn codes(
        &mut self,
        field: &'static str,
        check: fn(&str) -> Result<(), String>,
    ) -> Vec<String> {
        match self.value(field) {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                let mut codes = Vec::new();
                for item in items {
                    match item.as_str().map(|code| (code, check(code))) {
                        Some((code, Ok(()))) => codes.push(code.to_owned()),
                        Some((_, Err(message))) => self.bad(field, message),
                        None => self.bad(field, "must be an array of strings"),
                    }
                }
                codes
            }
            Some(_) => {
                self.bad(field, "must be an array of codes");
                Vec::new()
            }
        }
    }

    /// Reports fields that are not part of the request.
    pub fn finish(&mut self) {
        let unknown: Vec<String> = self
            .map
            .keys()
            .filter(|key| !self.seen.contains(key.as_str()))
            .cloned()
            .collect();
        for key in unknown {
            self.bad(&key, "is not a field of this request");
        }
    }

    /// The violations so far, as an error when there are any.
    pub fn check(&mut self) -> Result<(), WriteError> {
        self.finish();
        if self.violations.is_empty() {
            Ok(())
        } else {
            Err(WriteError::Invalid(std::mem::take(&mut self.violations)))
        }
    }
}

/// A non-negative whole number, written `3` or `3.0` (JSON Schema's `integer`).
fn whole(number: &serde_json::Number) -> Option<u64> {
    number.as_u64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 9_007_199_254_740_992.0)
            // Exact: a whole f64 below 2^53.
            .map(|f| f as u64)
    })
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    (text.len() == 10)
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
}

pub fn free_text(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        Err("must not be empty".into())
    } else if text.chars().count() > MAX_TEXT {
        Err(format!("must be at most {MAX_TEXT} characters"))
    } else {
        Ok(())
    }
}

fn upper(text: &str, len: usize, what: &str) -> Result<(), String> {
    if text.len() == len && text.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(format!("{text:?} is not {what} ({len} upper-case letters)"))
    }
}

pub fn alpha2(text: &str) -> Result<(), String> {
    upper(text, 2, "an ISO 3166-1 alpha-2 code")
}

pub fn alpha3(text: &str) -> Result<(), String> {
    upper(text, 3, "an ISO 3166-1 alpha-3 code")
}

pub fn currency_code(text: &str) -> Result<(), String> {
    upper(text, 3, "an ISO 4217 code")
}

pub fn numeric3(text: &str) -> Result<(), String> {
    if text.len() == 3 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("{text:?} is not a three-digit numeric code"))
    }
}

pub fn subdivision_code(text: &str) -> Result<(), String> {
    let ok = text.split_once('-').is_some_and(|(country, rest)| {
        alpha2(country).is_ok()
            && (1..=3).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    });
    if ok {
        Ok(())
    } else {
        Err(format!("{text:?} is not an ISO 3166-2 code such as US-CA"))
    }
}

fn tax_type(text: &str) -> Result<(), String> {
    text.parse::<TaxType>().map(|_| ())
}

pub fn year_month(text: &str) -> Result<(), String> {
    if text.len() == 7 && NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").is_ok() {
        Ok(())
    } else {
        Err(format!("{text:?} is not a YYYY-MM month"))
    }
}

/// The request body's `reason`, required on every change.
pub fn reason(fields: &mut Fields) -> Option<String> {
    fields.text("reason", true)
}

/// A tax rate from a request body (`{country, subdivision, type, rate, valid_from, valid_to,
/// source, reason}`), checked against the codes of `contents`.
pub fn tax_rate_input(fields: &mut Fields, contents: &Contents) -> Result<TaxRate, WriteError> {
    let country = fields.string("country", true, alpha2);
    let subdivision = fields.string("subdivision", false, subdivision_code);
    let kind = fields.string("type", true, tax_type);
    let rate = fields.decimal("rate");
    let valid_from = fields.date("valid_from", true);
    let valid_to = fields.date("valid_to", false);
    let source = fields.text("source", true);
    reason(fields);
    if let Some(rate) = rate {
        if rate.is_sign_negative() || rate > Decimal::ONE_HUNDRED {
            fields.bad("rate", format!("{rate} is outside 0..=100 (a percentage)"));
        } else if rate.scale() > 4 {
            fields.bad("rate", format!("{rate} has more than 4 decimals"));
        }
    }
    if let (Some(from), Some(to)) = (valid_from, valid_to) {
        if to <= from {
            fields.bad(
                "valid_to",
                format!("valid_to {to} must be after valid_from {from}"),
            );
        }
    }
    if let Some(country) = &country {
        if !contents.countries()?.iter().any(|c| &c.alpha2 == country) {
            fields.bad("country", format!("{country} is not a known country"));
        }
    }
    if let Some(code) = &subdivision {
        if !contents.subdivisions()?.iter().any(|s| &s.code == code) {
            fields.bad("subdivision", format!("{code} is not a known subdivision"));
        } else if let Some(country) = country
            .as_ref()
            .filter(|c| !code.starts_with(&format!("{c}-")))
        {
            fields.bad("subdivision", format!("{code} is not in country {country}"));
        }
    }
    fields.check()?;
    match (
        country,
        kind.and_then(|k| k.parse().ok()),
        rate,
        valid_from,
        source,
    ) {
        (Some(country), Some(kind), Some(rate), Some(valid_from), Some(source)) => Ok(TaxRate {
            country,
            subdivision,
            kind,
            rate: rate.normalize(),
            valid_from,
            valid_to,
            source: source.trim().to_owned(),
        }),
        _ => Err(WriteError::Invalid(vec![Violation::new(
            "",
            "incomplete tax rate",
        )])),
    }
}

/// Whether two rates may not both apply: one standard rate per place at a time, and the same
/// rate of another type not listed twice for one day (several reduced rates coexist).
fn clashes(a: &TaxRate, b: &TaxRate) -> bool {
    let ends_before = |x: &TaxRate, y: &TaxRate| x.valid_to.is_some_and(|last| last < y.valid_from);
    a.country == b.country
        && a.subdivision == b.subdivision
        && a.kind == b.kind
        && (a.kind == TaxType::Standard || a.rate == b.rate)
        && !ends_before(a, b)
        && !ends_before(b, a)
}

fn describe(row: &TaxRow) -> String {
    format!(
        "tax rate {} ({} % from {} to {})",
        row.id,
        row.rate.rate,
        row.rate.valid_from,
        row.rate
            .valid_to
            .map_or_else(|| "open end".to_owned(), |d| d.to_string())
    )
}

/// Adds `rate` as a new period. An open-ended period of the same series that it starts
/// inside is closed the day before; any other overlap is a violation.
pub fn create_tax_rate(
    contents: &mut Contents,
    rate: TaxRate,
) -> Result<(Value, Option<u64>), WriteError> {
    let mut rows = contents.tax_rows()?;
    let mut violations = Vec::new();
    let mut closed = Vec::new();
    for row in rows.iter_mut().filter(|row| clashes(&row.rate, &rate)) {
        if row.rate.valid_to.is_none() && row.rate.valid_from < rate.valid_from {
            row.rate.valid_to = rate.valid_from.pred_opt();
            closed.push(json!({"id": row.id, "valid_to": row.rate.valid_to}));
        } else {
            violations.push(Violation::new(
                "valid_from",
                format!("the period overlaps {}", describe(row)),
            ));
        }
    }
    if !violations.is_empty() {
        return Err(WriteError::Invalid(violations));
    }
    let id = rows.iter().map(|r| r.id).max().unwrap_or(0) + 1;
    let detail = json!({"id": id, "rate": &rate, "closed": closed});
    rows.push(TaxRow { id, rate });
    contents.set_tax_rows(&rows);
    Ok((detail, Some(id)))
}

/// Replaces rate `id`; an overlap with any other period is a violation.
pub fn replace_tax_rate(
    contents: &mut Contents,
    id: u64,
    rate: TaxRate,
) -> Result<(Value, Option<u64>), WriteError> {
    let mut rows = contents.tax_rows()?;
    if !rows.iter().any(|r| r.id == id) {
        return Err(WriteError::NotFound(format!("no tax rate with id {id}")));
    }
    let violations: Vec<Violation> = rows
        .iter()
        .filter(|row| row.id != id && clashes(&row.rate, &rate))
        .map(|row| {
            Violation::new(
                "valid_from",
                format!("the period overlaps {}", describe(row)),
            )
        })
        .collect();
    if !violations.is_empty() {
        return Err(WriteError::Invalid(violations));
    }
    let mut before = Value::Null;
    for row in rows.iter_mut().filter(|r| r.id == id) {
        before = json!(&row.rate);
        row.rate = rate.clone();
    }
    contents.set_tax_rows(&rows);
    Ok((json!({"id": id, "before": before, "after": rate}), None))
}

/// Removes rate `id` (it stays in earlier versions).
pub fn retire_tax_rate(
    contents: &mut Contents,
    id: u64,
) -> Result<(Value, Option<u64>), WriteError> {
    let mut rows = contents.tax_rows()?;
    let before = rows.iter().find(|r| r.id == id).map(|r| json!(&r.rate));
    let Some(before) = before else {
        return Err(WriteError::NotFound(format!("no tax rate with id {id}")));
    };
    rows.retain(|r| r.id != id);
    contents.set_tax_rows(&rows);
    Ok((json!({"id": id, "before": before}), None))
}

/// A country from a request body; `path_code`, when given, must match its `alpha2`.
pub fn country_input(
    fields: &mut Fields,
    contents: &Contents,
    path_code: Option<&str>,
) -> Result<Country, WriteError> {
    let alpha2 = fields.string("alpha2", true, alpha2);
    let alpha3 = fields.string("alpha3", true, alpha3);
    let numeric = fields.string("numeric", true, numeric3);
    let name = fields.text("name", true);
    let official_name = fields.text("official_name", false);
    let common_name = fields.text("common_name", false);
    let flag = fields.text("flag", false);
    let currencies = fields.codes("currencies", currency_code);
    let region = fields.text("region", false);
    let subregion = fields.text("subregion", false);
    reason(fields);
    if let (Some(code), Some(path)) = (&alpha2, path_code) {
        if code != path {
            fields.bad("alpha2", format!("{code} does not match the path's {path}"));
        }
    }
    let known: Vec<Currency> = contents.currencies()?;
    for code in &currencies {
        if !known.iter().any(|c| &c.code == code) {
            fields.bad("currencies", format!("{code} is not a known currency"));
        }
    }
    let countries = contents.countries()?;
    if let (Some(code), Some(a3), Some(num)) = (&alpha2, &alpha3, &numeric) {
        for other in countries.iter().filter(|c| &c.alpha2 != code) {
            if &other.alpha3 == a3 {
                fields.bad("alpha3", format!("{a3} is already {}", other.alpha2));
            }
            if &other.numeric == num {
                fields.bad("numeric", format!("{num} is already {}", other.alpha2));
            }
        }
    }
    fields.check()?;
    match (alpha2, alpha3, numeric, name) {
        (Some(alpha2), Some(alpha3), Some(numeric), Some(name)) => Ok(Country {
            flag: flag.unwrap_or_else(|| flag_of(&alpha2)),
            alpha2,
            alpha3,
            numeric,
            name,
            official_name,
            common_name,
            currencies,
            region,
            subregion,
        }),
        _ => Err(WriteError::Invalid(vec![Violation::new(
            "",
            "incomplete country",
        )])),
    }
}

/// The regional-indicator flag of an alpha-2 code.
fn flag_of(alpha2: &str) -> String {
    alpha2
        .bytes()
        .filter_map(|b| char::from_u32(0x1F1E6 + u32::from(b.saturating_sub(b'A'))))
        .collect()
}

pub fn upsert_country(
    contents: &mut Contents,
    country: Country,
    must_exist: bool,
) -> Result<(Value, Option<u64>), WriteError> {
    let mut countries = contents.countries()?;
    let before = countries.iter().position(|c| c.alpha2 == country.alpha2);
    if must_exist && before.is_none() {
        return Err(WriteError::NotFound(format!(
            "no country {}",
            country.alpha2
        )));
    }
    let detail = json!({
        "before": before.map(|i| json!(&countries[i])),
        "after": &country,
    });
    match before {
        Some(i) => countries[i] = country,
        None => countries.push(country),
    }
    contents.set_countries(&mut countries);
    Ok((detail, None))
}

/// Removes a country and its subdivisions, and drops it from its currencies' countries;
/// refused while tax rates refer to it.
pub fn retire_country(
    contents: &mut Contents,
    code: &str,
) -> Result<(Value, Option<u64>), WriteError> {
    let mut countries = contents.countries()?;
    let Some(index) = countries.iter().position(|c| c.alpha2 == code) else {
        return Err(WriteError::NotFound(format!("no country {code}")));
    };
    let rates: Vec<u64> = contents
        .tax_rows()?
        .iter()
        .filter(|r| r.rate.country == code)
        .map(|r| r.id)
        .collect();
    if !rates.is_empty() {
        return Err(WriteError::Invalid(vec![Violation::new(
            "",
            format!("tax rates {rates:?} refer to {code}; retire them first"),
        )]));
    }
    let before = countries.remove(index);
    let mut subdivisions = contents.subdivisions()?;
    let count = subdivisions.len();
    subdivisions.retain(|s| s.country != code);
    if subdivisions.len() != count {
        contents.set_subdivisions(&mut subdivisions);
    }
    contents.set_countries(&mut countries);
    let mut currencies = contents.currencies()?;
    let mut unlisted = Vec::new();
    for currency in &mut currencies {
        if currency.countries.iter().any(|c| c == code) {
            currency.countries.retain(|c| c != code);
            unlisted.push(currency.code.clone());
        }
    }
    if !unlisted.is_empty() {
        contents.set_currencies(&mut currencies);
    }
    Ok((
        json!({"before": before, "subdivisions_removed": count - subdivisions.len(),
               "currencies_unlisted": unlisted}),
        None,
    ))
}

/// A subdivision from a request body (`{code, country, name, type, parent, reason}`, the read
/// API's shape); `path_code`, when given, must match its `code`. Its country must exist and
/// be the code's prefix; its parent, if any, must be another subdivision of that country.
pub fn subdivision_input(
    fields: &mut Fields,
    contents: &Contents,
    path_code: Option<&str>,
) -> Result<Subdivision, WriteError> {
    let code = fields.string("code", true, subdivision_code);
    let country = fields.string("country", false, alpha2);
    let name = fields.text("name", true);
    let kind = fields.text("type", true);
    let parent = fields.string("parent", false, subdivision_code);
    reason(fields);
    let prefix = code
        .as_deref()
        .and_then(|c| c.split_once('-'))
        .map(|(country, _)| country.to_owned());
    if let (Some(code), Some(path)) = (&code, path_code) {
        if code != path {
            fields.bad("code", format!("{code} does not match the path's {path}"));
        }
    }
    if let (Some(country), Some(prefix)) = (&country, &prefix) {
        if country != prefix {
            fields.bad(
                "country",
                format!("{country} is not the country of the code ({prefix})"),
            );
        }
    }
    if let Some(prefix) = &prefix {
        if !contents.countries()?.iter().any(|c| &c.alpha2 == prefix) {
            fields.bad("code", format!("{prefix} is not a known country"));
        }
    }
    if let (Some(parent), Some(code), Some(prefix)) = (&parent, &code, &prefix) {
        if parent == code {
            fields.bad("parent", "a subdivision cannot be its own parent");
        } else if !parent.starts_with(&format!("{prefix}-")) {
            fields.bad("parent", format!("{parent} is not in country {prefix}"));
        } else {
            let subdivisions = contents.subdivisions()?;
            let parent_of = |c: &str| {
                subdivisions
                    .iter()
                    .find(|s| s.code == c)
                    .map(|s| s.parent.clone())
            };
            if parent_of(parent).is_none() {
                fields.bad("parent", format!("{parent} is not a known subdivision"));
            } else {
                // Following the parents upwards must not lead back to this subdivision.
                let mut next = Some(parent.clone());
                let mut steps = 0;
                while let Some(current) = next {
                    if &current == code || steps > subdivisions.len() {
                        fields.bad("parent", format!("{parent} is below {code}: a cycle"));
                        break;
                    }
                    next = parent_of(&current).flatten();
                    steps += 1;
                }
            }
        }
    }
    fields.check()?;
    match (code, prefix, name, kind) {
        (Some(code), Some(country), Some(name), Some(kind)) => Ok(Subdivision {
            code,
            country,
            name: name.trim().to_owned(),
            kind: kind.trim().to_owned(),
            parent,
        }),
        _ => Err(WriteError::Invalid(vec![Violation::new(
            "",
            "incomplete subdivision",
        )])),
    }
}

pub fn upsert_subdivision(
    contents: &mut Contents,
    subdivision: Subdivision,
    must_exist: bool,
) -> Result<(Value, Option<u64>), WriteError> {
    let mut subdivisions = contents.subdivisions()?;
    let before = subdivisions.iter().position(|s| s.code == subdivision.code);
    if must_exist && before.is_none() {
        return Err(WriteError::NotFound(format!(
            "no subdivision {}",
            subdivision.code
        )));
    }
    let detail = json!({
        "before": before.map(|i| json!(&subdivisions[i])),
        "after": &subdivision,
    });
    match before {
        Some(i) => subdivisions[i] = subdivision,
        None => subdivisions.push(subdivision),
    }
    contents.set_subdivisions(&mut subdivisions);
    Ok((detail, None))
}

/// Removes a subdivision; refused while tax rates or other subdivisions (as their parent)
/// refer to it.
pub fn retire_subdivision(
    contents: &mut Contents,
    code: &str,
) -> Result<(Value, Option<u64>), WriteError> {
    let mut subdivisions = contents.subdivisions()?;
    let Some(index) = subdivisions.iter().position(|s| s.code == code) else {
        return Err(WriteError::NotFound(format!("no subdivision {code}")));
    };
    let mut violations = Vec::new();
    let rates: Vec<u64> = contents
        .tax_rows()?
        .iter()
        .filter(|r| r.rate.subdivision.as_deref() == Some(code))
        .map(|r| r.id)
        .collect();
    if !rates.is_empty() {
        violations.push(Violation::new(
            "",
            format!("tax rates {rates:?} refer to {code}; retire them first"),
        ));
    }
    let children: Vec<&str> = subdivisions
        .iter()
        .filter(|s| s.parent.as_deref() == Some(code))
        .map(|s| s.code.as_str())
        .collect();
    if !children.is_empty() {
        violations.push(Violation::new(
            "",
            format!("{children:?} have {code} as their parent; change or retire them first"),
        ));
    }
    if !violations.is_empty() {
        return Err(WriteError::Invalid(violations));
    }
    let before = subdivisions.remove(index);
    contents.set_subdivisions(&mut subdivisions);
    Ok((json!({"before": before}), None))
}

pub fn currency_input(
    fields: &mut Fields,
    contents: &Contents,
    path_code: Option<&str>,
) -> Result<Currency, WriteError> {
    let code = fields.string("code", true, currency_code);
    let numeric = fields.string("numeric", true, numeric3);
    let name = fields.text("name", true);
    let minor_units = match fields.value("minor_units") {
        None => None,
        Some(Value::Number(n)) if whole(&n).is_some_and(|u| u <= 4) => {
            whole(&n).and_then(|u| u8::try_from(u).ok())
        }
        Some(other) => {
            fields.bad(
                "minor_units",
                format!("{other} is not null or a whole number of digits from 0 to 4"),
            );
            None
        }
    };
    let countries = fields.codes("countries", alpha2);
    let historic = fields.boolean("historic").unwrap_or(false);
    let fund = fields.boolean("fund").unwrap_or(false);
    let metal = fields.boolean("metal").unwrap_or(false);
    let withdrawn = fields.string("withdrawn", false, year_month);
    reason(fields);
    if let (Some(code), Some(path)) = (&code, path_code) {
        if code != path {
            fields.bad("code", format!("{code} does not match the path's {path}"));
        }
    }
    let known = contents.countries()?;
    for country in &countries {
        if !known.iter().any(|c| &c.alpha2 == country) {
            fields.bad("countries", format!("{country} is not a known country"));
        }
    }
    fields.check()?;
    match (code, numeric, name) {
        (Some(code), Some(numeric), Some(name)) => Ok(Currency {
            code,
            numeric,
            name,
            minor_units,
            countries,
            historic,
            fund,
            metal,
            withdrawn,
        }),
        _ => Err(WriteError::Invalid(vec![Violation::new(
            "",
            "incomplete currency",
        )])),
    }
}

pub fn upsert_currency(
    contents: &mut Contents,
    currency: Currency,
    must_exist: bool,
) -> Result<(Value, Option<u64>), WriteError> {
    let mut currencies = contents.currencies()?;
    let before = currencies.iter().position(|c| c.code == currency.code);
    if must_exist && before.is_none() {
        return Err(WriteError::NotFound(format!(
            "no currency {}",
            currency.code
        )));
    }
    let detail = json!({"before": before.map(|i| json!(&currencies[i])), "after": &currency});
    match before {
        Some(i) => currencies[i] = currency,
        None => currencies.push(currency),
    }
    contents.set_currencies(&mut currencies);
    Ok((detail, None))
}

/// Marks a currency withdrawn (in `withdrawn`, default this month) and removes it from the
/// legal tenders of its countries.
pub fn retire_currency(
    contents: &mut Contents,
    code: &str,
    withdrawn: Option<String>,
) -> Result<(Value, Option<u64>), WriteError> {
    let mut currencies = contents.currencies()?;
    let Some(currency) = currencies.iter_mut().find(|c| c.code == code) else {
        return Err(WriteError::NotFound(format!("no currency {code}")));
    };
    let today = Utc::now().date_naive();
    let month = withdrawn.unwrap_or_else(|| format!("{:04}-{:02}", today.year(), today.month()));
    currency.historic = true;
    currency.withdrawn = Some(month.clone());
    contents.set_currencies(&mut currencies);
    let mut countries = contents.countries()?;
    let mut affected = Vec::new();
    for country in &mut countries {
        if country.currencies.iter().any(|c| c == code) {
            country.currencies.retain(|c| c != code);
            affected.push(country.alpha2.clone());
        }
    }
    if !affected.is_empty() {
        contents.set_countries(&mut countries);
    }
    Ok((
        json!({"code": code, "withdrawn": month, "countries": affected}),
        None,
    ))
}

/// Merges an ECB file into the rate table: the days it holds are replaced by its figures
/// (currencies it does not list keep theirs), new currencies become new columns.
pub fn import_rates(
    contents: &mut Contents,
    table: &EcbTable,
) -> Result<(Value, Option<u64>), WriteError> {
    let known = contents.currencies()?;
    let mut violations = Vec::new();
    for code in &table.currencies {
        if code == "EUR" {
            violations.push(Violation::new("currency", "EUR is the base, not a quote"));
        } else if !known.iter().any(|c| &c.code == code) {
            violations.push(Violation::new(
                "currency",
                format!("{code} is not a known ISO 4217 currency"),
            ));
        }
    }
    let tomorrow = Utc::now().date_naive().succ_opt().unwrap_or(NaiveDate::MAX);
    for (date, _) in &table.rows {
        if *date > tomorrow {
            violations.push(Violation::new("time", format!("{date} is in the future")));
        }
        if date.year() < 1999 {
            violations.push(Violation::new("time", format!("{date} is before the euro")));
        }
    }
    if !violations.is_empty() {
        return Err(WriteError::Invalid(violations));
    }
    let mut rates: RateTable = contents.rate_table()?;
    for code in &table.currencies {
        if !rates.currencies.contains(code) {
            rates.currencies.push(code.clone());
            for values in rates.rows.values_mut() {
                values.push(None);
            }
        }
    }
    let width = rates.currencies.len();
    let columns: Vec<usize> = table
        .currencies
        .iter()
        .filter_map(|code| rates.currencies.iter().position(|c| c == code))
        .collect();
    for (date, values) in &table.rows {
        let row = rates.rows.entry(*date).or_insert_with(|| vec![None; width]);
        for (column, value) in columns.iter().zip(values) {
            if let Some(cell) = row.get_mut(*column) {
                *cell = *value;
            }
        }
    }
    contents.set_rate_table(&rates)?;
    let first = table.rows.first().map(|(d, _)| *d);
    let last = table.rows.last().map(|(d, _)| *d);
    Ok((
        json!({"days": table.rows.len(), "first": first, "last": last,
               "currencies": table.currencies.len()}),
        None,
    ))
}

/// Sets `datasets` (all when empty) to their contents in `target`.
pub fn rollback(
    contents: &mut Contents,
    target: &Contents,
    datasets: &[String],
) -> Result<(Value, Option<u64>), WriteError> {
    let all = datasets.is_empty();
    let wants = |name: &str| all || datasets.iter().any(|d| d == name);
    let unknown: Vec<Violation> = datasets
        .iter()
        .filter(|d| !super::DATASETS.contains(&d.as_str()))
        .map(|d| Violation::new("datasets", format!("{d:?} is not a dataset")))
        .collect();
    if !unknown.is_empty() {
        return Err(WriteError::Invalid(unknown));
    }
    if wants("countries") {
        contents.countries = target.countries.clone();
    }
    if wants("subdivisions") {
        contents.subdivisions = target.subdivisions.clone();
    }
    if wants("currencies") {
        contents.currencies = target.currencies.clone();
    }
    if wants("exchange_rates") {
        contents.rate_chunks = target.rate_chunks.clone();
    }
    if wants("tax_rates") {
        contents.tax_rates = target.tax_rates.clone();
    }
    if all {
        contents.manifest = target.manifest.clone();
    }
    Ok((json!({"datasets": datasets}), None))
}
