//! ## What it does
//! Flags reference data that services keep copies of instead of reading it from one
//! reference-data service: tables of countries, currencies, exchange rates, tax rates, product
//! categories, languages, time zones or units of measure that two or more services each
//! create, and lists of ISO currency or country codes written out in a service's code.
//!
//! ### Tables
//!
//! A table counts when a service's migrations (or a runtime `CREATE TABLE` in its code) create
//! it and its name, split into words on `_`, is one of these once reference-style prefixes
//! and suffixes (`ref`, `reference`, `refdata`, `iso`, `lookup`, `lkp`, `dim`, `master`, `std`,
//! `standard`, `static`, `supported`, `tbl`; `codes`, `code`, `list`, `lookup`, `ref`, `data`,
//! `master`, `iso`, `dim`, `tbl`) are dropped:
//!
//! | kind | names |
//! |---|---|
//! | country | `country`, `countries` |
//! | currency | `currency`, `currencies` |
//! | exchange rate | `exchange_rate(s)`, `fx_rate(s)`, `currency_rate(s)`, `currency_exchange_rate(s)`, `conversion_rate(s)`, `forex_rate(s)` |
//! | tax rate | `tax_rate(s)`, `vat_rate(s)`, `sales_tax_rate(s)`, `gst_rate(s)` |
//! | product category | `category`, `categories`, `product_category`, `product_categories` |
//! | language | `language(s)`, `locale(s)` |
//! | time zone | `time_zone(s)`, `timezone(s)` |
//! | unit of measure | `unit(s)_of_measure`, `unit(s)_of_measurement`, `measurement_units`, `uom(s)` |
//!
//! Quoted camel-case names lower-cased into one word count too (`"CountryCodes"`,
//! `"ExchangeRates"`). So `ref_countries`, `iso_currency`, `country_codes` and
//! `currency_iso_codes` count, while
//! `country_club_members`, `user_countries`, `currency_pairs_traded`, `shipping_rates` and
//! `expense_categories` (a service's own data that happens to mention a country, a currency or
//! a category) do not.
//!
//! One finding per copy, at the `CREATE TABLE` name in the service's migration, naming the
//! other services that keep the same kind of data. A reference table held by a single service
//! is not flagged (it may be the reference-data service itself), and neither is the copy of a
//! service named as a reference-data service (`refdata`, `reference-data`, `masterdata`): the
//! others are told to read from it. Tables that several services get from one shared migration
//! set are a single copy; sharing it is reported by `shared-database`.
//!
//! ### Hard-coded code lists
//!
//! A list in service code counts when it has at least 8 distinct entries, every entry is a
//! string literal of two or three upper-case letters (or, for an enum, a unit variant named
//! `USD` or `Usd`), and at least 90% of them are codes of one ISO list: ISO 4217 currency
//! codes (withdrawn ones included), ISO 3166-1 alpha-2 or alpha-3 country codes. The codes
//! come from the data the reference-data service `refdata` serves. Shapes:
//!
//! - arrays, slices, `const`/`static` arrays and `vec!`/`hashset!`/`phf_set!`-style macros of
//!   code literals;
//! - tables keyed by codes: `HashMap::from([("USD", 2), ..])`, arrays of tuples, structs or
//!   constructor calls whose first value is a code, `phf_map!`/`hashmap!`/`btreemap!` macros;
//! - `match` arms and `matches!` patterns on code literals (`"JPY" | "KRW" => 0`), the catch-all
//!   arm aside;
//! - enums whose variants are codes (`enum Currency { USD, EUR, .. }`).
//!
//! One finding per list, at the list, counting its codes. Short allow-lists (`["USD", "EUR"]`),
//! HTTP methods, log levels, language codes, other upper-case words, lists in test code, in
//! crates of no service and in the reference-data service itself are not flagged.
//!
//! ## Why is this bad
//! Every copy drifts: one service learns that Croatia adopted the euro, another still prices in
//! kuna; one applies the new VAT rate from the first of the month, another a week later; two
//! services convert the same invoice at different exchange rates. Each team maintains its own
//! import job, and the discrepancies surface as support tickets and accounting corrections
//! that no single service can explain. A code list compiled into a service is the same copy
//! with a release cycle attached: a new currency (`VES`, `ZWG`) or country code is rejected
//! until someone notices, edits every service and redeploys it.
//!
//! ## Example
//! ```sql
//! -- orders/migrations/0002_currencies.sql
//! CREATE TABLE currencies (code CHAR(3) PRIMARY KEY, minor_units SMALLINT NOT NULL);
//! -- billing/migrations/0001_init.sql
//! CREATE TABLE currency_codes (iso CHAR(3) PRIMARY KEY, name TEXT NOT NULL);
//! ```
//! ```rust,ignore
//! // orders/src/money.rs
//! const SUPPORTED_CURRENCIES: &[&str] = &[
//!     "AUD", "BRL", "CAD", "CHF", "CNY", "EUR", "GBP", "JPY", "KRW", "MXN", "SEK", "USD",
//! ];
//!
//! fn minor_units(currency: &str) -> u32 {
//!     match currency {
//!         "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "VND" => 0,
//!         "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
//!         _ => 2,
//!     }
//! }
//! ```
//!
//! ## How to fix
//! Keep reference data in one place and let services read it from there. This repository's
//! reference-data service `refdata` serves countries (`GET /v1/countries`), currencies
//! (`GET /v1/currencies`), exchange rates (`GET /v1/exchange-rates`) and tax rates
//! (`GET /v1/tax-rates`) with ETags and cache headers; the `refdata-client` crate caches the
//! answers in process (`RefdataClient::currencies()`, `exchange_rates(..)`). For other kinds,
//! make one service the owner and have the others call it or keep a read-only cache fed by its
//! events. A service that only needs the codes as foreign keys can store the codes and drop
//! the table. Instead of a hard-coded code list, ask refdata whether a code exists
//! (`RefdataClient::currency("VES")`) or load the list at start-up and cache it; a service that
//! supports only some currencies keeps that short list in its configuration. If a copy is
//! deliberate, record it:
//! ```toml
//! [[allow]]
//! rule = "duplicated-reference-data"
//! service = "billing"
//! table = "currency_codes"
//! reason = "frozen copy for invoices issued before 2024, read-only"
//!
//! [[allow]]
//! rule = "duplicated-reference-data"
//! path = "orders/src/money.rs"
//! reason = "minor units of the currencies the card processor settles in, fixed by contract"
//! ```

use std::collections::{BTreeMap, BTreeSet};

use crate::config::Level;
use crate::model::{
    HardCodedReferenceList, IsoCodeList, ReferenceListShape, ServiceId, Span, TableName,
};
use crate::rules::{list_names, Confidence, Finding, Related, Rule, RuleContext};

pub struct DuplicatedReferenceData;

/// A kind of reference data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Country,
    Currency,
    ExchangeRate,
    TaxRate,
    ProductCategory,
    Language,
    TimeZone,
    UnitOfMeasure,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Country => "country",
            Kind::Currency => "currency",
            Kind::ExchangeRate => "exchange-rate",
            Kind::TaxRate => "tax-rate",
            Kind::ProductCategory => "product-category",
            Kind::Language => "language",
            Kind::TimeZone => "time-zone",
            Kind::UnitOfMeasure => "unit-of-measure",
        }
    }

    fn help(self) -> String {
        let served = match self {
            Kind::Country => Some(("countries", "/v1/countries", "countries(..)")),
            Kind::Currency => Some(("currencies", "/v1/currencies", "currencies()")),
            Kind::ExchangeRate => {
                Some(("exchange rates", "/v1/exchange-rates", "exchange_rates(..)"))
            }
            Kind::TaxRate => Some(("tax rates", "/v1/tax-rates", "tax_rates(..)")),
            _ => None,
        };
        match served {
            Some((what, path, method)) => format!(
                "read {what} from the reference-data service instead of keeping a copy: \
                 `GET {path}` on refdata, or `RefdataClient::{method}` from the caching \
                 `refdata-client` crate"
            ),
            None => format!(
                "keep {} data in one service and let the others read it through its API or a \
                 read-only cache fed by its events",
                self.noun()
            ),
        }
    }
}

/// Reference-data names, as words after the reference-style affixes are dropped.
const VOCABULARY: &[(&[&str], Kind)] = &[
    (&["country"], Kind::Country),
    (&["countries"], Kind::Country),
    (&["currency"], Kind::Currency),
    (&["currencies"], Kind::Currency),
    (&["exchange", "rate"], Kind::ExchangeRate),
    (&["exchange", "rates"], Kind::ExchangeRate),
    (&["fx", "rate"], Kind::ExchangeRate),
    (&["fx", "rates"], Kind::ExchangeRate),
    (&["currency", "rate"], Kind::ExchangeRate),
    (&["currency", "rates"], Kind::ExchangeRate),
    (&["currency", "exchange", "rate"], Kind::ExchangeRate),
    (&["currency", "exchange", "rates"], Kind::ExchangeRate),
    (&["conversion", "rate"], Kind::ExchangeRate),
    (&["conversion", "rates"], Kind::ExchangeRate),
    (&["forex", "rate"], Kind::ExchangeRate),
    (&["forex", "rates"], Kind::ExchangeRate),
    (&["tax", "rate"], Kind::TaxRate),
    (&["tax", "rates"], Kind::TaxRate),
    (&["vat", "rate"], Kind::TaxRate),
    (&["vat", "rates"], Kind::TaxRate),
    (&["sales", "tax", "rate"], Kind::TaxRate),
    (&["sales", "tax", "rates"], Kind::TaxRate),
    (&["gst", "rate"], Kind::TaxRate),
    (&["gst", "rates"], Kind::TaxRate),
    (&["category"], Kind::ProductCategory),
    (&["categories"], Kind::ProductCategory),
    (&["product", "category"], Kind::ProductCategory),
    (&["product", "categories"], Kind::ProductCategory),
    (&["language"], Kind::Language),
    (&["languages"], Kind::Language),
    (&["locale"], Kind::Language),
    (&["locales"], Kind::Language),
    (&["time", "zone"], Kind::TimeZone),
    (&["time", "zones"], Kind::TimeZone),
    (&["timezone"], Kind::TimeZone),
    (&["timezones"], Kind::TimeZone),
    (&["unit", "of", "measure"], Kind::UnitOfMeasure),
    (&["units", "of", "measure"], Kind::UnitOfMeasure),
    (&["unit", "of", "measurement"], Kind::UnitOfMeasure),
    (&["units", "of", "measurement"], Kind::UnitOfMeasure),
    (&["measurement", "units"], Kind::UnitOfMeasure),
    (&["uom"], Kind::UnitOfMeasure),
    (&["uoms"], Kind::UnitOfMeasure),
];

/// Words that mark a table as a reference list without changing what it lists.
const PREFIXES: &[&str] = &[
    "ref",
    "reference",
    "refdata",
    "iso",
    "lookup",
    "lkp",
    "dim",
    "master",
    "std",
    "standard",
    "static",
    "supported",
    "tbl",
];
const SUFFIXES: &[&str] = &[
    "codes", "code", "list", "lookup", "ref", "data", "master", "iso", "dim", "tbl",
];

/// The kind of reference data a table holds, judged by its name.
fn reference_kind(table: &TableName) -> Option<Kind> {
    let mut words: Vec<&str> = table
        .name
        .split(['_', '-', ' ', '.'])
        .filter(|w| !w.is_empty())
        .collect();
    while words.len() > 1 && PREFIXES.contains(&words[0]) {
        words.remove(0);
    }
    while words.len() > 1 && words.last().is_some_and(|w| SUFFIXES.contains(w)) {
        words.pop();
    }
    if let Some((_, kind)) = VOCABULARY
        .iter()
        .find(|(name, _)| *name == words.as_slice())
    {
        return Some(*kind);
    }
    // A quoted camel-case name (`"CountryCodes"`, `"ExchangeRates"`) is one word once lower-cased.
    match words.as_slice() {
        [word] => compact_kind(word),
        _ => None,
    }
}

/// The kind of a one-word name that runs the vocabulary's words together, with at most one
/// reference-style prefix and suffix (`isocurrencies`, `countrycodes`, `exchangerates`).
fn compact_kind(word: &str) -> Option<Kind> {
    let strip_prefix = |w: &str| -> Vec<String> {
        let mut out = vec![w.to_string()];
        out.extend(
            PREFIXES
                .iter()
                .filter_map(|p| w.strip_prefix(p))
                .filter(|rest| !rest.is_empty())
                .map(str::to_string),
        );
        out
    };
    let candidates = strip_prefix(word).into_iter().flat_map(|w| {
        let mut out = vec![w.clone()];
        out.extend(
            SUFFIXES
                .iter()
                .filter_map(|s| w.strip_suffix(s))
                .filter(|rest| !rest.is_empty())
                .map(str::to_string),
        );
        out
    });
    for candidate in candidates {
        if let Some((_, kind)) = VOCABULARY
            .iter()
            .find(|(name, _)| name.concat() == candidate)
        {
            return Some(*kind);
        }
    }
    None
}

/// A service named as the reference-data service (`refdata`, `reference-data-service`,
/// `masterdata`): its copy is the one the others should read.
fn is_reference_service(name: &str) -> bool {
    let joined: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    ["refdata", "referencedata", "masterdata"]
        .iter()
        .any(|n| joined.contains(n))
}

/// One copy of a kind of reference data: the tables one set of services creates at the same
/// sites (a service's own migrations, or one migration set several services run).
struct Copy {
    holders: BTreeSet<ServiceId>,
    tables: Vec<(TableName, Span)>,
}

impl Rule for DuplicatedReferenceData {
    fn id(&self) -> &'static str {
        "duplicated-reference-data"
    }

    fn summary(&self) -> &'static str {
        "two or more services keep their own tables of the same reference data (countries, currencies, rates, ...), or a service hard-codes ISO currency or country code lists"
    }

    fn source(&self) -> &'static str {
        include_str!("duplicated_reference_data.rs")
    }

    fn default_level(&self) -> Level {
        Level::Warn
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let model = cx.model;
        // Kind -> creation site -> (table, services creating it there).
        let mut sites: BTreeMap<Kind, BTreeMap<Span, (TableName, BTreeSet<ServiceId>)>> =
            BTreeMap::new();
        for owner in &model.table_owners {
            if cx.is_test(owner.span) {
                continue;
            }
            let Some(kind) = reference_kind(&owner.table) else {
                continue;
            };
            sites
                .entry(kind)
                .or_default()
                .entry(owner.span)
                .or_insert_with(|| (owner.table.clone(), BTreeSet::new()))
                .1
                .insert(owner.service);
        }
        for (kind, sites) in sites {
            // Sites with the same holders are one copy.
            let mut copies: BTreeMap<BTreeSet<ServiceId>, Vec<(TableName, Span)>> = BTreeMap::new();
            for (span, (table, holders)) in sites {
                copies.entry(holders).or_default().push((table, span));
            }
            let copies: Vec<Copy> = copies
                .into_iter()
                .map(|(holders, mut tables)| {
                    tables
                        .sort_by_key(|(_, span)| (model.file(span.file).path.clone(), span.start));
                    Copy { holders, tables }
                })
                .collect();
            for (index, copy) in copies.iter().enumerate() {
                if copy
                    .holders
                    .iter()
                    .all(|s| is_reference_service(cx.service_name(*s)))
                {
                    continue;
                }
                let others: Vec<&Copy> = copies
                    .iter()
                    .enumerate()
                    .filter(|(i, other)| {
                        *i != index && other.holders.iter().any(|s| !copy.holders.contains(s))
                    })
                    .map(|(_, other)| other)
                    .collect();
                if others.is_empty() {
                    continue;
                }
                out.push(self.finding(cx, kind, copy, &others));
            }
        }
        for list in &model.hard_coded_lists {
            if let Some(finding) = self.hard_coded_list_finding(cx, list) {
                out.push(finding);
            }
        }
    }
}

impl DuplicatedReferenceData {
    fn finding(&self, cx: &RuleContext<'_>, kind: Kind, copy: &Copy, others: &[&Copy]) -> Finding {
        let holder_names = list_names(copy.holders.iter().map(|s| cx.service_name(*s)));
        let (noun, keeps, their) = if copy.holders.len() == 1 {
            ("service", "keeps", "its")
        } else {
            ("services", "keep", "their")
        };
        let tables = table_list(copy.tables.iter().map(|(t, _)| t));
        let table_word = if copy.tables.len() == 1 {
            "table"
        } else {
            "tables"
        };

        // Every other service with its tables of this kind.
        let mut other_tables: BTreeMap<ServiceId, BTreeSet<&TableName>> = BTreeMap::new();
        for other in others {
            for service in other.holders.iter().filter(|s| !copy.holders.contains(s)) {
                other_tables
                    .entry(*service)
                    .or_default()
                    .extend(other.tables.iter().map(|(t, _)| t));
            }
        }
        let mut other_services: Vec<(&str, String)> = other_tables
            .iter()
            .map(|(s, tables)| (cx.service_name(*s), table_list(tables.iter().copied())))
            .collect();
        other_services.sort();
        let (reference, plain): (Vec<_>, Vec<_>) = other_services
            .iter()
            .partition(|(name, _)| is_reference_service(name));
        let mut also = String::new();
        if !plain.is_empty() {
            let (other_noun, does) = if plain.len() == 1 {
                ("service", "does")
            } else {
                ("services", "do")
            };
            let described = join_and(
                plain
                    .iter()
                    .map(|(name, tables)| format!("`{name}` ({tables})")),
            );
            also.push_str(&format!(", as {does} {other_noun} {described}"));
        }
        if !reference.is_empty() {
            let (other_noun, holds) = if reference.len() == 1 {
                ("the reference-data service", "holds")
            } else {
                ("the reference-data services", "hold")
            };
            let described = join_and(
                reference
                    .iter()
                    .map(|(name, tables)| format!("`{name}` ({tables})")),
            );
            also.push_str(&format!("; {other_noun} {described} {holds} it already"));
        }

        let related = others
            .iter()
            .map(|other| {
                let names: Vec<&str> = other.holders.iter().map(|s| cx.service_name(*s)).collect();
                let verb = if names.len() == 1 {
                    "creates"
                } else {
                    "create"
                };
                let (table, span) = &other.tables[0];
                Related {
                    span: *span,
                    label: format!("{} {verb} `{table}` here", list_names(names)),
                }
            })
            .collect();

        let mut services: Vec<String> = copy
            .holders
            .iter()
            .map(|s| cx.service_name(*s).to_string())
            .collect();
        services.extend(other_services.iter().map(|(name, _)| name.to_string()));
        let (first_table, span) = &copy.tables[0];
        Finding {
            confidence: Confidence::High,
            rule: self.id(),
            level: self.default_level(),
            message: format!(
                "{noun} {holder_names} {keeps} {their} own copy of {} reference data ({table_word} {tables}){also}",
                kind.noun()
            ),
            span: *span,
            label: format!("{} data kept here", kind.noun()),
            help: kind.help(),
            related,
            services,
            table: Some(first_table.to_string()),
            database: None,
        }
    }
}

impl DuplicatedReferenceData {
    /// A code list in the code of a service other than the reference-data service.
    fn hard_coded_list_finding(
        &self,
        cx: &RuleContext<'_>,
        list: &HardCodedReferenceList,
    ) -> Option<Finding> {
        if cx.is_test(list.span) || is_reference_service(&cx.model.krate(list.crate_id).name) {
            return None;
        }
        let services: Vec<&str> = cx
            .services_of_crate(list.crate_id)
            .map(|s| s.name.as_str())
            .filter(|name| !is_reference_service(name))
            .collect();
        if services.is_empty() {
            return None;
        }
        let (kind, codes) = match list.kind {
            IsoCodeList::Currency => (Kind::Currency, "ISO 4217 currency codes"),
            IsoCodeList::CountryAlpha2 => (Kind::Country, "ISO 3166-1 alpha-2 country codes"),
            IsoCodeList::CountryAlpha3 => (Kind::Country, "ISO 3166-1 alpha-3 country codes"),
        };
        let written = match list.shape {
            ReferenceListShape::List => "in a list",
            ReferenceListShape::Table => "as the keys of a table",
            ReferenceListShape::Match => "in `match` patterns",
            ReferenceListShape::Enum => "as enum variants",
        };
        let (noun, verb) = if services.len() == 1 {
            ("service", "hard-codes")
        } else {
            ("services", "hard-code")
        };
        let mut sample: Vec<String> = list.sample.iter().map(|c| format!("`{c}`")).collect();
        if list.codes > list.sample.len() {
            sample.push("...".into());
        }
        let sample = sample.join(", ");
        Some(Finding {
            confidence: Confidence::High,
            rule: self.id(),
            level: self.default_level(),
            message: format!(
                "{noun} {} {verb} {} {codes} {written} ({sample})",
                list_names(services.iter().copied()),
                list.codes
            ),
            span: list.span,
            label: format!("{} codes copied here", kind.noun()),
            help: kind.help(),
            related: Vec::new(),
            services: services.iter().map(|s| s.to_string()).collect(),
            table: None,
            database: None,
        })
    }
}

/// "`a`", "`a` and `b`", "`a`, `b` and `c`" for table names.
fn table_list<'a>(tables: impl IntoIterator<Item = &'a TableName>) -> String {
    let names: Vec<String> = tables.into_iter().map(ToString::to_string).collect();
    list_names(names.iter().map(String::as_str))
}

/// "a", "a and b", "a, b and c".
fn join_and(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
