//! ECB euro reference rates: the daily table, "as of" look-ups, cross rates and conversion.
//!
//! Rounding rule (documented in the README and the OpenAPI description):
//! - Rates against the euro are the ECB figures exactly as published.
//! - A cross rate `base -> quote` is `eur_quote / eur_base`, computed with 28 significant
//!   digits, and shown rounded half-to-even to [`CROSS_RATE_SIGNIFICANT_DIGITS`] significant
//!   digits (the ECB publishes 5).
//! - A conversion is `amount * eur_to / eur_from` at full precision (the shown rate is not
//!   reused), rounded half-to-even to the minor units of the target currency (6 decimal places
//!   if the target has none).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use thiserror::Error;

/// Significant digits of a displayed cross rate.
pub const CROSS_RATE_SIGNIFICANT_DIGITS: u32 = 6;
/// Decimal places of a conversion result whose target currency has no minor units.
pub const FALLBACK_RESULT_DECIMALS: u32 = 6;
/// The euro, the ECB's base currency.
pub const EURO: &str = "EUR";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RateError {
    #[error("the exchange-rate table is malformed: {0}")]
    Malformed(String),
    #[error("{code} has no ECB reference rate")]
    NotAnEcbCurrency { code: String },
    #[error("no ECB reference rates before {first}; {requested} is before the first publication")]
    BeforeFirstPublication {
        requested: NaiveDate,
        first: NaiveDate,
    },
    #[error("the ECB did not quote {code} on {date}")]
    NotQuoted { code: String, date: NaiveDate },
    #[error("the ECB did not quote {code} between {start} and {end}")]
    NotQuotedInRange {
        code: String,
        start: NaiveDate,
        end: NaiveDate,
    },
    #[error("start date {start} is after end date {end}")]
    InvertedRange { start: NaiveDate, end: NaiveDate },
    #[error("converting {amount} from {from} to {to} overflows the decimal range")]
    Overflow {
        amount: Decimal,
        from: String,
        to: String,
    },
}

/// The full daily history: one row per publication date, one column per quoted currency.
#[derive(Debug, Clone)]
pub struct ExchangeRates {
    currencies: Vec<String>,
    dates: Vec<NaiveDate>,
    /// Row-major, `dates.len() * currencies.len()`; `None` where the ECB did not quote.
    values: Vec<Option<Decimal>>,
}

/// Rates of one publication in one base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub base: String,
    /// The publication date actually used.
    pub date: NaiveDate,
    pub rates: BTreeMap<String, Decimal>,
}

/// A converted amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    pub from: String,
    pub to: String,
    pub amount: Decimal,
    pub date: NaiveDate,
    pub rate: Decimal,
    pub result: Decimal,
}

impl ExchangeRates {
    /// Builds a table; dates must be strictly ascending and every row as wide as `currencies`.
    pub fn new(
        currencies: Vec<String>,
        dates: Vec<NaiveDate>,
        values: Vec<Option<Decimal>>,
    ) -> Result<Self, RateError> {
        if values.len() != dates.len() * currencies.len() {
            return Err(RateError::Malformed(format!(
                "{} values for {} dates and {} currencies",
                values.len(),
                dates.len(),
                currencies.len()
            )));
        }
        if let Some(pair) = dates.windows(2).find(|pair| pair[0] >= pair[1]) {
            return Err(RateError::Malformed(format!(
                "dates not strictly ascending at {}",
                pair[1]
            )));
        }
        if dates.is_empty() {
            return Err(RateError::Malformed("no publication dates".into()));
        }
        if values.iter().flatten().any(|rate| *rate <= Decimal::ZERO) {
            return Err(RateError::Malformed("rates must be positive".into()));
        }
        Ok(Self {
            currencies,
            dates,
            values,
        })
    }

    /// Parses the snapshot layout: header `date,CUR,...`, ascending ISO dates, empty cells
    /// where a currency was not quoted.
    pub fn from_snapshot_csv(text: &str) -> Result<Self, RateError> {
        let mut lines = text.lines();
        let header = lines
            .next()
            .ok_or_else(|| RateError::Malformed("empty file".into()))?;
        let mut columns = header.split(',');
        if columns.next() != Some("date") {
            return Err(RateError::Malformed("header must start with `date`".into()));
        }
        let currencies: Vec<String> = columns.map(str::to_owned).collect();
        let mut dates = Vec::with_capacity(8192);
        let mut values = Vec::with_capacity(8192 * currencies.len());
        for (index, line) in lines.enumerate() {
            let line_number = index + 2;
            let mut cells = line.split(',');
            let date = cells
                .next()
                .and_then(|cell| NaiveDate::parse_from_str(cell, "%Y-%m-%d").ok())
                .ok_or_else(|| RateError::Malformed(format!("line {line_number}: bad date")))?;
            dates.push(date);
            let mut width = 0;
            for cell in cells {
                width += 1;
                values.push(if cell.is_empty() {
                    None
                } else {
                    match cell.parse::<Decimal>() {
                        Ok(rate) if rate > Decimal::ZERO => Some(rate),
                        _ => {
                            return Err(RateError::Malformed(format!(
                                "line {line_number}: {cell:?} is not a positive decimal"
                            )))
                        }
                    }
                });
            }
            if width != currencies.len() {
                return Err(RateError::Malformed(format!(
                    "line {line_number}: {width} rates for {} currencies",
                    currencies.len()
                )));
            }
        }
        Self::new(currencies, dates, values)
    }

    /// Currencies with at least one quote, in column order (the euro is not a column).
    pub fn currencies(&self) -> &[String] {
        &self.currencies
    }

    pub fn first_date(&self) -> NaiveDate {
        self.dates[0]
    }

    pub fn last_date(&self) -> NaiveDate {
        self.dates[self.dates.len() - 1]
    }

    pub fn publication_count(&self) -> usize {
        self.dates.len()
    }

    /// Whether `code` can be used as a base or target (quoted at least once, or the euro).
    pub fn is_quoted_currency(&self, code: &str) -> bool {
        code == EURO || self.column(code).is_some()
    }

    fn column(&self, code: &str) -> Option<usize> {
        self.currencies.iter().position(|c| c == code)
    }

    /// Index of the last publication on or before `date`.
    fn row_as_of(&self, date: NaiveDate) -> Result<usize, RateError> {
        let after = self.dates.partition_point(|published| *published <= date);
        after
            .checked_sub(1)
            .ok_or(RateError::BeforeFirstPublication {
                requested: date,
                first: self.first_date(),
            })
    }

    /// The publication date used for a look-up "as of" `date`.
    pub fn publication_as_of(&self, date: NaiveDate) -> Result<NaiveDate, RateError> {
        self.row_as_of(date).map(|row| self.dates[row])
    }

    /// Euro rate of `code` on row `row`; the euro itself is 1.
    fn euro_rate(&self, row: usize, code: &str) -> Result<Decimal, RateError> {
        if code == EURO {
            return Ok(Decimal::ONE);
        }
        let column = self
            .column(code)
            .ok_or_else(|| RateError::NotAnEcbCurrency { code: code.into() })?;
        self.values[row * self.currencies.len() + column].ok_or_else(|| RateError::NotQuoted {
            code: code.into(),
            date: self.dates[row],
        })
    }

    /// Rates in `base` of the last publication on or before `date`. With `symbols` empty,
    /// every currency quoted that day is returned (the euro included when it is not the base).
    pub fn quote(
        &self,
        base: &str,
        date: NaiveDate,
        symbols: &[String],
    ) -> Result<Quote, RateError> {
        self.validate_codes(base, symbols)?;
        let row = self.row_as_of(date)?;
        self.quote_row(base, row, symbols)
    }

    fn validate_codes(&self, base: &str, symbols: &[String]) -> Result<(), RateError> {
        for code in std::iter::once(base).chain(symbols.iter().map(String::as_str)) {
            if !self.is_quoted_currency(code) {
                return Err(RateError::NotAnEcbCurrency { code: code.into() });
            }
        }
        Ok(())
    }

    fn quote_row(&self, base: &str, row: usize, symbols: &[String]) -> Result<Quote, RateError> {
        let base_rate = self.euro_rate(row, base)?;
        let mut rates = BTreeMap::new();
        if symbols.is_empty() {
            let quoted = std::iter::once(EURO).chain(self.currencies.iter().map(String::as_str));
            for code in quoted.filter(|code| *code != base) {
                if let Ok(rate) = self.euro_rate(row, code) {
                    rates.insert(code.to_owned(), display_rate(base, base_rate, rate));
                }
            }
        } else {
            for code in symbols {
                let rate = self.euro_rate(row, code)?;
                rates.insert(code.clone(), display_rate(base, base_rate, rate));
            }
        }
        Ok(Quote {
            base: base.to_owned(),
            date: self.dates[row],
            rates,
        })
    }

    /// One quote per publication date in `start..=end`. A currency (or base) that was not
    /// quoted on some of those dates is left out of them, so a range may span the day a
    /// currency joined or left the ECB's list; it is an error only if it was quoted on none.
    pub fn series(
        &self,
        base: &str,
        start: NaiveDate,
        end: NaiveDate,
        symbols: &[String],
    ) -> Result<Vec<Quote>, RateError> {
        if start > end {
            return Err(RateError::InvertedRange { start, end });
        }
        self.validate_codes(base, symbols)?;
        if end < self.first_date() {
            return Err(RateError::BeforeFirstPublication {
                requested: end,
                first: self.first_date(),
            });
        }
        let from = self.dates.partition_point(|published| *published < start);
        let to = self.dates.partition_point(|published| *published <= end);
        let mut quotes = Vec::with_capacity(to - from);
        for row in from..to {
            let Ok(base_rate) = self.euro_rate(row, base) else {
                continue;
            };
            let mut rates = BTreeMap::new();
            let codes: Box<dyn Iterator<Item = &str>> = if symbols.is_empty() {
                Box::new(
                    std::iter::once(EURO)
                        .chain(self.currencies.iter().map(String::as_str))
                        .filter(|code| *code != base),
                )
            } else {
                Box::new(symbols.iter().map(String::as_str))
            };
            for code in codes {
                if let Ok(rate) = self.euro_rate(row, code) {
                    rates.insert(code.to_owned(), display_rate(base, base_rate, rate));
                }
            }
            quotes.push(Quote {
                base: base.to_owned(),
                date: self.dates[row],
                rates,
            });
        }
        let not_quoted = |code: &str| RateError::NotQuotedInRange {
            code: code.to_owned(),
            start,
            end,
        };
        if from < to && quotes.is_empty() {
            return Err(not_quoted(base));
        }
        if let Some(missing) = symbols
            .iter()
            .find(|code| from < to && !quotes.iter().any(|q| q.rates.contains_key(*code)))
        {
            return Err(not_quoted(missing));
        }
        Ok(quotes)
    }

    /// Converts `amount` of `from` into `to` with the rates as of `date`; see the module
    /// documentation for rounding. `target_minor_units` is that of `to`.
    pub fn convert(
        &self,
        from: &str,
        to: &str,
        amount: Decimal,
        date: NaiveDate,
        target_minor_units: Option<u8>,
    ) -> Result<Conversion, RateError> {
        self.validate_codes(from, &[to.to_owned()])?;
        let row = self.row_as_of(date)?;
        let from_rate = self.euro_rate(row, from)?;
        let to_rate = self.euro_rate(row, to)?;
        let overflow = || RateError::Overflow {
            amount,
            from: from.into(),
            to: to.into(),
        };
        let exact = amount
            .checked_mul(to_rate)
            .and_then(|product| product.checked_div(from_rate))
            .ok_or_else(overflow)?;
        let decimals = target_minor_units.map_or(FALLBACK_RESULT_DECIMALS, u32::from);
        let mut result =
            exact.round_dp_with_strategy(decimals, RoundingStrategy::MidpointNearestEven);
        result.rescale(decimals);
        Ok(Conversion {
            from: from.to_owned(),
            to: to.to_owned(),
            amount,
            date: self.dates[row],
            rate: display_rate(from, from_rate, to_rate),
            result,
        })
    }
}

/// The rate shown for `base -> quote` given both euro rates: exact ECB figures against the
/// euro, cross rates rounded to [`CROSS_RATE_SIGNIFICANT_DIGITS`] significant digits.
fn display_rate(base: &str, base_rate: Decimal, quote_rate: Decimal) -> Decimal {
    if base == EURO {
        return quote_rate.normalize();
    }
    cross_rate(base_rate, quote_rate)
}

/// `quote_rate / base_rate` rounded half-to-even to [`CROSS_RATE_SIGNIFICANT_DIGITS`]
/// significant digits, trailing zeros removed.
pub fn cross_rate(base_rate: Decimal, quote_rate: Decimal) -> Decimal {
    let exact = quote_rate / base_rate;
    exact
        .round_sf_with_strategy(
            CROSS_RATE_SIGNIFICANT_DIGITS,
            RoundingStrategy::MidpointNearestEven,
        )
        .unwrap_or(exact)
        .normalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn table() -> ExchangeRates {
        ExchangeRates::from_snapshot_csv(
            "date,USD,JPY,CYP\n\
             1999-01-04,1.1789,133.73,0.58231\n\
             2024-01-02,1.0956,155.68,\n\
             2024-01-05,1.0921,158.96,\n",
        )
        .unwrap()
    }

    #[test]
    fn as_of_uses_last_publication_on_or_before() {
        let rates = table();
        assert_eq!(
            rates.publication_as_of(day("2024-01-02")),
            Ok(day("2024-01-02"))
        );
        assert_eq!(
            rates.publication_as_of(day("2024-01-04")),
            Ok(day("2024-01-02"))
        );
        assert_eq!(
            rates.publication_as_of(day("2030-01-01")),
            Ok(day("2024-01-05"))
        );
        assert_eq!(
            rates.publication_as_of(day("1999-01-03")),
            Err(RateError::BeforeFirstPublication {
                requested: day("1999-01-03"),
                first: day("1999-01-04")
            })
        );
    }

    #[test]
    fn euro_base_returns_published_figures() {
        let quote = table().quote("EUR", day("2024-01-03"), &[]).unwrap();
        assert_eq!(quote.date, day("2024-01-02"));
        assert_eq!(quote.rates.len(), 2, "CYP was not quoted that day");
        assert_eq!(quote.rates["USD"].to_string(), "1.0956");
        assert_eq!(quote.rates["JPY"].to_string(), "155.68");
    }

    #[test]
    fn cross_rates_have_six_significant_digits() {
        let quote = table()
            .quote("USD", day("2024-01-02"), &["JPY".into(), "EUR".into()])
            .unwrap();
        // 155.68 / 1.0956 = 142.0956553...; 1 / 1.0956 = 0.91274187...
        assert_eq!(quote.rates["JPY"].to_string(), "142.096");
        assert_eq!(quote.rates["EUR"].to_string(), "0.912742");
    }

    #[test]
    fn cross_rate_rounds_half_to_even() {
        assert_eq!(cross_rate(d("1"), d("1.234565")).to_string(), "1.23456");
        assert_eq!(cross_rate(d("1"), d("1.234575")).to_string(), "1.23458");
        assert_eq!(cross_rate(d("2"), d("2")).to_string(), "1");
    }

    #[test]
    fn conversion_rounds_to_target_minor_units() {
        let rates = table();
        // 12.34 * 155.68 / 1.0956 = 1753.46...
        let jpy = rates
            .convert("USD", "JPY", d("12.34"), day("2024-01-02"), Some(0))
            .unwrap();
        assert_eq!(jpy.result.to_string(), "1753");
        assert_eq!(jpy.rate.to_string(), "142.096");
        // 100 / 1.0956 = 91.2741876...
        let eur = rates
            .convert("USD", "EUR", d("100"), day("2024-01-02"), Some(2))
            .unwrap();
        assert_eq!(eur.result.to_string(), "91.27");
        // 5 * 1.0956 = 5.478 -> 5.48; trailing zeros are kept to the minor units: 5.00
        let usd = rates
            .convert("EUR", "USD", d("5"), day("2024-01-02"), Some(2))
            .unwrap();
        assert_eq!(usd.result.to_string(), "5.48");
        let same = rates
            .convert("EUR", "EUR", d("5"), day("2024-01-02"), Some(2))
            .unwrap();
        assert_eq!(same.result.to_string(), "5.00");
    }

    #[test]
    fn conversion_half_to_even_on_exact_midpoint() {
        let rates = ExchangeRates::from_snapshot_csv("date,USD\n2024-01-02,2\n").unwrap();
        // 1.25 / 2 = 0.625 -> 0.62 (even digit kept), 1.75 / 2 = 0.875 -> 0.88
        let down = rates
            .convert("USD", "EUR", d("1.25"), day("2024-01-02"), Some(2))
            .unwrap();
        assert_eq!(down.result.to_string(), "0.62");
        let up = rates
            .convert("USD", "EUR", d("1.75"), day("2024-01-02"), Some(2))
            .unwrap();
        assert_eq!(up.result.to_string(), "0.88");
    }

    #[test]
    fn errors_name_the_problem() {
        let rates = table();
        assert_eq!(
            rates.quote("EUR", day("2024-01-02"), &["CYP".into()]),
            Err(RateError::NotQuoted {
                code: "CYP".into(),
                date: day("2024-01-02")
            })
        );
        assert_eq!(
            rates.quote("XAU", day("2024-01-02"), &[]),
            Err(RateError::NotAnEcbCurrency { code: "XAU".into() })
        );
        assert!(matches!(
            rates.series("EUR", day("2024-01-05"), day("2024-01-02"), &[]),
            Err(RateError::InvertedRange { .. })
        ));
        assert!(matches!(
            rates.convert("USD", "JPY", Decimal::MAX, day("2024-01-02"), Some(0)),
            Err(RateError::Overflow { .. })
        ));
    }

    #[test]
    fn series_covers_publications_in_range() {
        let series = table()
            .series("EUR", day("2024-01-01"), day("2024-01-31"), &["USD".into()])
            .unwrap();
        let dates: Vec<_> = series.iter().map(|quote| quote.date).collect();
        assert_eq!(dates, vec![day("2024-01-02"), day("2024-01-05")]);
        assert_eq!(series[1].rates["USD"].to_string(), "1.0921");
    }

    #[test]
    fn series_spans_a_currency_leaving_the_list() {
        let rates = table();
        let series = rates
            .series(
                "EUR",
                day("1999-01-01"),
                day("2024-01-03"),
                &["CYP".into(), "USD".into()],
            )
            .unwrap();
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].rates.len(), 2);
        assert_eq!(series[1].rates.keys().collect::<Vec<_>>(), ["USD"]);
        let in_cyp = rates
            .series("CYP", day("1999-01-01"), day("2024-01-31"), &["USD".into()])
            .unwrap();
        assert_eq!(in_cyp.len(), 1, "dates without the base are left out");
        assert_eq!(
            rates.series("EUR", day("2024-01-01"), day("2024-01-31"), &["CYP".into()]),
            Err(RateError::NotQuotedInRange {
                code: "CYP".into(),
                start: day("2024-01-01"),
                end: day("2024-01-31")
            })
        );
    }

    #[test]
    fn rejects_malformed_tables() {
        assert!(ExchangeRates::from_snapshot_csv("date,USD\n2024-01-02,abc\n").is_err());
        assert!(ExchangeRates::from_snapshot_csv("date,USD\n2024-01-02,0\n").is_err());
        assert!(ExchangeRates::from_snapshot_csv("date,USD\n2024-01-02,1,2\n").is_err());
        assert!(
            ExchangeRates::from_snapshot_csv("date,USD\n2024-01-03,1\n2024-01-02,1\n").is_err()
        );
        assert!(ExchangeRates::from_snapshot_csv("date,USD\n").is_err());
    }
}
