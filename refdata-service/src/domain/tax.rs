//! Tax rates with effective dates, read from the curated `tax-rates.csv`.
//!
//! Layout: header `country,subdivision,type,rate,valid_from,valid_to,source`; `country` is an
//! ISO 3166-1 alpha-2 code, `subdivision` an ISO 3166-2 code of that country or empty,
//! `type` one of `standard`, `reduced`, `super_reduced`, `parking`, `rate` a percentage,
//! `valid_to` the inclusive last day or empty while in force.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use utoipa::ToSchema;

use super::csv;

pub const HEADER: [&str; 7] = [
    "country",
    "subdivision",
    "type",
    "rate",
    "valid_from",
    "valid_to",
    "source",
];

/// Kind of rate, as in the EU VAT directive.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TaxType {
    Standard,
    Reduced,
    SuperReduced,
    Parking,
}

impl TaxType {
    pub const ALL: [TaxType; 4] = [
        TaxType::Standard,
        TaxType::Reduced,
        TaxType::SuperReduced,
        TaxType::Parking,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaxType::Standard => "standard",
            TaxType::Reduced => "reduced",
            TaxType::SuperReduced => "super_reduced",
            TaxType::Parking => "parking",
        }
    }
}

impl fmt::Display for TaxType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaxType {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        TaxType::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| {
                format!("unknown tax type {text:?}; expected standard, reduced, super_reduced or parking")
            })
    }
}

/// One rate and the period it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"country":"DE","subdivision":null,"type":"standard","rate":"19",
    "valid_from":"2021-01-01","valid_to":null,"source":"UStG § 12 Abs. 1"}))]
pub struct TaxRate {
    pub country: String,
    pub subdivision: Option<String>,
    #[serde(rename = "type")]
    pub kind: TaxType,
    /// Percentage, e.g. `"19"` or `"5.5"`.
    #[schema(value_type = String)]
    pub rate: Decimal,
    pub valid_from: NaiveDate,
    /// Inclusive last day; `null` while in force.
    pub valid_to: Option<NaiveDate>,
    /// Citation of the legal or official source.
    pub source: String,
}

impl TaxRate {
    pub fn applies_on(&self, date: NaiveDate) -> bool {
        self.valid_from <= date && self.valid_to.is_none_or(|last| date <= last)
    }

    fn overlaps(&self, other: &TaxRate) -> bool {
        let ends_before =
            |a: &TaxRate, b: &TaxRate| a.valid_to.is_some_and(|last| last < b.valid_from);
        !ends_before(self, other) && !ends_before(other, self)
    }
}

/// A problem with one line of the tax-rate file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TaxFileError {
    #[error(transparent)]
    Csv(#[from] csv::CsvError),
    #[error("{} invalid tax-rate row(s):\n{}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<LineError>),
}

/// The codes a tax-rate file may refer to.
pub trait KnownCodes {
    fn has_country(&self, alpha2: &str) -> bool;
    fn has_subdivision(&self, code: &str) -> bool;
}

/// Known codes held in sets.
#[derive(Debug, Clone, Default)]
pub struct CodeSet {
    countries: HashSet<String>,
    subdivisions: HashSet<String>,
}

impl CodeSet {
    pub fn new(
        countries: impl IntoIterator<Item = String>,
        subdivisions: impl IntoIterator<Item = String>,
    ) -> Self {
        Self {
            countries: countries.into_iter().collect(),
            subdivisions: subdivisions.into_iter().collect(),
        }
    }
}

impl KnownCodes for CodeSet {
    fn has_country(&self, alpha2: &str) -> bool {
        self.countries.contains(alpha2)
    }

    fn has_subdivision(&self, code: &str) -> bool {
        self.subdivisions.contains(code)
    }
}

/// Parses and validates the whole file, reporting every bad line. Rows keep file order.
pub fn parse_tax_rates(text: &str, known: &impl KnownCodes) -> Result<Vec<TaxRate>, TaxFileError> {
    let records = csv::parse(text)?;
    let mut errors = Vec::new();
    let mut rows: Vec<(usize, TaxRate)> = Vec::new();
    let mut records = records.into_iter();
    match records.next() {
        Some(header) if header.fields.iter().map(|f| f.trim()).eq(HEADER) => {}
        Some(header) => errors.push(LineError {
            line: header.line,
            message: format!("header must be `{}`", HEADER.join(",")),
        }),
        None => errors.push(LineError {
            line: 1,
            message: format!("empty file; expected header `{}`", HEADER.join(",")),
        }),
    }
    for record in records {
        match parse_row(&record.fields, known) {
            Ok(rate) => rows.push((record.line, rate)),
            Err(message) => errors.push(LineError {
                line: record.line,
                message,
            }),
        }
    }
    errors.extend(overlapping_rates(&rows));
    if errors.is_empty() {
        Ok(rows.into_iter().map(|(_, rate)| rate).collect())
    } else {
        errors.sort_by_key(|error| error.line);
        Err(TaxFileError::Invalid(errors))
    }
}

/// A place has one standard rate at a time. Several reduced (or other) rates may coexist, but
/// the same rate of the same type must not be listed twice for overlapping periods.
fn overlapping_rates(rows: &[(usize, TaxRate)]) -> Vec<LineError> {
    let mut errors = Vec::new();
    for (i, (line, rate)) in rows.iter().enumerate() {
        let clash = rows[..i].iter().find(|(_, other)| {
            rate.country == other.country
                && rate.subdivision == other.subdivision
                && rate.kind == other.kind
                && (rate.kind == TaxType::Standard || rate.rate == other.rate)
                && rate.overlaps(other)
        });
        if let Some((other_line, other)) = clash {
            let message = if rate.kind == TaxType::Standard {
                format!(
                    "standard rate overlaps the one on line {other_line} ({} from {})",
                    other.rate, other.valid_from
                )
            } else {
                format!(
                    "{} rate {} overlaps the same rate on line {other_line}",
                    rate.kind, rate.rate
                )
            };
            errors.push(LineError {
                line: *line,
                message,
            });
        }
    }
    errors
}

fn parse_row(fields: &[String], known: &impl KnownCodes) -> Result<TaxRate, String> {
    let [country, subdivision, kind, rate, valid_from, valid_to, source] = fields else {
        return Err(format!(
            "expected {} fields, found {}",
            HEADER.len(),
            fields.len()
        ));
    };
    let country = country.trim();
    if !known.has_country(country) {
        return Err(format!(
            "unknown ISO 3166-1 alpha-2 country code {country:?}"
        ));
    }
    let subdivision = match subdivision.trim() {
        "" => None,
        code if !code.starts_with(&format!("{country}-")) => {
            return Err(format!("subdivision {code:?} is not in country {country}"))
        }
        code if !known.has_subdivision(code) => {
            return Err(format!("unknown ISO 3166-2 subdivision code {code:?}"))
        }
        code => Some(code.to_owned()),
    };
    let kind = kind.trim().parse::<TaxType>()?;
    let rate_text = rate.trim();
    let rate = Decimal::from_str_exact(rate_text)
        .map_err(|_| format!("rate {rate_text:?} is not a decimal percentage"))?;
    if rate.is_sign_negative() || rate > Decimal::ONE_HUNDRED {
        return Err(format!("rate {rate_text} is outside 0..=100"));
    }
    let date = |name: &str, text: &str| {
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map_err(|_| format!("{name} {text:?} is not a YYYY-MM-DD date"))
    };
    let valid_from = date("valid_from", valid_from)?;
    let valid_to = match valid_to.trim() {
        "" => None,
        text => Some(date("valid_to", text)?),
    };
    if let Some(last) = valid_to {
        if last < valid_from {
            return Err(format!("valid_to {last} is before valid_from {valid_from}"));
        }
    }
    let source = source.trim();
    if source.is_empty() {
        return Err("source is empty; every rate needs a citation".into());
    }
    Ok(TaxRate {
        country: country.to_owned(),
        subdivision,
        kind,
        rate,
        valid_from,
        valid_to,
        source: source.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Codes;

    impl KnownCodes for Codes {
        fn has_country(&self, alpha2: &str) -> bool {
            matches!(alpha2, "DE" | "US" | "FI")
        }
        fn has_subdivision(&self, code: &str) -> bool {
            matches!(code, "US-CA" | "DE-BY")
        }
    }

    const HEAD: &str = "country,subdivision,type,rate,valid_from,valid_to,source\n";

    fn parse(body: &str) -> Result<Vec<TaxRate>, TaxFileError> {
        parse_tax_rates(&format!("{HEAD}{body}"), &Codes)
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn line_errors(result: Result<Vec<TaxRate>, TaxFileError>) -> Vec<(usize, String)> {
        match result {
            Err(TaxFileError::Invalid(errors)) => {
                errors.into_iter().map(|e| (e.line, e.message)).collect()
            }
            other => panic!("expected line errors, got {other:?}"),
        }
    }

    #[test]
    fn parses_valid_rows() {
        let rates = parse(
            "DE,,standard,16,2020-07-01,2020-12-31,\"UStG § 28 Abs. 1, temporary\"\n\
             DE,,standard,19,2021-01-01,,UStG § 12\n\
             DE,,reduced,7,2007-01-01,,UStG\n\
             DE,,reduced,5.5,2007-01-01,,other tier\n\
             US,US-CA,standard,7.25,2017-01-01,,CDTFA\n",
        )
        .unwrap();
        assert_eq!(rates.len(), 5);
        assert_eq!(rates[0].source, "UStG § 28 Abs. 1, temporary");
        assert_eq!(rates[3].rate.to_string(), "5.5");
        assert_eq!(rates[4].subdivision.as_deref(), Some("US-CA"));
        assert!(rates[0].applies_on(day("2020-12-31")));
        assert!(!rates[0].applies_on(day("2021-01-01")));
        assert!(rates[1].applies_on(day("2099-01-01")));
    }

    #[test]
    fn reports_every_bad_line() {
        let errors = line_errors(parse(
            "XX,,standard,19,2021-01-01,,src\n\
             DE,US-CA,standard,19,2021-01-01,,src\n\
             DE,DE-ZZ,standard,19,2021-01-01,,src\n\
             DE,,vat,19,2021-01-01,,src\n\
             DE,,standard,nineteen,2021-01-01,,src\n\
             DE,,standard,101,2021-01-01,,src\n\
             DE,,standard,19,2021-13-01,,src\n\
             DE,,standard,19,2021-01-01,2020-01-01,src\n\
             DE,,standard,19,2021-01-01,,\n\
             DE,,standard,19\n",
        ));
        let lines: Vec<usize> = errors.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, (2..=11).collect::<Vec<_>>());
        assert!(errors[0].1.contains("\"XX\""));
        assert!(errors[1].1.contains("not in country DE"));
        assert!(errors[2].1.contains("DE-ZZ"));
        assert!(errors[3].1.contains("unknown tax type"));
        assert!(errors[7].1.contains("before valid_from"));
        assert!(errors[9].1.contains("expected 7 fields"));
    }

    #[test]
    fn rejects_overlapping_standard_rates_but_not_coexisting_reduced_ones() {
        let errors = line_errors(parse(
            "DE,,standard,16,2020-07-01,2020-12-31,a\n\
             DE,,standard,19,2020-12-31,,b\n",
        ));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, 3);
        assert!(errors[0].1.contains("line 2"));
        assert!(parse("DE,,reduced,7,2020-07-01,,a\nDE,,reduced,5,2020-07-01,,b\n").is_ok());
        assert!(
            parse("DE,,standard,19,2020-07-01,,a\nUS,US-CA,standard,7.25,2020-07-01,,b\n").is_ok()
        );
    }

    #[test]
    fn rejects_bad_header_and_repeated_rates() {
        assert!(parse_tax_rates("country,rate\nDE,19\n", &Codes).is_err());
        let errors = line_errors(parse(
            "DE,,reduced,7,2007-01-01,2020-06-30,a\n\
             DE,,reduced,7,2020-01-01,,b\n\
             DE,,reduced,7,2020-07-01,,c\n",
        ));
        let lines: Vec<usize> = errors.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [3, 4]);
        assert!(errors[0]
            .1
            .contains("reduced rate 7 overlaps the same rate on line 2"));
        assert!(
            parse("DE,,reduced,7,2007-01-01,2020-06-30,a\nDE,,reduced,7,2021-01-01,,b\n").is_ok()
        );
    }
}
