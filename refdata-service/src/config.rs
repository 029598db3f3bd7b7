//! Run-time settings of the service: limits, data-age threshold, CORS, logging and the clock.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::Tokens;
use crate::clock::{SharedClock, SystemClock};

/// Limits that shed load instead of queueing it. Defaults suit a 2-core instance.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Expensive renders (time series, pages of more than [`Limits::large_page`] items) running
    /// at once; more get a 503 with `Retry-After` so cache hits are never starved.
    pub max_expensive: usize,
    /// A page of a list larger than this is an expensive render.
    pub large_page: usize,
    /// `Retry-After` of the 503 answered when the expensive renders are all busy.
    pub retry_after: Duration,
    /// Longest time series, in calendar days from `start` to `end`.
    pub max_series_days: u32,
    /// Largest rendered time series (the only answers that can grow past a few hundred KiB:
    /// lists are capped at 1000 items); larger ones are refused with a 422 problem.
    pub max_response_bytes: usize,
    /// Bytes the response cache may hold (bodies in every coding, keys, headers, allocation
    /// overhead).
    pub cache_max_bytes: u64,
    /// A request head must be complete within this time of its first byte (slow headers).
    pub header_read_timeout: Duration,
    /// A connection that sends nothing for this long after being opened or after its previous
    /// response is closed (idle keep-alive).
    pub idle_timeout: Duration,
    /// Open connections; more are answered 503 and closed. Each holds about 22 KiB.
    pub max_connections: usize,
    /// Rendering a response that takes longer is answered 503.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_expensive: 2,
            large_page: 250,
            retry_after: Duration::from_secs(1),
            max_series_days: 366 * 5,
            max_response_bytes: 4 * 1024 * 1024,
            cache_max_bytes: 40 * 1024 * 1024,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Which browser origins may call the read API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// `Access-Control-Allow-Origin: *`: the data is public and nothing uses cookies.
    #[default]
    Any,
    /// Only these origins (`https://shop.example`).
    List(Vec<String>),
    /// No CORS headers at all.
    Off,
}

/// Everything [`crate::server::serve`] and the handlers read from configuration.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub limits: Limits,
    /// `/readyz` fails when the newest exchange rates are older than this.
    pub max_rates_age: Option<Duration>,
    pub cors: CorsOrigins,
    /// Log one line per request at INFO (target `refdata::access`).
    pub access_log: bool,
    pub clock: SharedClock,
    /// Bearer tokens for `/metrics` and `/v1/admin`; none configured closes them to everyone.
    pub tokens: Arc<Tokens>,
    /// How often a replica checks the database for a newer version, besides notifications.
    pub version_check: Duration,
    /// Largest admin request body (an ECB history file is about 8 MB as XML).
    pub max_admin_body: usize,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            max_rates_age: None,
            cors: CorsOrigins::default(),
            access_log: false,
            clock: Arc::new(SystemClock),
            tokens: Arc::new(Tokens::default()),
            version_check: Duration::from_secs(5),
            max_admin_body: 16 * 1024 * 1024,
        }
    }
}

/// Parses `90`, `90s`, `15m`, `36h` or `4d` into a duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 30s, 15m, 36h or 4d"))?;
    let seconds = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {text:?}; use s, m, h or d"
            ))
        }
    };
    number
        .checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("4d"), Ok(Duration::from_secs(4 * 86400)));
        assert!(parse_duration("4 weeks").is_err());
        assert!(parse_duration("h").is_err());
    }
}
