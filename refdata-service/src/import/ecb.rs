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

/// Parses an ECB file in either format: the XML of `eurofxref-daily.xml` or
/// `eurofxref-hist.xml` (`<Cube time="..."><Cube currency="USD" rate="1.0956"/>...`), or the
/// CSV layout [`parse`] reads.
pub fn parse_any(text: &str) -> Result<EcbTable, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('<') {
        parse_xml(text)
    } else {
        parse(text)
    }
}

/// Parses the ECB's XML layout.
pub fn parse_xml(text: &str) -> Result<EcbTable, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut days: std::collections::BTreeMap<NaiveDate, Vec<(String, Decimal)>> =
        std::collections::BTreeMap::new();
    let mut day: Option<NaiveDate> = None;
    loop {
        let event = reader.read_event().map_err(|error| {
            format!("malformed XML at byte {}: {error}", reader.error_position())
        })?;
        let element = match &event {
            Event::Start(e) | Event::Empty(e) => e,
            Event::Eof => break,
            _ => continue,
        };
        if element.local_name().as_ref() != b"Cube" {
            continue;
        }
        let mut time = None;
        let mut currency = None;
        let mut rate = None;
        for attribute in element.attributes() {
            let attribute = attribute.map_err(|error| format!("malformed attribute: {error}"))?;
            let value = attribute
                .unescape_value()
                .map_err(|error| format!("malformed attribute: {error}"))?
                .into_owned();
            match attribute.key.as_ref() {
                b"time" => time = Some(value),
                b"currency" => currency = Some(value),
                b"rate" => rate = Some(value),
                _ => {}
            }
        }
        if let Some(time) = time {
            let date = NaiveDate::parse_from_str(&time, "%Y-%m-%d")
                .map_err(|_| format!("time {time:?} is not a YYYY-MM-DD date"))?;
            if days.insert(date, Vec::new()).is_some() {
                return Err(format!("{date} appears more than once"));
            }
            day = Some(date);
        } else if let (Some(code), Some(rate)) = (currency, rate) {
            let date = day.ok_or("a rate outside a dated Cube")?;
            if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(format!("{date}: {code:?} is not a currency code"));
            }
            let value = rate
                .parse::<Decimal>()
                .ok()
                .filter(|r| *r > Decimal::ZERO)
                .ok_or_else(|| format!("{date}: {code} rate {rate:?} is not a positive decimal"))?;
            if let Some(rates) = days.get_mut(&date) {
                rates.push((code, value.normalize()));
            }
        }
    }
    if let Some((date, _)) = days.iter().find(|(_, rates)| rates.is_empty()) {
        return Err(format!("{date}: no rates"));
    }
    let mut currencies: Vec<String> = Vec::new();
    for rates in days.values() {
        for (code, _) in rates {
            if !currencies.contains(code) {
                currencies.push(code.clone());
            }
        }
    }
    let rows: Vec<(NaiveDate, Vec<Option<Decimal>>)> = days
        .into_iter()
        .map(|(date, rates)| {
            let values = currencies
                .iter()
                .map(|code| rates.iter().find(|(c, _)| c == code).map(|(_, r)| *r))
                .collect();
            (date, values)
        })
        .collect();
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
    fn reads_the_xml_layout() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
<gesmes:subject>Reference rates</gesmes:subject>
<Cube><Cube time="2024-01-03"><Cube currency="USD" rate="1.0919"/><Cube currency="JPY" rate="155.52"/></Cube>
<Cube time="2024-01-02"><Cube currency="USD" rate="1.0956"/></Cube></Cube></gesmes:Envelope>"#;
        let table = parse_any(xml).unwrap();
        assert_eq!(
            to_snapshot_csv(&table),
            "date,USD,JPY\n2024-01-02,1.0956,\n2024-01-03,1.0919,155.52\n"
        );
        assert!(parse_any(
            "<Cube><Cube time=\"2024-01-02\"><Cube currency=\"USD\" rate=\"-1\"/></Cube></Cube>"
        )
        .is_err());
        assert!(parse_any("<Cube><Cube time=\"2024-01-02\">").is_err());
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
