//! The loaded reference data and where it comes from.
//!
//! Handlers read from a [`Snapshot`]: every dataset parsed and indexed in memory, immutable
//! once built. A [`SnapshotSource`] produces one; today the only source is the snapshot
//! embedded in the binary ([`EmbeddedSource`]). A database-backed source (PostgreSQL) plugs in
//! by implementing the same trait and handing fresh snapshots to
//! [`crate::app::AppState::replace_snapshot`], which bumps the cache generation; handlers do
//! not change.

use std::collections::HashMap;
use std::ops::Range;
use std::time::{Duration, SystemTime};

use chrono::{NaiveDate, NaiveTime};
use serde::Serialize;
use sha2::{Digest, Sha256};
use thiserror::Error;
use utoipa::ToSchema;

use crate::domain::rates::{ExchangeRates, RateError};
use crate::domain::tax::{self, TaxFileError, TaxRate, TaxType};
use crate::domain::text::fold;
use crate::domain::{Country, Currency, Manifest, Subdivision};

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{dataset}: {message}")]
    Malformed { dataset: String, message: String },
    #[error("exchange rates: {0}")]
    Rates(#[from] RateError),
    #[error("tax rates: {0}")]
    TaxRates(#[from] TaxFileError),
}

/// Produces snapshots; implemented by each storage backend.
pub trait SnapshotSource: Send + Sync {
    /// Human-readable name for logs, e.g. `embedded`.
    fn name(&self) -> &str;
    fn load(&self) -> Result<Snapshot, StoreError>;
}

/// The raw bytes of a snapshot, in the layout `refdata import` writes.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotFiles<'a> {
    pub manifest: &'a [u8],
    pub countries: &'a [u8],
    pub subdivisions: &'a [u8],
    pub currencies: &'a [u8],
    pub exchange_rates: &'a [u8],
    pub tax_rates: &'a [u8],
}

/// The snapshot compiled into the binary from `refdata-service/data/`.
pub const EMBEDDED_FILES: SnapshotFiles<'static> = SnapshotFiles {
    manifest: include_bytes!("../data/manifest.json"),
    countries: include_bytes!("../data/countries.json"),
    subdivisions: include_bytes!("../data/subdivisions.json"),
    currencies: include_bytes!("../data/currencies.json"),
    exchange_rates: include_bytes!("../data/exchange-rates.csv"),
    tax_rates: include_bytes!("../data/sources/tax-rates.csv"),
};

/// Serves [`EMBEDDED_FILES`].
#[derive(Debug, Default, Clone, Copy)]
pub struct EmbeddedSource;

impl SnapshotSource for EmbeddedSource {
    fn name(&self) -> &str {
        "embedded"
    }

    fn load(&self) -> Result<Snapshot, StoreError> {
        Snapshot::from_files(EMBEDDED_FILES)
    }
}

/// Version and integrity of one dataset, as served by `GET /v1/datasets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DatasetInfo {
    /// `countries`, `subdivisions`, `currencies`, `exchange_rates` or `tax_rates`.
    pub name: String,
    pub source: String,
    /// Source version or date range.
    pub version: String,
    /// `sha256:` and the hex digest of the dataset's snapshot bytes.
    pub content_hash: String,
    /// Date of the source's last change (`YYYY-MM-DD`), when known.
    pub updated: Option<String>,
    pub licence: String,
    /// Number of records.
    pub records: usize,
    #[serde(skip)]
    pub last_modified: SystemTime,
}

impl DatasetInfo {
    /// A short version tag for cache validators: the name and the first bytes of the hash.
    pub fn tag(&self) -> String {
        let digest = self.content_hash.trim_start_matches("sha256:");
        format!("{}@{}", self.name, &digest[..digest.len().min(16)])
    }
}

/// Filters of `GET /v1/countries`.
#[derive(Debug, Clone, Default)]
pub struct CountryFilter {
    pub region: Option<String>,
    pub subregion: Option<String>,
    pub currency: Option<String>,
    pub query: Option<String>,
}

/// Filters of `GET /v1/currencies`.
#[derive(Debug, Clone, Default)]
pub struct CurrencyFilter {
    pub historic: Option<bool>,
    pub fund: Option<bool>,
    pub metal: Option<bool>,
    pub country: Option<String>,
    pub query: Option<String>,
}

/// All datasets, parsed and indexed.
#[derive(Debug)]
pub struct Snapshot {
    countries: Vec<Country>,
    country_index: HashMap<String, usize>,
    country_search: Vec<String>,
    subdivisions: Vec<Subdivision>,
    subdivisions_by_country: HashMap<String, Range<usize>>,
    currencies: Vec<Currency>,
    currency_index: HashMap<String, usize>,
    exchange_rates: ExchangeRates,
    tax_rates: Vec<TaxRate>,
    datasets: Vec<DatasetInfo>,
    /// Stored version this snapshot is (0 for a snapshot not read from a database).
    version: u64,
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn date_to_system_time(date: NaiveDate) -> SystemTime {
    let seconds = date.and_time(NaiveTime::MIN).and_utc().timestamp();
    SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
}

fn parse_json<T: serde::de::DeserializeOwned>(
    dataset: &str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|error| StoreError::Malformed {
        dataset: dataset.into(),
        message: error.to_string(),
    })
}

/// Every dataset in typed form, as a backend produces it; [`Snapshot::from_datasets`]
/// indexes it.
#[derive(Debug, Clone)]
pub struct Datasets {
    pub countries: Vec<Country>,
    pub subdivisions: Vec<Subdivision>,
    pub currencies: Vec<Currency>,
    pub exchange_rates: ExchangeRates,
    pub tax_rates: Vec<TaxRate>,
    /// Metadata, one per dataset: `countries`, `subdivisions`, `currencies`,
    /// `exchange_rates`, `tax_rates`.
    pub info: Vec<DatasetInfo>,
}

impl Snapshot {
    /// Parses the snapshot layout written by `refdata import`, validates the tax table and
    /// hashes every file.
    pub fn from_files(files: SnapshotFiles<'_>) -> Result<Self, StoreError> {
        Self::from_files_reusing(files, None, &[])
    }

    /// [`Snapshot::from_files`], taking the datasets named in `unchanged` from `previous`
    /// instead of parsing and hashing their bytes again (a new version usually changes one
    /// dataset; the exchange-rate history is most of the parsing time). Cross-dataset checks
    /// still run on the whole.
    pub fn from_files_reusing(
        files: SnapshotFiles<'_>,
        previous: Option<&Snapshot>,
        unchanged: &[&str],
    ) -> Result<Self, StoreError> {
        let reuse = |name: &str| previous.filter(|_| unchanged.contains(&name));
        let manifest: Manifest = parse_json("manifest", files.manifest)?;
        let countries: Vec<Country> = match reuse("countries") {
            Some(p) => p.countries.clone(),
            None => parse_json("countries", files.countries)?,
        };
        let subdivisions: Vec<Subdivision> = match reuse("subdivisions") {
            Some(p) => p.subdivisions.clone(),
            None => parse_json("subdivisions", files.subdivisions)?,
        };
        let currencies: Vec<Currency> = match reuse("currencies") {
            Some(p) => p.currencies.clone(),
            None => parse_json("currencies", files.currencies)?,
        };
        let text = |dataset: &str, bytes| {
            std::str::from_utf8(bytes).map_err(|_| StoreError::Malformed {
                dataset: dataset.into(),
                message: "not UTF-8".into(),
            })
        };
        let exchange_rates = match reuse("exchange_rates") {
            Some(p) => p.exchange_rates.clone(),
            None => {
                ExchangeRates::from_snapshot_csv(text("exchange_rates", files.exchange_rates)?)?
            }
        };
        let tax_rates = match reuse("tax_rates") {
            Some(p) => p.tax_rates.clone(),
            None => {
                let codes = tax::CodeSet::new(
                    countries.iter().map(|c| c.alpha2.clone()),
                    subdivisions.iter().map(|s| s.code.clone()),
                );
                tax::parse_tax_rates(text("tax_rates", files.tax_rates)?, &codes)?
            }
        };
        let mut info = dataset_infos(
            &manifest,
            files,
            [
                countries.len(),
                subdivisions.len(),
                currencies.len(),
                exchange_rates.publication_count(),
                tax_rates.len(),
            ],
            exchange_rates.last_date(),
            &tax_rates,
            &|name| reuse(name).and_then(|p| p.dataset(name)).is_some(),
        );
        for entry in &mut info {
            if let Some(old) = reuse(&entry.name).and_then(|p| p.dataset(&entry.name)) {
                *entry = old.clone();
            }
        }
        Self::from_datasets(Datasets {
            countries,
            subdivisions,
            currencies,
            exchange_rates,
            tax_rates,
            info,
        })
    }

    /// Indexes typed datasets, checking that they refer to each other consistently.
    pub fn from_datasets(datasets: Datasets) -> Result<Self, StoreError> {
        let Datasets {
            countries,
            mut subdivisions,
            currencies,
            exchange_rates,
            tax_rates,
            info,
        } = datasets;
        let malformed = |dataset: &str, message: String| StoreError::Malformed {
            dataset: dataset.into(),
            message,
        };
        let mut country_index = HashMap::with_capacity(countries.len() * 3);
        for (i, country) in countries.iter().enumerate() {
            for key in [&country.alpha2, &country.alpha3, &country.numeric] {
                if country_index.insert(key.to_ascii_uppercase(), i).is_some() {
                    return Err(malformed("countries", format!("duplicate code {key}")));
                }
            }
        }
        let country_search = countries
            .iter()
            .map(|c| {
                [
                    Some(&c.name),
                    c.official_name.as_ref(),
                    c.common_name.as_ref(),
                ]
                .into_iter()
                .flatten()
                .map(|name| fold(name))
                .collect::<Vec<_>>()
                .join("\n")
            })
            .collect();

        subdivisions.sort_by(|a, b| (&a.country, &a.code).cmp(&(&b.country, &b.code)));
        let mut subdivisions_by_country: HashMap<String, Range<usize>> = HashMap::new();
        for (i, subdivision) in subdivisions.iter().enumerate() {
            if !country_index.contains_key(&subdivision.country) {
                return Err(malformed(
                    "subdivisions",
                    format!("{} belongs to unknown country", subdivision.code),
                ));
            }
            subdivisions_by_country
                .entry(subdivision.country.clone())
                .and_modify(|range| range.end = i + 1)
                .or_insert(i..i + 1);
        }

        let mut currency_index = HashMap::with_capacity(currencies.len() * 2);
        for (i, currency) in currencies.iter().enumerate() {
            currency_index.insert(currency.code.clone(), i);
            // Numeric codes are reused after withdrawal (e.g. 532 ANG); the current one wins.
            if !currency.historic || !currency_index.contains_key(&currency.numeric) {
                currency_index.insert(currency.numeric.clone(), i);
            }
        }
        if let Some(code) = exchange_rates
            .currencies()
            .iter()
            .find(|code| !currency_index.contains_key(*code))
        {
            return Err(malformed(
                "exchange_rates",
                format!("{code} is not an ISO 4217 currency"),
            ));
        }

        let snapshot = Snapshot {
            countries,
            country_index,
            country_search,
            subdivisions,
            subdivisions_by_country,
            currencies,
            currency_index,
            exchange_rates,
            tax_rates,
            datasets: info,
            version: 0,
        };
        for rate in &snapshot.tax_rates {
            let known_place = snapshot.country(&rate.country).is_some()
                && rate
                    .subdivision
                    .as_deref()
                    .is_none_or(|code| snapshot.subdivision(code).is_some());
            if !known_place {
                return Err(malformed(
                    "tax_rates",
                    format!(
                        "rate for unknown place {} {:?}",
                        rate.country, rate.subdivision
                    ),
                ));
            }
        }
        const NAMES: [&str; 5] = [
            "countries",
            "subdivisions",
            "currencies",
            "exchange_rates",
            "tax_rates",
        ];
        if let Some(missing) = NAMES.iter().find(|name| snapshot.dataset(name).is_none()) {
            return Err(malformed(missing, "no dataset metadata".into()));
        }
        Ok(snapshot)
    }

    /// The stored version (0 when not read from a database).
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn set_version(&mut self, version: u64) {
        self.version = version;
    }

    /// Records that dataset `name` last changed at `at` (a stored version's time).
    pub fn set_changed(&mut self, name: &str, at: SystemTime) {
        if let Some(info) = self.datasets.iter_mut().find(|d| d.name == name) {
            info.last_modified = at.min(SystemTime::now());
            info.updated = Some(
                chrono::DateTime::<chrono::Utc>::from(at)
                    .date_naive()
                    .to_string(),
            );
        }
    }

    pub fn datasets(&self) -> &[DatasetInfo] {
        &self.datasets
    }

    /// The dataset called `name`; every snapshot has all five.
    pub fn dataset(&self, name: &str) -> Option<&DatasetInfo> {
        self.datasets.iter().find(|d| d.name == name)
    }

    pub fn countries(&self) -> &[Country] {
        &self.countries
    }

    /// A country by alpha-2, alpha-3 or numeric code, case-insensitively. Numeric codes may
    /// omit leading zeros.
    pub fn country(&self, code: &str) -> Option<&Country> {
        let code = code.trim();
        let key = if !code.is_empty() && code.len() < 3 && code.bytes().all(|b| b.is_ascii_digit())
        {
            format!("{code:0>3}")
        } else {
            code.to_ascii_uppercase()
        };
        self.country_index.get(&key).map(|&i| &self.countries[i])
    }

    /// Countries matching every given filter, in alpha-2 order. `region` and `subregion`
    /// compare case-insensitively; `query` is a case- and accent-insensitive substring of the
    /// name, official name or common name.
    pub fn find_countries(&self, filter: &CountryFilter) -> Vec<&Country> {
        let region = filter.region.as_deref().map(fold);
        let subregion = filter.subregion.as_deref().map(fold);
        let currency = filter.currency.as_deref().map(str::to_ascii_uppercase);
        let query = filter.query.as_deref().map(|q| fold(q.trim()));
        self.countries
            .iter()
            .zip(&self.country_search)
            .filter(|(country, search)| {
                region
                    .as_ref()
                    .is_none_or(|r| country.region.as_deref().map(fold).as_ref() == Some(r))
                    && subregion
                        .as_ref()
                        .is_none_or(|r| country.subregion.as_deref().map(fold).as_ref() == Some(r))
                    && currency
                        .as_ref()
                        .is_none_or(|c| country.currencies.contains(c))
                    && query.as_ref().is_none_or(|q| search.contains(q.as_str()))
            })
            .map(|(country, _)| country)
            .collect()
    }

    /// Subdivisions of a country (by alpha-2 code), in code order.
    pub fn subdivisions(&self, alpha2: &str) -> &[Subdivision] {
        self.subdivisions_by_country
            .get(alpha2)
            .map_or(&[], |range| &self.subdivisions[range.clone()])
    }

    pub fn subdivision(&self, code: &str) -> Option<&Subdivision> {
        let code = code.trim().to_ascii_uppercase();
        let (country, _) = code.split_once('-')?;
        self.subdivisions(country).iter().find(|s| s.code == code)
    }

    pub fn currencies(&self) -> &[Currency] {
        &self.currencies
    }

    /// A currency by alphabetic or numeric code, case-insensitively.
    pub fn currency(&self, code: &str) -> Option<&Currency> {
        self.currency_index
            .get(&code.trim().to_ascii_uppercase())
            .map(|&i| &self.currencies[i])
    }

    pub fn find_currencies(&self, filter: &CurrencyFilter) -> Vec<&Currency> {
        let country = filter.country.as_deref().map(str::to_ascii_uppercase);
        let query = filter.query.as_deref().map(|q| fold(q.trim()));
        self.currencies
            .iter()
            .filter(|c| {
                filter.historic.is_none_or(|h| c.historic == h)
                    && filter.fund.is_none_or(|f| c.fund == f)
                    && filter.metal.is_none_or(|m| c.metal == m)
                    && country.as_ref().is_none_or(|a| c.countries.contains(a))
                    && query.as_ref().is_none_or(|q| {
                        fold(&c.name).contains(q.as_str()) || c.code.eq_ignore_ascii_case(q)
                    })
            })
            .collect()
    }

    pub fn exchange_rates(&self) -> &ExchangeRates {
        &self.exchange_rates
    }

    /// Every tax rate of `country` (alpha-2), national and sub-national, in file order.
    pub fn tax_rates(&self, country: &str) -> impl Iterator<Item = &TaxRate> {
        let country = country.to_owned();
        self.tax_rates
            .iter()
            .filter(move |rate| rate.country == country)
    }

    /// Rates of one place: the country itself (`subdivision` `None`) or one subdivision,
    /// optionally only those in force on `date` and of one `kind`.
    pub fn find_tax_rates(
        &self,
        country: &str,
        subdivision: Option<&str>,
        date: Option<NaiveDate>,
        kind: Option<TaxType>,
    ) -> Vec<&TaxRate> {
        self.tax_rates(country)
            .filter(|rate| rate.subdivision.as_deref() == subdivision)
            .filter(|rate| date.is_none_or(|d| rate.applies_on(d)))
            .filter(|rate| kind.is_none_or(|k| rate.kind == k))
            .collect()
    }
}

/// Metadata of each dataset of a file snapshot: the manifest's provenance, the hash of the
/// bytes and the record counts (in [`Datasets::info`] order).
fn dataset_infos(
    manifest: &Manifest,
    files: SnapshotFiles<'_>,
    records: [usize; 5],
    last_rate_date: NaiveDate,
    tax_rates: &[TaxRate],
    reused: &dyn Fn(&str) -> bool,
) -> Vec<DatasetInfo> {
    let now = SystemTime::now();
    let info = |name: &str, bytes: &[u8], records: usize, fallback_updated: Option<NaiveDate>| {
        // A reused dataset keeps its previous metadata; hashing its bytes would be wasted.
        let bytes = if reused(name) { &[][..] } else { bytes };
        let entry = manifest.datasets.iter().find(|d| d.name == name);
        let updated = entry
            .and_then(|e| e.updated.as_deref())
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .or(fallback_updated);
        DatasetInfo {
            name: name.to_owned(),
            source: entry.map(|e| e.source.clone()).unwrap_or_default(),
            version: entry.map(|e| e.version.clone()).unwrap_or_default(),
            content_hash: sha256(bytes),
            updated: updated.map(|d| d.to_string()),
            licence: entry.map(|e| e.licence.clone()).unwrap_or_default(),
            records,
            last_modified: updated
                .map_or(SystemTime::UNIX_EPOCH, date_to_system_time)
                .min(now),
        }
    };
    // The curated tax table changes whenever a rate is added: its last change is taken as the
    // latest date a rate starts (not in the future).
    let today = chrono::Utc::now().date_naive();
    let tax_updated = tax_rates
        .iter()
        .map(|rate| rate.valid_from)
        .filter(|date| *date <= today)
        .max();
    let mut tax_info = info("tax_rates", files.tax_rates, records[4], tax_updated);
    if tax_info.version.is_empty() || tax_info.version == "curated" {
        tax_info.version = format!("curated {}", &tax_info.content_hash[7..19]);
    }
    vec![
        info("countries", files.countries, records[0], None),
        info("subdivisions", files.subdivisions, records[1], None),
        info("currencies", files.currencies, records[2], None),
        info(
            "exchange_rates",
            files.exchange_rates,
            records[3],
            Some(last_rate_date),
        ),
        tax_info,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        EmbeddedSource.load().expect("embedded snapshot loads")
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn small_datasets() -> Datasets {
        let germany: Country = serde_json::from_value(serde_json::json!({
            "alpha2":"DE","alpha3":"DEU","numeric":"276","name":"Germany",
            "official_name":null,"common_name":null,"flag":"🇩🇪","currencies":["EUR"],
            "region":"Europe","subregion":"Western Europe"}))
        .unwrap();
        let currency = |code: &str, numeric: &str| Currency {
            code: code.into(),
            numeric: numeric.into(),
            name: code.into(),
            minor_units: Some(2),
            countries: vec![],
            historic: false,
            fund: false,
            metal: false,
            withdrawn: None,
        };
        let info = |name: &str| DatasetInfo {
            name: name.into(),
            source: "test".into(),
            version: "1".into(),
            content_hash: format!("sha256:{}", "0".repeat(64)),
            updated: None,
            licence: "test".into(),
            records: 1,
            last_modified: SystemTime::UNIX_EPOCH,
        };
        Datasets {
            countries: vec![germany],
            subdivisions: vec![Subdivision {
                code: "DE-BY".into(),
                country: "DE".into(),
                name: "Bayern".into(),
                kind: "Land".into(),
                parent: None,
            }],
            currencies: vec![currency("EUR", "978"), currency("USD", "840")],
            exchange_rates: ExchangeRates::from_snapshot_csv("date,USD\n2024-01-02,1.0956\n")
                .unwrap(),
            tax_rates: vec![],
            info: [
                "countries",
                "subdivisions",
                "currencies",
                "exchange_rates",
                "tax_rates",
            ]
            .map(info)
            .to_vec(),
        }
    }

    #[test]
    fn typed_datasets_are_indexed_and_checked() {
        let snapshot = Snapshot::from_datasets(small_datasets()).unwrap();
        assert_eq!(snapshot.country("deu").unwrap().alpha2, "DE");
        assert_eq!(snapshot.subdivision("de-by").unwrap().name, "Bayern");

        let mut unknown_rate_currency = small_datasets();
        unknown_rate_currency.currencies.pop();
        let error = Snapshot::from_datasets(unknown_rate_currency).unwrap_err();
        assert!(error.to_string().contains("USD"), "{error}");

        let mut orphan_subdivision = small_datasets();
        orphan_subdivision.subdivisions[0].country = "FR".into();
        assert!(Snapshot::from_datasets(orphan_subdivision).is_err());

        let mut missing_info = small_datasets();
        missing_info.info.pop();
        let error = Snapshot::from_datasets(missing_info).unwrap_err();
        assert!(error.to_string().contains("tax_rates"), "{error}");
    }

    #[test]
    fn embedded_snapshot_is_complete() {
        let snapshot = snapshot();
        assert_eq!(snapshot.countries().len(), 249);
        assert!(snapshot.subdivisions("US").len() >= 50);
        assert_eq!(snapshot.exchange_rates().first_date(), day("1999-01-04"));
        let names: Vec<_> = snapshot
            .datasets()
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "countries",
                "subdivisions",
                "currencies",
                "exchange_rates",
                "tax_rates"
            ]
        );
        for dataset in snapshot.datasets() {
            assert_eq!(dataset.content_hash.len(), 7 + 64, "{dataset:?}");
            assert!(dataset.records > 0, "{dataset:?}");
        }
    }

    #[test]
    fn countries_resolve_by_any_code_case_insensitively() {
        let snapshot = snapshot();
        for code in ["DE", "de", "DEU", "deu", "276"] {
            assert_eq!(
                snapshot.country(code).map(|c| c.alpha2.as_str()),
                Some("DE")
            );
        }
        assert_eq!(snapshot.country("4").map(|c| c.alpha2.as_str()), Some("AF"));
        assert!(snapshot.country("XX").is_none());
        assert!(snapshot.country("").is_none());
        let germany = snapshot.country("DE").unwrap();
        assert_eq!(germany.currencies, ["EUR"]);
        assert_eq!(germany.region.as_deref(), Some("Europe"));
        assert_eq!(germany.subregion.as_deref(), Some("Western Europe"));
        assert_eq!(
            germany.official_name.as_deref(),
            Some("Federal Republic of Germany")
        );
    }

    #[test]
    fn country_search_ignores_case_and_accents() {
        let snapshot = snapshot();
        let find = |q: &str| -> Vec<String> {
            snapshot
                .find_countries(&CountryFilter {
                    query: Some(q.into()),
                    ..Default::default()
                })
                .into_iter()
                .map(|c| c.alpha2.clone())
                .collect()
        };
        assert_eq!(find("cote d'ivoire"), ["CI"]);
        assert_eq!(find("ÅLAND ISL"), ["AX"]);
        assert_eq!(find("aland islands"), ["AX"]);
        assert!(find("korea").contains(&"KR".to_owned()));
        assert_eq!(find("plurinational"), ["BO"]);
    }

    #[test]
    fn country_filters_combine() {
        let snapshot = snapshot();
        let euro_in_africa = snapshot.find_countries(&CountryFilter {
            region: Some("africa".into()),
            currency: Some("eur".into()),
            ..Default::default()
        });
        let codes: Vec<_> = euro_in_africa.iter().map(|c| c.alpha2.as_str()).collect();
        assert!(codes.contains(&"RE") && codes.contains(&"YT"), "{codes:?}");
        assert!(!codes.contains(&"DE"));
    }

    #[test]
    fn currencies_carry_iso_4217_facts() {
        let snapshot = snapshot();
        let minor = |code: &str| snapshot.currency(code).unwrap().minor_units;
        assert_eq!(minor("JPY"), Some(0));
        assert_eq!(minor("KWD"), Some(3));
        assert_eq!(minor("CLF"), Some(4));
        assert_eq!(minor("EUR"), Some(2));
        assert_eq!(minor("XAU"), None);
        assert_eq!(minor("XDR"), None);
        assert!(snapshot.currency("XAU").unwrap().metal);
        assert!(snapshot.currency("CLF").unwrap().fund);
        assert_eq!(snapshot.currency("392").unwrap().code, "JPY");
        assert_eq!(snapshot.currency("jpy").unwrap().countries, ["JP"]);
        for code in [
            "CYP", "EEK", "LTL", "LVL", "MTL", "SIT", "SKK", "HRK", "ROL", "TRL", "BGN",
        ] {
            let currency = snapshot.currency(code).unwrap();
            assert!(currency.historic, "{code}");
            assert!(currency.minor_units.is_some(), "{code}");
        }
        assert!(!snapshot.currency("USD").unwrap().historic);
        let historic = snapshot.find_currencies(&CurrencyFilter {
            historic: Some(true),
            ..Default::default()
        });
        assert!(historic.iter().all(|c| c.historic) && historic.len() >= 11);
    }

    #[test]
    fn every_ecb_currency_is_an_iso_currency() {
        let snapshot = snapshot();
        for code in snapshot.exchange_rates().currencies() {
            assert!(snapshot.currency(code).is_some(), "{code}");
        }
    }

    #[test]
    fn tax_rates_follow_effective_dates() {
        let snapshot = snapshot();
        let rate = |country: &str, date: &str, kind: TaxType| -> Vec<String> {
            snapshot
                .find_tax_rates(country, None, Some(day(date)), Some(kind))
                .into_iter()
                .map(|r| r.rate.to_string())
                .collect()
        };
        assert_eq!(rate("DE", "2021-01-01", TaxType::Standard), ["19"]);
        assert_eq!(rate("DE", "2020-08-01", TaxType::Standard), ["16"]);
        assert_eq!(rate("DE", "2020-12-31", TaxType::Standard), ["16"]);
        assert_eq!(rate("DE", "2020-08-01", TaxType::Reduced), ["5"]);
        assert_eq!(rate("DE", "2021-01-01", TaxType::Reduced), ["7"]);
        assert_eq!(rate("EE", "2024-06-01", TaxType::Standard), ["22"]);
        assert_eq!(rate("EE", "2025-07-01", TaxType::Standard), ["24"]);
        assert_eq!(rate("FI", "2024-08-31", TaxType::Standard), ["24"]);
        assert_eq!(rate("FI", "2024-09-01", TaxType::Standard), ["25.5"]);
    }
}
