//! Calendar dates (`YYYY-MM-DD`, proleptic Gregorian), for the `expires` of `[[allow]]`
//! exceptions. Today is the date in UTC.

use std::fmt;

/// A calendar date; ordered by time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

impl Date {
    /// The date, if it exists (`2027-02-29` does not).
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        let valid = (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
    }

    /// Today's date in UTC, from the system clock.
    pub fn today() -> Date {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date::from_days_since_epoch((seconds / 86_400) as i64)
    }

    /// The date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
    pub fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Why a text is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a date: write it as YYYY-MM-DD, e.g. 2027-03-31")]
pub struct DateError(pub String);

impl std::str::FromStr for Date {
    type Err = DateError;

    /// Exactly `YYYY-MM-DD`, a date that exists.
    fn from_str(text: &str) -> Result<Date, DateError> {
        let error = || DateError(text.to_string());
        let bytes = text.as_bytes();
        let digits = |range: std::ops::Range<usize>| {
            bytes
                .get(range.clone())
                .filter(|part| part.iter().all(u8::is_ascii_digit))
                .and_then(|_| text.get(range))
        };
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(error());
        }
        let year = digits(0..4)
            .and_then(|y| y.parse().ok())
            .ok_or_else(error)?;
        let month = digits(5..7)
            .and_then(|m| m.parse().ok())
            .ok_or_else(error)?;
        let day = digits(8..10)
            .and_then(|d| d.parse().ok())
            .ok_or_else(error)?;
        Date::new(year, month, day).ok_or_else(error)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_real_dates_only() {
        let date: Date = "2027-03-31".parse().expect("a date");
        assert_eq!(date.to_string(), "2027-03-31");
        assert!("2028-02-29".parse::<Date>().is_ok());
        for bad in [
            "2027-02-29",
            "2027-13-01",
            "2027-04-31",
            "2027-3-31",
            "31.03.2027",
            "2027-03-31T00:00",
            "",
            "２０２７-03-31",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad}");
        }
    }

    #[test]
    fn days_since_the_epoch_are_civil_dates() {
        assert_eq!(Date::from_days_since_epoch(0).to_string(), "1970-01-01");
        assert_eq!(
            Date::from_days_since_epoch(11_016).to_string(),
            "2000-02-29"
        );
        assert_eq!(
            Date::from_days_since_epoch(20_543).to_string(),
            "2026-03-31"
        );
        assert_eq!(Date::from_days_since_epoch(-1).to_string(), "1969-12-31");
        assert!(Date::today() > Date::new(2024, 1, 1).expect("date"));
    }
}
