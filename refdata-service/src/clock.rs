//! The service's notion of "now", injectable so tests can cross midnight or a scheduled change,
//! and the moments at which time-dependent answers change.

use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc, Weekday};

/// A source of the current time.
pub trait Clock: Send + Sync + Debug {
    fn now(&self) -> SystemTime;

    /// Today's date in UTC.
    fn today(&self) -> NaiveDate {
        DateTime::<Utc>::from(self.now()).date_naive()
    }
}

/// Shared handle on a clock.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to; clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    pub fn new(now: SystemTime) -> Self {
        Self(Arc::new(Mutex::new(now)))
    }

    /// A clock at `rfc3339`, e.g. `2020-06-30T23:00:00Z`; `None` if it does not parse.
    pub fn at(rfc3339: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(rfc3339)
            .ok()
            .map(|time| Self::new(time.with_timezone(&Utc).into()))
    }

    pub fn set(&self, now: SystemTime) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = now;
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// 00:00 UTC of `date`.
pub fn start_of(date: NaiveDate) -> SystemTime {
    date.and_time(NaiveTime::MIN).and_utc().into()
}

/// The next UTC midnight after `now`: when every "today" answer changes.
pub fn next_midnight(now: SystemTime) -> SystemTime {
    let today = DateTime::<Utc>::from(now).date_naive();
    today.succ_opt().map_or(now + DAY, start_of)
}

const DAY: Duration = Duration::from_secs(24 * 3600);

/// The ECB publishes around 16:00 CET, which is 14:00 or 15:00 UTC; the earlier hour is used
/// so a cached "latest" answer never outlives the moment a new publication can appear.
pub const PUBLICATION_HOUR_UTC: u32 = 14;

/// How long a "latest" answer may be kept once the next publication is overdue (the import
/// may land at any moment).
pub const OVERDUE_RECHECK: Duration = Duration::from_secs(300);

/// Whether the ECB publishes on `date`: TARGET working days (not weekends, New Year's Day,
/// Good Friday, Easter Monday, 1 May, 25 and 26 December).
pub fn is_target_day(date: NaiveDate) -> bool {
    if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
        return false;
    }
    let (month, day) = (date.month(), date.day());
    if matches!((month, day), (1, 1) | (5, 1) | (12, 25) | (12, 26)) {
        return false;
    }
    match easter_sunday(date.year()) {
        Some(easter) => {
            date != easter - chrono::Days::new(2) && date != easter + chrono::Days::new(1)
        }
        None => true,
    }
}

/// Gregorian Easter Sunday (the anonymous Gregorian algorithm).
fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// When the publication after `last` is expected: the next TARGET day at
/// [`PUBLICATION_HOUR_UTC`].
pub fn expected_publication_after(last: NaiveDate) -> SystemTime {
    let mut day = last;
    for _ in 0..10 {
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
        if is_target_day(day) {
            break;
        }
    }
    start_of(day) + Duration::from_secs(u64::from(PUBLICATION_HOUR_UTC) * 3600)
}

/// The next moment the "latest" rates can change, seen at `now` with `last` the newest
/// publication loaded: the expected next publication, or shortly if it is already overdue.
pub fn next_rates_change(last: NaiveDate, now: SystemTime) -> SystemTime {
    let expected = expected_publication_after(last);
    if expected > now {
        expected
    } else {
        now + OVERDUE_RECHECK
    }
}

/// How old the newest rates are at `now`, measured from 00:00 UTC of their publication date
/// (zero if the clock is behind the data).
pub fn rates_age(last: NaiveDate, now: SystemTime) -> Duration {
    now.duration_since(start_of(last)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn time(text: &str) -> SystemTime {
        ManualClock::at(text).unwrap().now()
    }

    #[test]
    fn midnight_is_the_next_utc_day() {
        assert_eq!(
            next_midnight(time("2020-06-30T23:59:59Z")),
            time("2020-07-01T00:00:00Z")
        );
        assert_eq!(
            next_midnight(time("2020-07-01T00:00:00Z")),
            time("2020-07-02T00:00:00Z")
        );
    }

    #[test]
    fn target_holidays_and_weekends_are_skipped() {
        // Easter 2024 was 31 March: Good Friday 29 March, Easter Monday 1 April.
        assert!(!is_target_day(date("2024-03-29")));
        assert!(!is_target_day(date("2024-04-01")));
        assert!(is_target_day(date("2024-04-02")));
        assert!(!is_target_day(date("2024-12-25")));
        assert!(!is_target_day(date("2024-01-06")));
        assert_eq!(
            expected_publication_after(date("2024-03-28")),
            time("2024-04-02T14:00:00Z")
        );
        assert_eq!(
            expected_publication_after(date("2026-10-30")),
            time("2026-11-02T14:00:00Z")
        );
    }

    #[test]
    fn overdue_publications_are_rechecked_soon() {
        let last = date("2026-10-30");
        let friday_evening = time("2026-10-30T18:00:00Z");
        assert_eq!(
            next_rates_change(last, friday_evening),
            time("2026-11-02T14:00:00Z")
        );
        let late = time("2026-12-07T03:00:00Z");
        assert_eq!(next_rates_change(last, late), late + OVERDUE_RECHECK);
        assert_eq!(
            rates_age(last, time("2026-11-01T00:00:00Z")),
            Duration::from_secs(2 * 86400)
        );
    }
}
