//! The bytes of one dataset version as stored, and their typed forms for editing.
//!
//! Datasets are stored in the snapshot layout `refdata import` writes, with two differences
//! that keep writes small and edits addressable: exchange rates are split into one chunk per
//! year (a day's import rewrites one chunk, not the 27-year history), and tax rates carry a
//! stable `id` column.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::csv;
use crate::domain::tax::{self, TaxRate};
use crate::domain::{Country, Currency, Subdivision};
use crate::store::{Snapshot, SnapshotFiles, StoreError, EMBEDDED_FILES};

use super::StorageError;

/// Names of the datasets, in the order of the versions table's columns.
pub const DATASETS: [&str; 5] = [
    "countries",
    "subdivisions",
    "currencies",
    "exchange_rates",
    "tax_rates",
];

/// Hex SHA-256 of `bytes`, the address of a blob.
pub fn hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The blob addresses a version is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hashes {
    pub manifest: String,
    pub countries: String,
    pub subdivisions: String,
    pub currencies: String,
    /// One hash per yearly chunk, comma-separated, oldest first.
    pub exchange_rates: String,
    pub tax_rates: String,
}

impl Hashes {
    /// The hash column of dataset `name`.
    pub fn of(&self, name: &str) -> Option<&str> {
        Some(match name {
            "countries" => &self.countries,
            "subdivisions" => &self.subdivisions,
            "currencies" => &self.currencies,
            "exchange_rates" => &self.exchange_rates,
            "tax_rates" => &self.tax_rates,
            _ => return None,
        })
    }

    /// Datasets whose blobs differ between `self` and `other`.
    pub fn changed_from(&self, other: &Hashes) -> Vec<&'static str> {
        DATASETS
            .into_iter()
            .filter(|name| self.of(name) != other.of(name))
            .collect()
    }

    pub fn all(&self) -> impl Iterator<Item = &str> {
        [
            self.manifest.as_str(),
            &self.countries,
            &self.subdivisions,
            &self.currencies,
            &self.tax_rates,
        ]
        .into_iter()
        .chain(self.exchange_rates.split(','))
    }
}

/// A tax rate with the stable id the admin API addresses it by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TaxRow {
    pub id: u64,
    #[serde(flatten)]
    pub rate: TaxRate,
}

/// The exchange-rate table in editable form.
#[derive(Debug, Clone, Default)]
pub struct RateTable {
    pub currencies: Vec<String>,
    pub rows: BTreeMap<NaiveDate, Vec<Option<Decimal>>>,
}

/// The stored bytes of every dataset of one version.
#[derive(Debug, Clone)]
pub struct Contents {
    pub manifest: Arc<[u8]>,
    pub countries: Arc<[u8]>,
    pub subdivisions: Arc<[u8]>,
    pub currencies: Arc<[u8]>,
    /// `date,CUR,...` header and the rows of one year each, oldest first.
    pub rate_chunks: Vec<Arc<[u8]>>,
    /// Tax rates: `id,` and the columns of `tax-rates.csv`.
    pub tax_rates: Arc<[u8]>,
}

const TAX_HEADER_WITH_ID: &str = "id,country,subdivision,type,rate,valid_from,valid_to,source";

fn malformed(dataset: &str, message: impl Into<String>) -> StorageError {
    StorageError::Corrupt(format!("{dataset}: {}", message.into()))
}

fn utf8<'a>(dataset: &str, bytes: &'a [u8]) -> Result<&'a str, StorageError> {
    std::str::from_utf8(bytes).map_err(|_| malformed(dataset, "not UTF-8"))
}

impl Contents {
    /// The snapshot compiled into the binary, in the stored layout: tax rates numbered from 1
    /// in file order.
    pub fn embedded() -> Result<Self, StorageError> {
        let tax_text = utf8("tax_rates", EMBEDDED_FILES.tax_rates)?;
        let records = csv::parse(tax_text).map_err(|e| malformed("tax_rates", e.to_string()))?;
        let mut tax = String::with_capacity(tax_text.len() + records.len() * 4);
        tax.push_str(TAX_HEADER_WITH_ID);
        tax.push('\n');
        for (id, record) in records.iter().skip(1).enumerate() {
            tax.push_str(&(id + 1).to_string());
            for field in &record.fields {
                tax.push(',');
                tax.push_str(&csv::quote(field));
            }
            tax.push('\n');
        }
        let rates = utf8("exchange_rates", EMBEDDED_FILES.exchange_rates)?;
        Ok(Self {
            manifest: EMBEDDED_FILES.manifest.into(),
            countries: EMBEDDED_FILES.countries.into(),
            subdivisions: EMBEDDED_FILES.subdivisions.into(),
            currencies: EMBEDDED_FILES.currencies.into(),
            rate_chunks: split_rates(rates)?,
            tax_rates: tax.into_bytes().into(),
        })
    }

    pub fn hashes(&self) -> Hashes {
        Hashes {
            manifest: hash(&self.manifest),
            countries: hash(&self.countries),
            subdivisions: hash(&self.subdivisions),
            currencies: hash(&self.currencies),
            exchange_rates: self
                .rate_chunks
                .iter()
                .map(|chunk| hash(chunk))
                .collect::<Vec<_>>()
                .join(","),
            tax_rates: hash(&self.tax_rates),
        }
    }

    /// Every blob with its hash; `hashes` must be this version's.
    pub fn blobs(&self, hashes: &Hashes) -> Vec<(String, Arc<[u8]>)> {
        let singles = [
            (&hashes.manifest, &self.manifest),
            (&hashes.countries, &self.countries),
            (&hashes.subdivisions, &self.subdivisions),
            (&hashes.currencies, &self.currencies),
            (&hashes.tax_rates, &self.tax_rates),
        ];
        singles
            .into_iter()
            .map(|(hash, bytes)| (hash.clone(), Arc::clone(bytes)))
            .chain(
                hashes
                    .exchange_rates
                    .split(',')
                    .zip(&self.rate_chunks)
                    .map(|(hash, bytes)| (hash.to_owned(), Arc::clone(bytes))),
            )
            .collect()
    }

    /// [`Contents::hashes`] of an edited copy of `base`, hashing only the bytes that differ.
    pub fn hashes_after_edit(&self, base: &Contents, base_hashes: &Hashes) -> Hashes {
        let same = |new: &Arc<[u8]>, old: &Arc<[u8]>, old_hash: &str| {
            if Arc::ptr_eq(new, old) || new[..] == old[..] {
                old_hash.to_owned()
            } else {
                hash(new)
            }
        };
        let old_chunks: Vec<&str> = base_hashes.exchange_rates.split(',').collect();
        Hashes {
            manifest: same(&self.manifest, &base.manifest, &base_hashes.manifest),
            countries: same(&self.countries, &base.countries, &base_hashes.countries),
            subdivisions: same(
                &self.subdivisions,
                &base.subdivisions,
                &base_hashes.subdivisions,
            ),
            currencies: same(&self.currencies, &base.currencies, &base_hashes.currencies),
            exchange_rates: self
                .rate_chunks
                .iter()
                .enumerate()
                .map(
                    |(i, chunk)| match (base.rate_chunks.get(i), old_chunks.get(i)) {
                        (Some(old), Some(old_hash)) => same(chunk, old, old_hash),
                        _ => hash(chunk),
                    },
                )
                .collect::<Vec<_>>()
                .join(","),
            tax_rates: same(&self.tax_rates, &base.tax_rates, &base_hashes.tax_rates),
        }
    }

    /// The exchange rates in the snapshot layout: one header, every year's rows.
    pub fn rates_csv(&self) -> Result<String, StorageError> {
        let mut out = String::new();
        for (i, chunk) in self.rate_chunks.iter().enumerate() {
            let text = utf8("exchange_rates", chunk)?;
            let (header, rows) = text.split_once('\n').unwrap_or((text, ""));
            if i == 0 {
                out.reserve(text.len() * self.rate_chunks.len());
                out.push_str(header);
                out.push('\n');
            }
            out.push_str(rows);
        }
        Ok(out)
    }

    /// Tax rates in the `tax-rates.csv` layout (without ids).
    pub fn tax_csv(&self) -> Result<String, StorageError> {
        let rows = self.tax_rows()?;
        Ok(tax_csv(rows.iter().map(|row| &row.rate)))
    }

    /// Parses and indexes the whole version.
    pub fn snapshot(&self) -> Result<Snapshot, StoreError> {
        self.snapshot_reusing(None, &[])
    }

    /// [`Contents::snapshot`], taking the `unchanged` datasets from `previous`.
    pub fn snapshot_reusing(
        &self,
        previous: Option<&Snapshot>,
        unchanged: &[&str],
    ) -> Result<Snapshot, StoreError> {
        let reused = |name: &str| previous.is_some() && unchanged.contains(&name);
        let rates = if reused("exchange_rates") {
            String::new()
        } else {
            self.rates_csv().map_err(|e| StoreError::Malformed {
                dataset: "exchange_rates".into(),
                message: e.to_string(),
            })?
        };
        let tax = if reused("tax_rates") {
            String::new()
        } else {
            self.tax_csv().map_err(|e| StoreError::Malformed {
                dataset: "tax_rates".into(),
                message: e.to_string(),
            })?
        };
        Snapshot::from_files_reusing(
            SnapshotFiles {
                manifest: &self.manifest,
                countries: &self.countries,
                subdivisions: &self.subdivisions,
                currencies: &self.currencies,
                exchange_rates: rates.as_bytes(),
                tax_rates: tax.as_bytes(),
            },
            previous,
            unchanged,
        )
    }

    pub fn countries(&self) -> Result<Vec<Country>, StorageError> {
        serde_json::from_slice(&self.countries).map_err(|e| malformed("countries", e.to_string()))
    }

    pub fn set_countries(&mut self, countries: &mut [Country]) {
        countries.sort_by(|a, b| a.alpha2.cmp(&b.alpha2));
        self.countries = pretty(&countries).into();
    }

    pub fn subdivisions(&self) -> Result<Vec<Subdivision>, StorageError> {
        serde_json::from_slice(&self.subdivisions)
            .map_err(|e| malformed("subdivisions", e.to_string()))
    }

    pub fn set_subdivisions(&mut self, subdivisions: &mut [Subdivision]) {
        subdivisions.sort_by(|a, b| a.code.cmp(&b.code));
        self.subdivisions = pretty(&subdivisions).into();
    }

    pub fn currencies(&self) -> Result<Vec<Currency>, StorageError> {
        serde_json::from_slice(&self.currencies).map_err(|e| malformed("currencies", e.to_string()))
    }

    pub fn set_currencies(&mut self, currencies: &mut [Currency]) {
        currencies.sort_by(|a, b| a.code.cmp(&b.code));
        self.currencies = pretty(&currencies).into();
    }

    /// Tax rates with their ids, in stored order.
    pub fn tax_rows(&self) -> Result<Vec<TaxRow>, StorageError> {
        let text = utf8("tax_rates", &self.tax_rates)?;
        let records = csv::parse(text).map_err(|e| malformed("tax_rates", e.to_string()))?;
        let mut ids = Vec::with_capacity(records.len());
        let mut plain = tax::HEADER.join(",");
        plain.push('\n');
        for record in records.iter().skip(1) {
            let (id, fields) = record
                .fields
                .split_first()
                .ok_or_else(|| malformed("tax_rates", format!("line {}: empty", record.line)))?;
            let id: u64 = id
                .parse()
                .map_err(|_| malformed("tax_rates", format!("line {}: bad id", record.line)))?;
            ids.push(id);
            plain.push_str(
                &fields
                    .iter()
                    .map(|f| csv::quote(f))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            plain.push('\n');
        }
        // Codes are checked against the countries when the whole version is indexed.
        let rates = tax::parse_tax_rates(&plain, &AnyCode)
            .map_err(|e| malformed("tax_rates", e.to_string()))?;
        Ok(ids
            .into_iter()
            .zip(rates)
            .map(|(id, rate)| TaxRow { id, rate })
            .collect())
    }

    pub fn set_tax_rows(&mut self, rows: &[TaxRow]) {
        let mut out = String::from(TAX_HEADER_WITH_ID);
        out.push('\n');
        for row in rows {
            out.push_str(&row.id.to_string());
            out.push(',');
            out.push_str(&tax_line(&row.rate));
        }
        self.tax_rates = out.into_bytes().into();
    }

    pub fn rate_table(&self) -> Result<RateTable, StorageError> {
        let csv = self.rates_csv()?;
        let mut lines = csv.lines();
        let header = lines.next().unwrap_or_default();
        let currencies: Vec<String> = header.split(',').skip(1).map(str::to_owned).collect();
        let mut rows = BTreeMap::new();
        for line in lines {
            let mut cells = line.split(',');
            let date = cells
                .next()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .ok_or_else(|| malformed("exchange_rates", format!("bad row {line:?}")))?;
            let values = cells
                .map(|cell| {
                    if cell.is_empty() {
                        Ok(None)
                    } else {
                        cell.parse::<Decimal>()
                            .map(Some)
                            .map_err(|_| malformed("exchange_rates", format!("bad rate {cell:?}")))
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            if values.len() != currencies.len() {
                return Err(malformed(
                    "exchange_rates",
                    format!(
                        "{date}: {} rates for {} currencies",
                        values.len(),
                        currencies.len()
                    ),
                ));
            }
            rows.insert(date, values);
        }
        Ok(RateTable { currencies, rows })
    }

    /// Stores `table`, rewriting only the yearly chunks whose bytes change.
    pub fn set_rate_table(&mut self, table: &RateTable) -> Result<(), StorageError> {
        let mut csv = String::from("date");
        for code in &table.currencies {
            csv.push(',');
            csv.push_str(code);
        }
        csv.push('\n');
        for (date, values) in &table.rows {
            csv.push_str(&date.format("%Y-%m-%d").to_string());
            for value in values {
                csv.push(',');
                if let Some(rate) = value {
                    csv.push_str(&rate.to_string());
                }
            }
            csv.push('\n');
        }
        self.rate_chunks = split_rates(&csv)?;
        Ok(())
    }
}

/// Every code is accepted; used where codes are checked later against the version itself.
struct AnyCode;

impl tax::KnownCodes for AnyCode {
    fn has_country(&self, _: &str) -> bool {
        true
    }
    fn has_subdivision(&self, _: &str) -> bool {
        true
    }
}

fn pretty<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising plain data types into memory cannot fail; an empty array is the safe side.
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_else(|_| b"[]".to_vec());
    bytes.push(b'\n');
    bytes
}

fn tax_line(rate: &TaxRate) -> String {
    let fields = [
        rate.country.clone(),
        rate.subdivision.clone().unwrap_or_default(),
        rate.kind.to_string(),
        rate.rate.to_string(),
        rate.valid_from.to_string(),
        rate.valid_to.map(|d| d.to_string()).unwrap_or_default(),
        rate.source.clone(),
    ];
    let mut line = fields
        .iter()
        .map(|f| csv::quote(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

/// `tax-rates.csv` text for `rates`.
pub fn tax_csv<'a>(rates: impl Iterator<Item = &'a TaxRate>) -> String {
    let mut out = tax::HEADER.join(",");
    out.push('\n');
    for rate in rates {
        out.push_str(&tax_line(rate));
    }
    out
}

/// Splits the snapshot rate table into chunks of one year, each with the header.
fn split_rates(csv: &str) -> Result<Vec<Arc<[u8]>>, StorageError> {
    let (header, body) = csv
        .split_once('\n')
        .ok_or_else(|| malformed("exchange_rates", "no header"))?;
    let mut chunks: Vec<Arc<[u8]>> = Vec::new();
    let mut current = String::new();
    let mut year = None;
    for line in body.lines() {
        let line_year = line
            .get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map(|d| d.year())
            .ok_or_else(|| malformed("exchange_rates", format!("bad row {line:?}")))?;
        if year != Some(line_year) {
            if year.is_some() {
                chunks.push(std::mem::take(&mut current).into_bytes().into());
            }
            current.push_str(header);
            current.push('\n');
            year = Some(line_year);
        }
        current.push_str(line);
        current.push('\n');
    }
    if year.is_some() {
        chunks.push(current.into_bytes().into());
    } else {
        chunks.push(format!("{header}\n").into_bytes().into());
    }
    Ok(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_contents_round_trip_to_the_committed_bytes() {
        let contents = Contents::embedded().unwrap();
        assert_eq!(
            contents.rates_csv().unwrap().as_bytes(),
            EMBEDDED_FILES.exchange_rates
        );
        assert!(contents.rate_chunks.len() > 25);
        assert_eq!(
            contents.tax_csv().unwrap().as_bytes(),
            EMBEDDED_FILES.tax_rates
        );
        let rows = contents.tax_rows().unwrap();
        assert_eq!(rows[0].id, 1);
        let mut edited = contents.clone();
        edited.set_tax_rows(&rows);
        assert_eq!(edited.tax_rates, contents.tax_rates);
        let table = contents.rate_table().unwrap();
        edited.set_rate_table(&table).unwrap();
        assert_eq!(edited.hashes(), contents.hashes());
        let hashes = contents.hashes();
        assert_eq!(edited.hashes_after_edit(&contents, &hashes), hashes);
        let mut rows = rows;
        rows.pop();
        edited.set_tax_rows(&rows);
        assert_eq!(
            edited.hashes_after_edit(&contents, &hashes),
            edited.hashes()
        );
        let snapshot = contents.snapshot().unwrap();
        let embedded = Snapshot::from_files(EMBEDDED_FILES).unwrap();
        assert_eq!(
            snapshot
                .datasets()
                .iter()
                .map(|d| &d.content_hash)
                .collect::<Vec<_>>(),
            embedded
                .datasets()
                .iter()
                .map(|d| &d.content_hash)
                .collect::<Vec<_>>()
        );
    }
}
