//! Domain types of the reference data and the pure logic over them (lookups, cross rates,
//! tax-rate validity). Nothing here knows about HTTP or where the data came from.

pub mod csv;
pub mod rates;
pub mod tax;
pub mod text;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An ISO 3166-1 country with its currencies and UN M49 region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"alpha2":"DE","alpha3":"DEU","numeric":"276","name":"Germany",
    "official_name":"Federal Republic of Germany","common_name":null,"flag":"🇩🇪",
    "currencies":["EUR"],"region":"Europe","subregion":"Western Europe"}))]
pub struct Country {
    pub alpha2: String,
    pub alpha3: String,
    /// ISO 3166-1 numeric code, always three digits.
    pub numeric: String,
    pub name: String,
    pub official_name: Option<String>,
    pub common_name: Option<String>,
    pub flag: String,
    /// ISO 4217 codes of the legal tenders (fund codes excluded), from ISO 4217 list one.
    pub currencies: Vec<String>,
    pub region: Option<String>,
    pub subregion: Option<String>,
}

/// An ISO 3166-2 subdivision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Subdivision {
    /// Full code, e.g. `US-CA`.
    pub code: String,
    /// Alpha-2 code of the country.
    pub country: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Full code of the parent subdivision, if any.
    pub parent: Option<String>,
}

/// An ISO 4217 currency (current or withdrawn).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"code":"JPY","numeric":"392","name":"Yen","minor_units":0,
    "countries":["JP"],"historic":false,"fund":false,"metal":false,"withdrawn":null}))]
pub struct Currency {
    pub code: String,
    pub numeric: String,
    pub name: String,
    /// Digits after the decimal separator; `null` where ISO 4217 says N.A. (metals, XXX, XDR).
    pub minor_units: Option<u8>,
    /// Alpha-2 codes of the countries using the currency.
    pub countries: Vec<String>,
    /// Withdrawn currency (ISO 4217 list three).
    pub historic: bool,
    /// Fund code (e.g. `CLF`, `USN`).
    pub fund: bool,
    /// Precious metal (`XAU`, `XAG`, `XPT`, `XPD`).
    pub metal: bool,
    /// Month of withdrawal (`YYYY-MM`) when known.
    pub withdrawn: Option<String>,
}

/// Provenance of one dataset of the snapshot, as recorded by the importer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetManifestEntry {
    pub name: String,
    pub file: String,
    pub source: String,
    pub version: String,
    /// Date of the source's last change (`YYYY-MM-DD`), when the source states one.
    pub updated: Option<String>,
    pub licence: String,
}

/// `manifest.json` of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub datasets: Vec<DatasetManifestEntry>,
}
