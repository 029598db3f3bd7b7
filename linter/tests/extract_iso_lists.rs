//! Hard-coded ISO code lists in Rust code: every shape the extractor recognises, and the
//! look-alikes that must stay silent.

mod extract_support;
use extract_support as common;

use archlint::extract::rust::extract_file;
use archlint::extract::{CrateContext, Facts};
use archlint::model::{FileId, IsoCodeList, ReferenceListShape};
use camino::Utf8Path;

/// Facts of one `orders/src/lib.rs` holding `source`.
fn extract(source: &str) -> Facts {
    let root = common::fixture_root();
    let crates = common::crates();
    let cx = CrateContext {
        root: &root,
        krate: &crates[0],
        crates: &crates,
    };
    let mut facts = Facts::default();
    extract_file(
        &cx,
        FileId(0),
        Utf8Path::new("orders/src/lib.rs"),
        source,
        &mut facts,
    );
    facts
}

/// The one list found in `source`: its kind, shape, number of codes, sample and source text.
fn one_list(source: &str) -> (IsoCodeList, ReferenceListShape, usize, Vec<String>, String) {
    let facts = extract(source);
    assert_eq!(
        facts.hard_coded_lists.len(),
        1,
        "{source}\n{:#?}",
        facts.hard_coded_lists
    );
    let list = &facts.hard_coded_lists[0];
    assert_eq!(list.crate_id.0, 0);
    let text = source[list.span.start as usize..list.span.end as usize].to_string();
    (list.kind, list.shape, list.codes, list.sample.clone(), text)
}

fn silent(source: &str) {
    let facts = extract(source);
    assert!(
        facts.hard_coded_lists.is_empty(),
        "{source}\n{:#?}",
        facts.hard_coded_lists
    );
}

const CURRENCIES: &str = r#""USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK""#;

#[test]
fn const_and_static_arrays_of_currency_codes() {
    let source = format!("pub const SUPPORTED: [&str; 10] = [{CURRENCIES}];\n");
    let (kind, shape, codes, sample, text) = one_list(&source);
    assert_eq!(kind, IsoCodeList::Currency);
    assert_eq!(shape, ReferenceListShape::List);
    assert_eq!(codes, 10);
    assert_eq!(sample, ["USD", "EUR", "GBP"]);
    assert!(
        text.starts_with("[\"USD\"") && text.ends_with("\"DKK\"]"),
        "{text}"
    );

    let source = format!("static SUPPORTED: &[&str] = &[\n    {CURRENCIES},\n];\n");
    let (kind, _, codes, _, _) = one_list(&source);
    assert_eq!((kind, codes), (IsoCodeList::Currency, 10));
}

#[test]
fn vec_and_set_macros() {
    let source = format!("fn supported() -> Vec<&'static str> {{ vec![{CURRENCIES}] }}\n");
    let (kind, shape, codes, _, text) = one_list(&source);
    assert_eq!(
        (kind, shape, codes),
        (IsoCodeList::Currency, ReferenceListShape::List, 10)
    );
    assert!(text.starts_with("vec![") && text.ends_with(']'), "{text}");

    let source =
        format!("fn supported() -> HashSet<&'static str> {{ hashset! {{ {CURRENCIES} }} }}\n");
    let (_, shape, codes, _, _) = one_list(&source);
    assert_eq!((shape, codes), (ReferenceListShape::List, 10));

    let source = format!("static SUPPORTED: phf::Set<&str> = phf::phf_set! {{ {CURRENCIES} }};\n");
    let (_, shape, _, _, _) = one_list(&source);
    assert_eq!(shape, ReferenceListShape::List);
}

#[test]
fn tables_keyed_by_codes() {
    let minor_units = r#"("USD", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0), ("BHD", 3), ("KWD", 3), ("CLP", 0), ("GBP", 2)"#;
    let source = format!(
        "fn minor_units() -> HashMap<&'static str, u32> {{ HashMap::from([{minor_units}]) }}\n"
    );
    let (kind, shape, codes, sample, text) = one_list(&source);
    assert_eq!(
        (kind, shape, codes),
        (IsoCodeList::Currency, ReferenceListShape::Table, 8)
    );
    assert_eq!(sample, ["USD", "EUR", "JPY"]);
    assert!(
        text.starts_with("[(\"USD\"") && text.ends_with(")]"),
        "{text}"
    );

    let source =
        format!("fn minor_units() -> Vec<(&'static str, u32)> {{ vec![{minor_units}] }}\n");
    let (_, shape, codes, _, _) = one_list(&source);
    assert_eq!((shape, codes), (ReferenceListShape::Table, 8));

    let source = r#"
static MINOR_UNITS: phf::Map<&'static str, u32> = phf_map! {
    "USD" => 2, "EUR" => 2, "JPY" => 0, "KRW" => 0,
    "BHD" => 3, "KWD" => 3, "CLP" => 0, "GBP" => 2,
};
"#;
    let (_, shape, codes, _, text) = one_list(source);
    assert_eq!((shape, codes), (ReferenceListShape::Table, 8));
    assert!(
        text.starts_with("phf_map!") && text.ends_with('}'),
        "{text}"
    );

    let source = r#"
const CURRENCIES: &[Currency] = &[
    Currency { code: "USD", minor_units: 2 }, Currency { code: "EUR", minor_units: 2 },
    Currency { code: "JPY", minor_units: 0 }, Currency { code: "KRW", minor_units: 0 },
    Currency { code: "BHD", minor_units: 3 }, Currency { code: "KWD", minor_units: 3 },
    Currency { code: "CLP", minor_units: 0 }, Currency { code: "GBP", minor_units: 2 },
];
const COUNTRIES: [Country; 8] = [
    Country::new("US", "United States"), Country::new("DE", "Germany"),
    Country::new("FR", "France"), Country::new("JP", "Japan"), Country::new("GB", "United Kingdom"),
    Country::new("CA", "Canada"), Country::new("BR", "Brazil"), Country::new("IN", "India"),
];
"#;
    let facts = extract(source);
    let found: Vec<_> = facts
        .hard_coded_lists
        .iter()
        .map(|l| (l.kind, l.shape, l.codes))
        .collect();
    assert_eq!(
        found,
        [
            (IsoCodeList::Currency, ReferenceListShape::Table, 8),
            (IsoCodeList::CountryAlpha2, ReferenceListShape::Table, 8),
        ]
    );
}

#[test]
fn match_arms_on_codes() {
    let source = r#"
pub fn minor_units(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "VND" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}
"#;
    let (kind, shape, codes, sample, text) = one_list(source);
    assert_eq!(
        (kind, shape, codes),
        (IsoCodeList::Currency, ReferenceListShape::Match, 17)
    );
    assert_eq!(sample, ["BIF", "CLP", "DJF"]);
    assert!(
        text.starts_with("match currency") && text.ends_with('}'),
        "{text}"
    );

    let source = r#"
fn region(country: &str) -> Region {
    match country {
        "AT" => Region::Eu, "BE" => Region::Eu, "DE" => Region::Eu, "FR" => Region::Eu,
        "US" | "CA" | "MX" => Region::NorthAmerica,
        "JP" | "KR" => Region::Asia,
        other => Region::Unknown(other.to_string()),
    }
}
"#;
    let (kind, shape, codes, _, _) = one_list(source);
    assert_eq!(
        (kind, shape, codes),
        (IsoCodeList::CountryAlpha2, ReferenceListShape::Match, 9)
    );

    let source = format!(
        "fn is_supported(code: &str) -> bool {{ matches!(code, {}) }}\n",
        CURRENCIES.replace(',', " |")
    );
    let (_, shape, codes, _, text) = one_list(&source);
    assert_eq!((shape, codes), (ReferenceListShape::Match, 10));
    assert!(text.starts_with("matches!("), "{text}");
}

#[test]
fn enums_of_codes() {
    let source = r#"
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub enum Currency {
    USD, EUR, GBP, JPY, CHF, CAD, AUD, SEK, NOK, DKK,
}
"#;
    let (kind, shape, codes, _, text) = one_list(source);
    assert_eq!(
        (kind, shape, codes),
        (IsoCodeList::Currency, ReferenceListShape::Enum, 10)
    );
    assert!(
        text.starts_with("enum Currency") && text.ends_with('}'),
        "{text}"
    );

    // Rust naming, and one catch-all variant among ten.
    let source = r#"
pub enum Country { Us, De, Fr, Jp, Gb, Ca, Br, In, It, Other(String) }
"#;
    let (kind, _, codes, sample, _) = one_list(source);
    assert_eq!((kind, codes), (IsoCodeList::CountryAlpha2, 9));
    assert_eq!(sample, ["US", "DE", "FR"]);

    let source = r#"
pub enum Country { USA, DEU, FRA, JPN, GBR, CAN, BRA, IND }
"#;
    let (kind, _, _, _, _) = one_list(source);
    assert_eq!(kind, IsoCodeList::CountryAlpha3);
}

#[test]
fn short_allow_lists_are_configuration() {
    silent(r#"const ACCEPTED: &[&str] = &["USD", "EUR"];"#);
    silent(r#"const ACCEPTED: [&str; 7] = ["USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD"];"#);
    // Repeated entries are not more codes.
    silent(
        r#"const ACCEPTED: [&str; 8] = ["USD", "EUR", "GBP", "JPY", "USD", "EUR", "GBP", "JPY"];"#,
    );
    silent(
        r#"fn f(c: &str) -> u32 { match c { "JPY" | "KRW" => 0, "BHD" | "KWD" | "OMR" => 3, _ => 2 } }"#,
    );
    silent(r#"fn f(c: &str) -> bool { matches!(c, "USD" | "EUR" | "GBP") }"#);
    silent("enum Currency { USD, EUR, GBP }");
}

#[test]
fn upper_case_words_that_are_not_iso_lists_are_silent() {
    // HTTP methods, log levels, status words.
    silent(
        r#"const METHODS: [&str; 9] = ["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS", "TRACE", "CONNECT"];"#,
    );
    silent(
        r#"const LEVELS: &[&str] = &["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF", "ALL", "FATAL"];"#,
    );
    silent(
        r#"fn m(method: &str) -> u8 { match method { "GET" => 1, "PUT" => 2, "POST" => 3, "DELETE" => 4, "HEAD" => 5, "PATCH" => 6, "OPTIONS" => 7, "TRACE" => 8, _ => 0 } }"#,
    );
    // Eight upper-case words of three letters, two of which happen to be currency codes.
    silent(r#"const TAGS: [&str; 8] = ["NEW", "OLD", "HOT", "ICE", "RED", "TOP", "ALL", "ANY"];"#);
    silent(
        r#"const AIRPORTS: [&str; 8] = ["JFK", "LAX", "LHR", "CDG", "SFO", "ORD", "ATL", "DFW"];"#,
    );
    silent(
        r#"const TICKERS: [&str; 8] = ["BTC", "ETH", "SOL", "ADA", "DOT", "XRP", "LTC", "USD"];"#,
    );
    // Language codes share letters with countries, not all of them.
    silent(
        r#"const LANGUAGES: [&str; 10] = ["EN", "DE", "FR", "ES", "IT", "NL", "PT", "JA", "ZH", "KO"];"#,
    );
    silent("enum Language { De, Fr, Es, It, Nl, Pt, Pl, Ru, Sv }");
    // US states.
    silent(
        r#"const STATES: [&str; 12] = ["CA", "NY", "TX", "FL", "WA", "OH", "MI", "NJ", "OR", "OK", "CT", "UT"];"#,
    );
    // Enums of other short names.
    silent("enum Op { Add, Sub, Mul, Div, Rem, And, Or, Xor, Shl, Shr }");
    silent("enum Month { Jan, Feb, Mar, Apr, May, Jun, Jul, Aug, Sep, Oct, Nov, Dec }");
    // Currencies mixed with countries are neither list.
    silent(r#"const MIXED: [&str; 8] = ["USD", "US", "EUR", "DE", "GBP", "GB", "JPY", "JP"];"#);
}

#[test]
fn lists_with_other_entries_are_not_code_lists() {
    // An entry that is not a literal, a lower-case or a long string.
    silent(&format!("const C: [&str; 11] = [{CURRENCIES}, OTHER];"));
    silent(&format!("const C: [&str; 11] = [{CURRENCIES}, \"usd\"];"));
    silent(&format!("const C: [&str; 11] = [{CURRENCIES}, \"USDT\"];"));
    // Raw strings and escapes are not how codes are written; they are left alone.
    silent(
        r##"const C: [&str; 8] = [r"USD", r"EUR", r"GBP", r"JPY", r"CHF", r"CAD", r"AUD", r"SEK"];"##,
    );
    // Enum variants with data are not codes; more than one in ten is too many.
    silent(
        "enum Currency { USD, EUR, GBP, JPY, CHF, CAD, AUD, SEK, Crypto(String), Other(String) }",
    );
    // A match on something else with a code among its patterns.
    silent(
        r#"fn f(x: (&str, u8)) -> u8 { match x { ("USD", 1) => 1, ("EUR", 2) => 2, ("GBP", 3) => 3, ("JPY", 4) => 4, ("CHF", 5) => 5, ("CAD", 6) => 6, ("AUD", 7) => 7, ("SEK", 8) => 8, _ => 0 } }"#,
    );
}

#[test]
fn test_code_is_skipped() {
    silent(&format!(
        "#[cfg(test)]\nmod tests {{\n    const SAMPLE: [&str; 10] = [{CURRENCIES}];\n}}\n"
    ));
    silent(&format!(
        "#[test]\nfn parses_every_currency() {{\n    for code in [{CURRENCIES}] {{ parse(code); }}\n}}\n"
    ));
}

#[test]
fn lists_are_found_once_wherever_they_sit() {
    let source = format!(
        r#"
static SUPPORTED: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| vec![{CURRENCIES}]);
fn check(code: &str) -> bool {{
    let supported = [{CURRENCIES}];
    tokio::spawn(async move {{ let _ = vec![{CURRENCIES}]; }});
    supported.contains(&code)
}}
"#
    );
    let facts = extract(&source);
    let lines: Vec<u32> = facts.hard_coded_lists.iter().map(|l| l.span.line).collect();
    assert_eq!(lines, [3, 5, 6], "{:#?}", facts.hard_coded_lists);
}
