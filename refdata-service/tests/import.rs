//! The importer reproduces the committed snapshot from the source files and rejects bad input
//! with errors that name the file and the line.
//!
//! The upstream sources (iso-codes JSON, ISO 4217 list one, ECB history, world-countries) are
//! the copies kept in `data/upstream/` (see `data/PROVENANCE.md`); `REFDATA_SOURCE_DIR` points
//! the tests at newer copies laid out the same way (`iso-codes/`, `iso4217/`, `ecb/`,
//! `world-countries/`).

use std::path::{Path, PathBuf};

use refdata::import::entities::{is_supranational, EntityMatcher};
use refdata::import::{self, ImportError, ImportSources};

const SNAPSHOT_FILES: [&str; 6] = [
    "countries.json",
    "subdivisions.json",
    "currencies.json",
    "exchange-rates.csv",
    "manifest.json",
    "sources/tax-rates.csv",
];

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

fn source_dir() -> PathBuf {
    std::env::var_os("REFDATA_SOURCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir().join("upstream"))
}

fn sources(dir: &Path) -> ImportSources {
    let data = data_dir();
    ImportSources {
        iso_codes_dir: dir.join("iso-codes"),
        iso_codes_version: "4.15.0".into(),
        iso_codes_released: Some("2023-04-27".into()),
        iso4217_list_one: dir.join("iso4217/list-one.xml"),
        ecb: dir.join("ecb/eurofxref-hist.zip"),
        regions: data.join("sources/regions.csv"),
        regions_version: "world-countries 5.1.0".into(),
        historic_currencies: data.join("sources/historic-currencies.csv"),
        tax_rates: Some(data.join("sources/tax-rates.csv")),
    }
}

#[test]
fn import_reproduces_the_committed_snapshot_byte_for_byte() {
    let dir = source_dir();
    let out = tempfile::tempdir().unwrap();
    let summary = import::run(&sources(&dir), out.path()).unwrap();
    assert_eq!(summary.countries, 249);
    assert_eq!(summary.subdivisions, 5127);
    for file in SNAPSHOT_FILES {
        let fresh = std::fs::read(out.path().join(file)).unwrap();
        let committed = std::fs::read(data_dir().join(file)).unwrap();
        assert!(
            fresh == committed,
            "{file} differs from a fresh import; re-run `refdata import`"
        );
    }
}

/// `sources/regions.csv` is what the importer extracts from world-countries' `countries.json`
/// (kept in `upstream/world-countries/`): importing from that file instead gives the same
/// snapshot, byte for byte.
#[test]
fn regions_csv_is_the_extraction_of_the_kept_world_countries_file() {
    let dir = source_dir();
    let mut from_upstream = sources(&dir);
    from_upstream.regions = dir.join("world-countries/countries.json");
    let out = tempfile::tempdir().unwrap();
    import::run(&from_upstream, out.path()).unwrap();
    for file in SNAPSHOT_FILES {
        let fresh = std::fs::read(out.path().join(file)).unwrap();
        let committed = std::fs::read(data_dir().join(file)).unwrap();
        assert!(
            fresh == committed,
            "{file} differs when the regions come from world-countries' countries.json: \
             regions.csv is not its extraction"
        );
    }
}

#[test]
fn every_list_one_entity_maps_to_a_country_unless_supranational() {
    let dir = source_dir();
    let xml = std::fs::read_to_string(dir.join("iso4217/list-one.xml")).unwrap();
    let countries: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("iso-codes/iso_3166-1.json")).unwrap(),
    )
    .unwrap();
    let mut names = Vec::new();
    for country in countries["3166-1"].as_array().unwrap() {
        for key in ["name", "official_name", "common_name"] {
            if let Some(name) = country[key].as_str() {
                names.push((country["alpha_2"].as_str().unwrap(), name));
            }
        }
    }
    let matcher = EntityMatcher::new(names.iter().copied());
    let entities: Vec<&str> = xml
        .split("<CtryNm>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</CtryNm>").map(|(name, _)| name))
        .collect();
    assert!(entities.len() > 250);
    let mut supranational = Vec::new();
    for entity in entities {
        match matcher.alpha2(entity) {
            Some(_) => assert!(!is_supranational(entity), "{entity} is both"),
            None if is_supranational(entity) => supranational.push(entity.trim().to_owned()),
            None => panic!("{entity:?} maps to no country"),
        }
    }
    assert!(supranational.contains(&"EUROPEAN UNION".to_owned()));
    assert!(supranational.contains(&"INTERNATIONAL MONETARY FUND (IMF)".to_owned()));
    assert!(supranational
        .iter()
        .any(|name| name.starts_with("ZZ08_Gold")));
    // Spot checks of names that need normalisation.
    assert_eq!(
        matcher.alpha2("KOREA (THE REPUBLIC OF)").as_deref(),
        Some("KR")
    );
    assert_eq!(matcher.alpha2("TÜRKİYE").as_deref(), Some("TR"));
    assert_eq!(matcher.alpha2("HOLY SEE (THE)").as_deref(), Some("VA"));
    assert_eq!(
        matcher
            .alpha2("UNITED KINGDOM OF GREAT BRITAIN AND NORTHERN IRELAND (THE)")
            .as_deref(),
        Some("GB")
    );
}

/// Copies the sources into a temporary directory so one of them can be damaged.
fn copy_sources(dir: &Path) -> (tempfile::TempDir, ImportSources) {
    let temp = tempfile::tempdir().unwrap();
    let mut copied = sources(dir);
    let copy = |from: &Path, name: &str| {
        let to = temp.path().join(name);
        std::fs::copy(from, &to).unwrap();
        to
    };
    std::fs::create_dir(temp.path().join("iso-codes")).unwrap();
    for file in ["iso_3166-1.json", "iso_3166-2.json", "iso_4217.json"] {
        copy(
            &dir.join("iso-codes").join(file),
            &format!("iso-codes/{file}"),
        );
    }
    copied.iso_codes_dir = temp.path().join("iso-codes");
    copied.iso4217_list_one = copy(&copied.iso4217_list_one, "list-one.xml");
    copied.historic_currencies = copy(&copied.historic_currencies, "historic.csv");
    copied.tax_rates = Some(copy(copied.tax_rates.as_ref().unwrap(), "tax-rates.csv"));
    (temp, copied)
}

fn edit(path: &Path, change: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, change(text)).unwrap();
}

#[test]
fn unknown_list_one_entity_is_an_error() {
    let dir = source_dir();
    let (temp, sources) = copy_sources(&dir);
    edit(&sources.iso4217_list_one, |xml| {
        xml.replacen("<CtryNm>ALBANIA</CtryNm>", "<CtryNm>ATLANTIS</CtryNm>", 1)
    });
    let error = import::run(&sources, &temp.path().join("out")).unwrap_err();
    assert!(error.to_string().contains("ATLANTIS"), "{error}");
}

#[test]
fn malformed_ecb_file_is_an_error_with_line_number() {
    let dir = source_dir();
    let (temp, mut sources) = copy_sources(&dir);
    let ecb = temp.path().join("rates.csv");
    std::fs::write(
        &ecb,
        "Date,USD,JPY,\n2024-01-02,1.0956,155.68,\n2024-01-03,1.09x,155,\n",
    )
    .unwrap();
    sources.ecb = ecb;
    let error = import::run(&sources, &temp.path().join("out")).unwrap_err();
    assert!(matches!(error, ImportError::Invalid { .. }));
    assert!(
        error.to_string().contains("line 3: USD rate \"1.09x\""),
        "{error}"
    );
}

#[test]
fn withdrawn_currency_without_history_row_is_an_error() {
    let dir = source_dir();
    let (temp, sources) = copy_sources(&dir);
    edit(&sources.historic_currencies, |csv| {
        csv.lines()
            .filter(|line| !line.starts_with("HRK,"))
            .map(|line| format!("{line}\n"))
            .collect()
    });
    let error = import::run(&sources, &temp.path().join("out")).unwrap_err();
    assert!(error.to_string().contains("HRK"), "{error}");
}

#[test]
fn bad_tax_rate_rows_are_reported_with_line_numbers() {
    let dir = source_dir();
    let (temp, sources) = copy_sources(&dir);
    let tax_rates = sources.tax_rates.clone().unwrap();
    edit(&tax_rates, |csv| {
        format!("{csv}ZZ,,standard,19,2021-01-01,,src\nDE,,standard,19,2021-02-01,2021-01-01,src\n")
    });
    let lines = std::fs::read_to_string(&tax_rates).unwrap().lines().count();
    let error = import::run(&sources, &temp.path().join("out")).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains(&format!("line {}: unknown ISO 3166-1", lines - 1)),
        "{message}"
    );
    assert!(
        message.contains(&format!("line {}: valid_to", lines)),
        "{message}"
    );
    assert!(
        !temp.path().join("out").exists(),
        "nothing is written on error"
    );
}
