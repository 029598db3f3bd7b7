//! Reading the ECB reference-rate files (`eurofxref-hist.zip`/`.csv`, or the daily file) and
//! writing the snapshot table.

use std::io::Read;
use std::path::Path;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::ImportError;

/// The rates as read from an ECB file, ascending by date.
#[derive(Debug)]
pub struct EcbTable {
    pub currencies: Vec<String>,
    pub rows: Vec<(NaiveDate, Vec<Option<Decimal>>)>,
}

/// Reads a zip (first `.csv` member) or a CSV file.
pub fn read(path: &Path) -> Result<EcbTable, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Read {
        path: path.to_owned(),
        source,
    })?;
    let invalid = |message: String| ImportError::Invalid {
        path: path.to_owned(),
        message,
    };
    let text = if bytes.starts_with(b"PK\x03\x04") {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
            .map_err(|error| invalid(format!("not a readable zip archive: {error}")))?;
        let name = archive
            .file_names()
            .find(|name| name.ends_with(".csv"))
            .map(str::to_owned)
            .ok_or_else(|| invalid("the archive holds no .csv file".into()))?;
        let mut text = String::new();
        archive
            .by_name(&name)
            .map_err(|error| invalid(format!("{name}: {error}")))?
            .read_to_string(&mut text)
            .map_err(|error| invalid(format!("{name}: {error}")))?;
        text
    } else {
        String::from_utf8(bytes).map_err(|_| invalid("not UTF-8 text".into()))?
    };
    parse(&text).map_err(invalid)
}

/// Parses the ECB layout: header `Date,USD,...` (possibly with a trailing separator and spaces
/// after commas), dates as `2024-01-02` or `2 January 2024`, `N/A` for "not quoted".
pub fn parse(text: &str) -> Result<EcbTable, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty());
    let (_, header) = lines.next().ok_or("empty file")?;
    let mut columns: Vec<&str> = header.split(',').map(str::trim).collect();
    if columns.last() == Some(&"") {
        columns.pop();
    }
    if columns.first().map(|c| c.eq_ignore_ascii_case("date")) != Some(true) {
        return Err("line 1: header must start with `Date`".into());
    }
    let currencies: Vec<String> = columns[1..].iter().map(|c| (*c).to_owned()).collect();
    if let Some(bad) = currencies
        .iter()
        .find(|code| code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()))
    {
        return Err(format!("line 1: {bad:?} is not a currency code"));
    }
    let mut rows = Vec::new();
    for (index, line) in lines {
        let line_number = index + 1;
        let mut cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() == currencies.len() + 2 && cells.last() == Some(&"") {
            cells.pop();
        }
        if cells.len() != currencies.len() + 1 {
            return Err(format!(
                "line {line_number}: {} cells, expected {}",
                cells.len(),
                currencies.len() + 1
            ));
        }
        let date = NaiveDate::parse_from_str(cells[0], "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(cells[0], "%d %B %Y"))
            .map_err(|_| format!("line {line_number}: {:?} is not a date", cells[0]))?;
        let values = cells[1..]
            .iter()
            .zip(&currencies)
            .map(|(cell, code)| match *cell {
                "N/A" | "" => Ok(None),
                text => match text.parse::<Decimal>() {
                    Ok(rate) if rate > Decimal::ZERO => Ok(Some(rate.normalize())),
                    _ => Err(format!(
                        "line {line_number}: {code} rate {text:?} is not a positive decimal"
                    )),
                },
            })
            .collect::<Result<Vec<_>, _>>()?;
        rows.push((date, values));
    }
    rows.sort_by_key(|(date, _)| *date);
    if let Some(pair) = rows.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(format!("{} appears more than once", pair[0].0));
    }
    if rows.is_empty() {
        return Err("no rates".into());
    }
    Ok(EcbTable { currencies, rows })
}

/// The snapshot layout read by [`crate::domain::rates::ExchangeRates::from_snapshot_csv`].
pub fn to_snapshot_csv(table: &EcbTable) -> String {
    let mut out = String::with_capacity(table.rows.len() * table.currencies.len() * 8);
    out.push_str("date");
    for code in &table.currencies {
        out.push(',');
        out.push_str(code);
    }
    out.push('\n');
    for (date, values) in &table.rows {
        out.push_str(&date.format("%Y-%m-%d").to_string());
        for value in values {
            out.push(',');
            if let Some(rate) = value {
                out.push_str(&rate.to_string());
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_history_and_daily_layouts() {
        let hist =
            parse("Date,USD,CYP,\n2024-01-03,1.0919,N/A,\n2024-01-02,1.0956,N/A,\n").unwrap();
        assert_eq!(hist.currencies, vec!["USD", "CYP"]);
        assert_eq!(hist.rows[0].0.to_string(), "2024-01-02");
        assert_eq!(
            to_snapshot_csv(&hist),
            "date,USD,CYP\n2024-01-02,1.0956,\n2024-01-03,1.0919,\n"
        );
        let daily = parse("Date, USD, GBP, \n30 October 2026, 1.1172, 0.83380, \n").unwrap();
        assert_eq!(
            to_snapshot_csv(&daily),
            "date,USD,GBP\n2026-10-30,1.1172,0.8338\n"
        );
    }

    #[test]
    fn rejects_malformed_rows_with_line_numbers() {
        assert_eq!(
            parse("Date,USD\n2024-01-02,abc\n").unwrap_err(),
            "line 2: USD rate \"abc\" is not a positive decimal"
        );
        assert_eq!(
            parse("Date,USD\n2024-01-02,1,2,3\n").unwrap_err(),
            "line 2: 4 cells, expected 2"
        );
        assert!(parse("Date,USD\n2024-13-02,1\n")
            .unwrap_err()
            .contains("not a date"));
        assert!(parse("Date,USD\n2024-01-02,-1\n").is_err());
        assert!(parse("Date,USD\n2024-01-02,1\n2024-01-02,1\n")
            .unwrap_err()
            .contains("more than once"));
        assert!(parse("Rate,USD\n").is_err());
        assert!(parse("Date,usd\n").is_err());
    }
}
