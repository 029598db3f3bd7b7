//! Typed views of the refdata JSON contract. Unknown fields are ignored so the service can add
//! fields without breaking deployed clients.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An ISO 3166-1 country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Country {
    pub alpha2: String,
    pub alpha3: String,
    pub numeric: String,
    pub name: String,
    #[serde(default)]
    pub official_name: Option<String>,
    #[serde(default)]
    pub common_name: Option<String>,
    #[serde(default)]
    pub flag: Option<String>,
    /// ISO 4217 codes of the currencies in use.
    #[serde(default)]
    pub currencies: Vec<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub subregion: Option<String>,
}

/// Filters of `GET /v1/countries`; unset fields are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CountryFilter {
    pub region: Option<String>,
    pub subregion: Option<String>,
    /// Countries using this ISO 4217 currency.
    pub currency: Option<String>,
    /// Case- and accent-insensitive substring of the name, official or common name.
    pub name: Option<String>,
}

impl CountryFilter {
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    pub fn subregion(mut self, subregion: impl Into<String>) -> Self {
        self.subregion = Some(subregion.into());
        self
    }

    pub fn currency(mut self, currency: impl Into<String>) -> Self {
        self.currency = Some(currency.into());
        self
    }

    /// Countries whose name, official or common name contains `text` (case- and
    /// accent-insensitive).
    pub fn name(mut self, text: impl Into<String>) -> Self {
        self.name = Some(text.into());
        self
    }

    pub(crate) fn query_pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("region", self.region.as_deref()),
            ("subregion", self.subregion.as_deref()),
            ("currency", self.currency.as_deref()),
            ("q", self.name.as_deref()),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name, value)))
        .collect()
    }
}

/// An ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Currency {
    pub code: String,
    pub numeric: String,
    pub name: String,
    /// Digits after the decimal separator; `None` for units without one (gold, SDR).
    #[serde(default)]
    pub minor_units: Option<u32>,
    /// ISO 3166-1 alpha-2 codes of the countries using it.
    #[serde(default)]
    pub countries: Vec<String>,
    /// Withdrawn from circulation.
    #[serde(default)]
    pub historic: bool,
    /// A fund code (e.g. `USN`) rather than a circulating currency.
    #[serde(default)]
    pub fund: bool,
    /// A precious metal (`XAU`, `XAG`, ...).
    #[serde(default)]
    pub metal: bool,
    /// When a historic currency was withdrawn, as ISO 4217 reports it (`2002-03`).
    #[serde(default)]
    pub withdrawn: Option<String>,
}

/// Reference rates of one day: one unit of `base` is worth `rates[code]` units of `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRates {
    pub base: String,
    pub date: NaiveDate,
    pub rates: BTreeMap<String, Decimal>,
}

/// The result of `GET /v1/convert`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversion {
    pub from: String,
    pub to: String,
    pub amount: Decimal,
    /// Date of the rates used, which may precede the requested date (weekends, holidays).
    pub date: NaiveDate,
    pub rate: Decimal,
    pub result: Decimal,
}

/// A tax rate with its validity period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRate {
    pub country: String,
    #[serde(default)]
    pub subdivision: Option<String>,
    /// `standard`, `reduced`, `super_reduced`, `zero`, ...
    #[serde(rename = "type")]
    pub rate_type: String,
    /// Percentage, e.g. `19` for 19 %.
    pub rate: Decimal,
    pub valid_from: NaiveDate,
    /// Last day of validity, `None` while in force.
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    #[serde(default)]
    pub source: Option<String>,
}

/// A dataset the service serves and its version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub source: Option<String>,
    /// Hash of the dataset's content; changes whenever the data does.
    #[serde(default)]
    pub content_hash: Option<String>,
    #[serde(default)]
    pub records: Option<u64>,
    /// Everything else the service reports about the dataset (licence, update date, ...).
    #[serde(flatten)]
    pub details: BTreeMap<String, serde_json::Value>,
}

/// One page of a list endpoint: `{"items": [...], "total": n, "limit": l, "offset": o}`.
#[derive(Deserialize)]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    /// Items matching the query over all pages.
    pub total: usize,
}

/// `GET /v1/datasets` answers either a list or `{"datasets": [...]}`; accept both.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum DatasetList {
    Bare(Vec<Dataset>),
    Wrapped { datasets: Vec<Dataset> },
}

impl From<DatasetList> for Vec<Dataset> {
    fn from(list: DatasetList) -> Self {
        match list {
            DatasetList::Bare(datasets) | DatasetList::Wrapped { datasets } => datasets,
        }
    }
}

/// An RFC 9457 problem document, as the service reports errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type", default = "about_blank")]
    pub type_uri: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub status: u16,
    #[serde(default)]
    pub detail: Option<String>,
}

fn about_blank() -> String {
    "about:blank".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn parses_the_documented_examples() {
        let country: Country = serde_json::from_str(
            r#"{"alpha2":"DE","alpha3":"DEU","numeric":"276","name":"Germany",
                "official_name":"Federal Republic of Germany","common_name":null,"flag":"🇩🇪",
                "currencies":["EUR"],"region":"Europe","subregion":"Western Europe",
                "added_later":{"x":1}}"#,
        )
        .expect("country");
        assert_eq!(country.currencies, ["EUR"]);
        assert_eq!(country.common_name, None);

        let currency: Currency = serde_json::from_str(
            r#"{"code":"JPY","numeric":"392","name":"Yen","minor_units":0,"countries":["JP"],"historic":false,"fund":false}"#,
        )
        .expect("currency");
        assert_eq!(currency.minor_units, Some(0));

        let rates: ExchangeRates =
            serde_json::from_str(r#"{"base":"EUR","date":"2024-01-02","rates":{"USD":"1.0956"}}"#)
                .expect("rates");
        assert_eq!(
            rates.rates["USD"],
            Decimal::from_str("1.0956").expect("decimal")
        );

        let tax: Vec<TaxRate> = serde_json::from_str(
            r#"[{"country":"DE","subdivision":null,"type":"standard","rate":"19","valid_from":"2021-01-01","valid_to":null,"source":"EU TEDB"}]"#,
        )
        .expect("tax rates");
        assert_eq!(tax[0].rate_type, "standard");
        assert_eq!(tax[0].rate, Decimal::from(19));
    }

    #[test]
    fn dataset_lists_come_bare_or_wrapped() {
        let bare: DatasetList = serde_json::from_str(
            r#"[{"name":"iso4217","version":"2024-06-01","records":180,"licence":"ISO"}]"#,
        )
        .expect("bare");
        let wrapped: DatasetList =
            serde_json::from_str(r#"{"datasets":[{"name":"iso4217","version":"2024-06-01"}]}"#)
                .expect("wrapped");
        let bare: Vec<Dataset> = bare.into();
        let wrapped: Vec<Dataset> = wrapped.into();
        assert_eq!(bare[0].records, Some(180));
        assert_eq!(bare[0].details["licence"], "ISO");
        assert_eq!(bare[0].version, wrapped[0].version);
    }
}
