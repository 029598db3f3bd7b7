//! `refdata import`: builds the embedded snapshot from the authoritative source files.
//!
//! Inputs: Debian iso-codes JSON (ISO 3166-1, 3166-2, 4217), ISO 4217 list one XML, the ECB
//! reference-rate history, UN M49 regions (world-countries `countries.json` or a
//! `alpha2,region,subregion` CSV), the curated historic-currency table and the curated tax-rate
//! table. Output: `countries.json`, `subdivisions.json`, `currencies.json`,
//! `exchange-rates.csv`, `manifest.json` (and `sources/tax-rates.csv` when given elsewhere).
//! The output is a pure function of the inputs, so re-running reproduces it byte for byte.

pub mod ecb;
pub mod entities;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::domain::csv;
use crate::domain::tax::{self, TaxFileError};
use crate::domain::{Country, Currency, DatasetManifestEntry, Manifest, Subdivision};
use entities::{is_supranational, EntityMatcher};

pub const COUNTRIES_FILE: &str = "countries.json";
pub const SUBDIVISIONS_FILE: &str = "subdivisions.json";
pub const CURRENCIES_FILE: &str = "currencies.json";
pub const EXCHANGE_RATES_FILE: &str = "exchange-rates.csv";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const TAX_RATES_FILE: &str = "sources/tax-rates.csv";

const METALS: [&str; 4] = ["XAU", "XAG", "XPT", "XPD"];

#[derive(Debug, Error)]
pub enum ImportError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("{}: {source}", path.display())]
    TaxRates { path: PathBuf, source: TaxFileError },
}

/// Where the sources are and which versions they are.
#[derive(Debug, Clone)]
pub struct ImportSources {
    /// Directory holding `iso_3166-1.json`, `iso_3166-2.json` and `iso_4217.json`.
    pub iso_codes_dir: PathBuf,
    /// iso-codes release, e.g. `4.15.0`.
    pub iso_codes_version: String,
    /// Release date of that iso-codes version (`YYYY-MM-DD`).
    pub iso_codes_released: Option<String>,
    /// ISO 4217 list one (`list-one.xml`).
    pub iso4217_list_one: PathBuf,
    /// ECB history: `eurofxref-hist.zip` or a CSV in the same layout.
    pub ecb: PathBuf,
    /// world-countries `countries.json`, or a CSV `alpha2,region,subregion`.
    pub regions: PathBuf,
    /// Version of the region source, e.g. `world-countries 5.1.0`.
    pub regions_version: String,
    /// Curated `historic-currencies.csv`.
    pub historic_currencies: PathBuf,
    /// Curated `tax-rates.csv`, validated and copied to `sources/tax-rates.csv`.
    pub tax_rates: Option<PathBuf>,
}

/// What an import wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub countries: usize,
    pub subdivisions: usize,
    pub currencies: usize,
    pub historic_currencies: usize,
    pub rate_days: usize,
    pub tax_rates: Option<usize>,
}

/// The imported datasets, before serialisation.
#[derive(Debug, Clone)]
pub struct Imported {
    pub countries: Vec<Country>,
    pub subdivisions: Vec<Subdivision>,
    pub currencies: Vec<Currency>,
    pub exchange_rates_csv: String,
    pub manifest: Manifest,
}

#[derive(Deserialize)]
struct IsoCountry {
    alpha_2: String,
    alpha_3: String,
    numeric: String,
    name: String,
    official_name: Option<String>,
    common_name: Option<String>,
    flag: String,
}

#[derive(Deserialize)]
struct IsoSubdivision {
    code: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    parent: Option<String>,
}

#[derive(Deserialize)]
struct IsoCurrency {
    alpha_3: String,
    name: String,
    numeric: String,
}

#[derive(Deserialize)]
struct ListOne {
    #[serde(rename = "@Pblshd")]
    published: String,
    #[serde(rename = "CcyTbl")]
    table: ListOneTable,
}

#[derive(Deserialize)]
struct ListOneTable {
    #[serde(rename = "CcyNtry", default)]
    entries: Vec<ListOneEntry>,
}

#[derive(Deserialize)]
struct ListOneEntry {
    #[serde(rename = "CtryNm")]
    entity: String,
    #[serde(rename = "CcyNm")]
    currency_name: ListOneName,
    #[serde(rename = "Ccy")]
    code: Option<String>,
    #[serde(rename = "CcyNbr")]
    numeric: Option<String>,
    #[serde(rename = "CcyMnrUnts")]
    minor_units: Option<String>,
}

#[derive(Deserialize)]
struct ListOneName {
    #[serde(rename = "@IsFund")]
    is_fund: Option<String>,
    #[serde(rename = "$text")]
    text: String,
}

#[derive(Deserialize)]
struct WorldCountry {
    cca2: String,
    region: String,
    subregion: String,
}

fn read_text(path: &Path) -> Result<String, ImportError> {
    std::fs::read_to_string(path).map_err(|source| ImportError::Read {
        path: path.to_owned(),
        source,
    })
}

fn invalid(path: &Path, message: impl Into<String>) -> ImportError {
    ImportError::Invalid {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, ImportError> {
    serde_json::from_str(&read_text(path)?).map_err(|error| invalid(path, error.to_string()))
}

/// The iso-codes files wrap their list in an object keyed by the standard's number.
fn read_iso_list<T: DeserializeOwned>(path: &Path, key: &str) -> Result<Vec<T>, ImportError> {
    let mut root: HashMap<String, Vec<T>> = read_json(path)?;
    root.remove(key)
        .ok_or_else(|| invalid(path, format!("no top-level \"{key}\" list")))
}

fn is_three_digits(text: &str) -> bool {
    text.len() == 3 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Runs the import into memory; [`run`] also writes the snapshot to disk.
pub fn import(sources: &ImportSources) -> Result<Imported, ImportError> {
    let dir = &sources.iso_codes_dir;
    let countries_path = dir.join("iso_3166-1.json");
    let iso_countries: Vec<IsoCountry> = read_iso_list(&countries_path, "3166-1")?;
    for country in &iso_countries {
        let ok = country.alpha_2.len() == 2
            && country.alpha_3.len() == 3
            && is_three_digits(&country.numeric);
        if !ok {
            return Err(invalid(
                &countries_path,
                format!("malformed codes for {}", country.name),
            ));
        }
    }
    let alpha2s: BTreeSet<&str> = iso_countries.iter().map(|c| c.alpha_2.as_str()).collect();
    if alpha2s.len() != iso_countries.len() {
        return Err(invalid(&countries_path, "duplicate alpha-2 codes"));
    }

    let subdivisions = import_subdivisions(&dir.join("iso_3166-2.json"), &alpha2s)?;
    let regions = import_regions(&sources.regions, &alpha2s)?;
    let (list_one_published, currencies, country_currencies) =
        import_currencies(sources, &iso_countries)?;

    let mut countries: Vec<Country> = iso_countries
        .into_iter()
        .map(|iso| {
            let (region, subregion) = regions.get(&iso.alpha_2).cloned().unwrap_or((None, None));
            Country {
                currencies: country_currencies
                    .get(&iso.alpha_2)
                    .cloned()
                    .unwrap_or_default(),
                alpha2: iso.alpha_2,
                alpha3: iso.alpha_3,
                numeric: iso.numeric,
                name: iso.name,
                official_name: iso.official_name,
                common_name: iso.common_name,
                flag: iso.flag,
                region,
                subregion,
            }
        })
        .collect();
    countries.sort_by(|a, b| a.alpha2.cmp(&b.alpha2));

    let table = ecb::read(&sources.ecb)?;
    let known_currencies: HashSet<&str> = currencies.iter().map(|c| c.code.as_str()).collect();
    if let Some(unknown) = table
        .currencies
        .iter()
        .find(|code| !known_currencies.contains(code.as_str()))
    {
        return Err(invalid(
            &sources.ecb,
            format!("{unknown} is neither in ISO 4217 list one nor in the historic currencies"),
        ));
    }
    let (first_rate_day, last_rate_day) = match (table.rows.first(), table.rows.last()) {
        (Some(first), Some(last)) => (first.0, last.0),
        _ => return Err(invalid(&sources.ecb, "no rates")),
    };
    let exchange_rates_csv = ecb::to_snapshot_csv(&table);

    let iso_codes = format!("iso-codes {}", sources.iso_codes_version);
    let iso_licence = "LGPL-2.1-or-later (Debian iso-codes)";
    let manifest = Manifest {
        datasets: vec![
            DatasetManifestEntry {
                name: "countries".into(),
                file: COUNTRIES_FILE.into(),
                source: "ISO 3166-1 via Debian iso-codes; currencies from ISO 4217 list one; \
                         UN M49 regions via world-countries (mledoze/countries)"
                    .into(),
                version: format!("{iso_codes}; {}", sources.regions_version),
                updated: sources.iso_codes_released.clone(),
                licence: format!("{iso_licence}; regions ODbL-1.0 (world-countries)"),
            },
            DatasetManifestEntry {
                name: "subdivisions".into(),
                file: SUBDIVISIONS_FILE.into(),
                source: "ISO 3166-2 via Debian iso-codes".into(),
                version: iso_codes.clone(),
                updated: sources.iso_codes_released.clone(),
                licence: iso_licence.into(),
            },
            DatasetManifestEntry {
                name: "currencies".into(),
                file: CURRENCIES_FILE.into(),
                source: "ISO 4217 list one (SIX, maintenance agency); withdrawn currencies from \
                         Debian iso-codes and the curated historic-currencies.csv"
                    .into(),
                version: format!("list one {list_one_published}; {iso_codes}"),
                updated: Some(list_one_published),
                licence: "ISO 4217 list one: public domain (as redistributed by the iso4217 \
                          package); iso-codes names LGPL-2.1-or-later"
                    .into(),
            },
            DatasetManifestEntry {
                name: "exchange_rates".into(),
                file: EXCHANGE_RATES_FILE.into(),
                source: "European Central Bank euro foreign exchange reference rates".into(),
                version: format!("{first_rate_day}..{last_rate_day}"),
                updated: Some(last_rate_day.to_string()),
                licence: "free reuse with the ECB acknowledged as the source".into(),
            },
            DatasetManifestEntry {
                name: "tax_rates".into(),
                file: TAX_RATES_FILE.into(),
                source: "curated from tax authorities and the European Commission's VAT rate \
                         publications; one citation per row"
                    .into(),
                version: "curated".into(),
                updated: None,
                licence: "facts from official publications; see each row's source".into(),
            },
        ],
    };

    Ok(Imported {
        countries,
        subdivisions,
        currencies,
        exchange_rates_csv,
        manifest,
    })
}

fn import_subdivisions(
    path: &Path,
    alpha2s: &BTreeSet<&str>,
) -> Result<Vec<Subdivision>, ImportError> {
    let iso: Vec<IsoSubdivision> = read_iso_list(path, "3166-2")?;
    let codes: HashSet<&str> = iso.iter().map(|s| s.code.as_str()).collect();
    let mut subdivisions = Vec::with_capacity(iso.len());
    for subdivision in &iso {
        let Some((country, _)) = subdivision.code.split_once('-') else {
            return Err(invalid(
                path,
                format!("{:?} has no country prefix", subdivision.code),
            ));
        };
        if !alpha2s.contains(country) {
            return Err(invalid(
                path,
                format!("{} belongs to unknown country {country}", subdivision.code),
            ));
        }
        let parent = match &subdivision.parent {
            None => None,
            Some(parent) => {
                let full = if parent.contains('-') {
                    parent.clone()
                } else {
                    format!("{country}-{parent}")
                };
                if !codes.contains(full.as_str()) {
                    return Err(invalid(
                        path,
                        format!("{} has unknown parent {full}", subdivision.code),
                    ));
                }
                Some(full)
            }
        };
        subdivisions.push(Subdivision {
            code: subdivision.code.clone(),
            country: country.to_owned(),
            name: subdivision.name.clone(),
            kind: subdivision.kind.clone(),
            parent,
        });
    }
    subdivisions.sort_by(|a, b| a.code.cmp(&b.code));
    if subdivisions
        .windows(2)
        .any(|pair| pair[0].code == pair[1].code)
    {
        return Err(invalid(path, "duplicate subdivision codes"));
    }
    Ok(subdivisions)
}

type Regions = HashMap<String, (Option<String>, Option<String>)>;

fn import_regions(path: &Path, alpha2s: &BTreeSet<&str>) -> Result<Regions, ImportError> {
    let non_empty = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    let mut regions = Regions::new();
    if path.extension().is_some_and(|ext| ext == "json") {
        let countries: Vec<WorldCountry> = read_json(path)?;
        for country in countries {
            regions.insert(
                country.cca2,
                (non_empty(&country.region), non_empty(&country.subregion)),
            );
        }
    } else {
        let records = csv::parse(&read_text(path)?).map_err(|e| invalid(path, e.to_string()))?;
        let mut records = records.into_iter();
        match records.next() {
            Some(header) if header.fields == ["alpha2", "region", "subregion"] => {}
            _ => {
                return Err(invalid(
                    path,
                    "line 1: header must be `alpha2,region,subregion`",
                ))
            }
        }
        for record in records {
            let [alpha2, region, subregion] = record.fields.as_slice() else {
                return Err(invalid(
                    path,
                    format!("line {}: expected 3 fields", record.line),
                ));
            };
            regions.insert(alpha2.clone(), (non_empty(region), non_empty(subregion)));
        }
    }
    // Sources may carry user-assigned codes such as XK; only ISO 3166-1 entries are kept.
    regions.retain(|alpha2, _| alpha2s.contains(alpha2.as_str()));
    if let Some(missing) = alpha2s.iter().find(|alpha2| {
        regions
            .get(**alpha2)
            .is_none_or(|(region, _)| region.is_none())
    }) {
        return Err(invalid(path, format!("no region for {missing}")));
    }
    Ok(regions)
}

type CountryCurrencies = HashMap<String, Vec<String>>;

fn import_currencies(
    sources: &ImportSources,
    iso_countries: &[IsoCountry],
) -> Result<(String, Vec<Currency>, CountryCurrencies), ImportError> {
    let list_path = &sources.iso4217_list_one;
    let list_one: ListOne = quick_xml::de::from_str(&read_text(list_path)?)
        .map_err(|error| invalid(list_path, format!("not an ISO 4217 list one: {error}")))?;
    let matcher = EntityMatcher::new(iso_countries.iter().flat_map(|c| {
        [
            Some(&c.name),
            c.official_name.as_ref(),
            c.common_name.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(|name| (c.alpha_2.as_str(), name.as_str()))
    }));

    let mut currencies: BTreeMap<String, Currency> = BTreeMap::new();
    let mut country_currencies = CountryCurrencies::new();
    let mut unmatched = Vec::new();
    for entry in &list_one.table.entries {
        let alpha2 = matcher.alpha2(&entry.entity);
        if alpha2.is_none() && !is_supranational(&entry.entity) {
            unmatched.push(entry.entity.trim().to_owned());
        }
        let Some(code) = entry.code.as_deref().map(str::trim) else {
            continue;
        };
        let numeric = entry.numeric.as_deref().map(str::trim).unwrap_or_default();
        if code.len() != 3 || !is_three_digits(numeric) {
            return Err(invalid(
                list_path,
                format!("malformed entry {code:?} {numeric:?}"),
            ));
        }
        let minor_units = match entry.minor_units.as_deref().map(str::trim) {
            None | Some("N.A.") => None,
            Some(text) => Some(text.parse::<u8>().map_err(|_| {
                invalid(
                    list_path,
                    format!("{code}: minor units {text:?} is not a number"),
                )
            })?),
        };
        let fund = entry.currency_name.is_fund.as_deref() == Some("true");
        let name = entry.currency_name.text.trim();
        let currency = currencies
            .entry(code.to_owned())
            .or_insert_with(|| Currency {
                code: code.to_owned(),
                numeric: numeric.to_owned(),
                name: name.to_owned(),
                minor_units,
                countries: Vec::new(),
                historic: false,
                fund,
                metal: METALS.contains(&code),
                withdrawn: None,
            });
        if currency.numeric != numeric || currency.minor_units != minor_units {
            return Err(invalid(
                list_path,
                format!("{code} is listed inconsistently"),
            ));
        }
        if let Some(alpha2) = alpha2 {
            if !currency.countries.contains(&alpha2) {
                currency.countries.push(alpha2.clone());
            }
            let used = country_currencies.entry(alpha2).or_default();
            if !fund && !used.iter().any(|c| c == code) {
                used.push(code.to_owned());
            }
        }
    }
    if !unmatched.is_empty() {
        return Err(invalid(
            list_path,
            format!(
                "list-one entities match no ISO 3166-1 country: {}",
                unmatched.join(", ")
            ),
        ));
    }

    let iso_path = sources.iso_codes_dir.join("iso_4217.json");
    let iso_currencies: Vec<IsoCurrency> = read_iso_list(&iso_path, "4217")?;
    let iso_by_code: HashMap<&str, &IsoCurrency> = iso_currencies
        .iter()
        .map(|c| (c.alpha_3.as_str(), c))
        .collect();
    let historic = import_historic(&sources.historic_currencies, &currencies, &iso_by_code)?;
    let historic_codes: HashSet<String> = historic.iter().map(|c| c.code.clone()).collect();
    if let Some(missing) = iso_currencies
        .iter()
        .find(|c| !currencies.contains_key(&c.alpha_3) && !historic_codes.contains(&c.alpha_3))
    {
        return Err(invalid(
            &sources.historic_currencies,
            format!(
                "{} is in iso-codes but not in list one: add it to the historic currencies",
                missing.alpha_3
            ),
        ));
    }
    for currency in historic {
        currencies.insert(currency.code.clone(), currency);
    }
    let mut currencies: Vec<Currency> = currencies.into_values().collect();
    for currency in &mut currencies {
        currency.countries.sort();
    }
    Ok((list_one.published, currencies, country_currencies))
}

/// Reads `code,numeric,name,minor_units,withdrawn,countries,source`.
fn import_historic(
    path: &Path,
    current: &BTreeMap<String, Currency>,
    iso_by_code: &HashMap<&str, &IsoCurrency>,
) -> Result<Vec<Currency>, ImportError> {
    const HEADER: [&str; 7] = [
        "code",
        "numeric",
        "name",
        "minor_units",
        "withdrawn",
        "countries",
        "source",
    ];
    let records = csv::parse(&read_text(path)?).map_err(|e| invalid(path, e.to_string()))?;
    let mut records = records.into_iter();
    match records.next() {
        Some(header) if header.fields == HEADER => {}
        _ => {
            return Err(invalid(
                path,
                format!("line 1: header must be `{}`", HEADER.join(",")),
            ))
        }
    }
    let mut historic = Vec::new();
    for record in records {
        let line = record.line;
        let [code, numeric, name, minor_units, withdrawn, countries, source] =
            record.fields.as_slice()
        else {
            return Err(invalid(
                path,
                format!("line {line}: expected {} fields", HEADER.len()),
            ));
        };
        let fail = |message: String| invalid(path, format!("line {line}: {message}"));
        if code.len() != 3 || !is_three_digits(numeric) || name.trim().is_empty() {
            return Err(fail("malformed code, numeric code or name".into()));
        }
        if current.contains_key(code) {
            return Err(fail(format!("{code} is a current currency in list one")));
        }
        if let Some(iso) = iso_by_code.get(code.as_str()) {
            if iso.numeric != *numeric || iso.name != *name {
                return Err(fail(format!(
                    "{code} disagrees with iso-codes ({} {})",
                    iso.numeric, iso.name
                )));
            }
        }
        let minor_units = match minor_units.as_str() {
            "" => None,
            text => Some(
                text.parse::<u8>()
                    .map_err(|_| fail(format!("minor units {text:?} is not a number")))?,
            ),
        };
        let withdrawn = match withdrawn.as_str() {
            "" => None,
            text if chrono::NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d")
                .is_ok() =>
            {
                Some(text.to_owned())
            }
            text => return Err(fail(format!("withdrawn {text:?} is not YYYY-MM"))),
        };
        if source.trim().is_empty() {
            return Err(fail("source is empty".into()));
        }
        historic.push(Currency {
            code: code.clone(),
            numeric: numeric.clone(),
            name: name.clone(),
            minor_units,
            countries: countries.split_whitespace().map(str::to_owned).collect(),
            historic: true,
            fund: false,
            metal: false,
            withdrawn,
        });
    }
    Ok(historic)
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Serialising plain data structures cannot fail.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

fn write(path: &Path, contents: &str) -> Result<(), ImportError> {
    std::fs::write(path, contents).map_err(|source| ImportError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Imports `sources` and writes the snapshot files into `out`.
pub fn run(sources: &ImportSources, out: &Path) -> Result<ImportSummary, ImportError> {
    let imported = import(sources)?;
    let tax_rates = match &sources.tax_rates {
        None => None,
        Some(path) => {
            let text = read_text(path)?;
            let codes = tax::CodeSet::new(
                imported.countries.iter().map(|c| c.alpha2.clone()),
                imported.subdivisions.iter().map(|s| s.code.clone()),
            );
            let rates =
                tax::parse_tax_rates(&text, &codes).map_err(|source| ImportError::TaxRates {
                    path: path.clone(),
                    source,
                })?;
            Some((path, text, rates.len()))
        }
    };
    std::fs::create_dir_all(out.join("sources")).map_err(|source| ImportError::Write {
        path: out.to_owned(),
        source,
    })?;
    write(&out.join(COUNTRIES_FILE), &to_json(&imported.countries))?;
    write(
        &out.join(SUBDIVISIONS_FILE),
        &to_json(&imported.subdivisions),
    )?;
    write(&out.join(CURRENCIES_FILE), &to_json(&imported.currencies))?;
    write(&out.join(EXCHANGE_RATES_FILE), &imported.exchange_rates_csv)?;
    write(&out.join(MANIFEST_FILE), &to_json(&imported.manifest))?;
    if let Some((path, text, _)) = &tax_rates {
        let target = out.join(TAX_RATES_FILE);
        let same_file = match (path.canonicalize(), target.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if !same_file {
            write(&target, text)?;
        }
    }
    Ok(ImportSummary {
        countries: imported.countries.len(),
        subdivisions: imported.subdivisions.len(),
        historic_currencies: imported.currencies.iter().filter(|c| c.historic).count(),
        currencies: imported.currencies.len(),
        rate_days: imported
            .exchange_rates_csv
            .lines()
            .count()
            .saturating_sub(1),
        tax_rates: tax_rates.map(|(_, _, count)| count),
    })
}
