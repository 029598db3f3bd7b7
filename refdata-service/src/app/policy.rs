//! Cache policies per dataset, attached by handlers for the caching layer.

use std::time::{Duration, SystemTime};

use crate::caching::CachePolicy;
use crate::store::DatasetInfo;

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);
const WEEK: Duration = Duration::from_secs(7 * 24 * 3600);
const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

fn combined(datasets: &[&DatasetInfo]) -> (String, SystemTime) {
    let version = datasets
        .iter()
        .map(|d| d.tag())
        .collect::<Vec<_>>()
        .join("+");
    let last_modified = datasets
        .iter()
        .map(|d| d.last_modified)
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    (version, last_modified)
}

fn policy(
    datasets: &[&DatasetInfo],
    max_age: Duration,
    swr: Duration,
    immutable: bool,
) -> CachePolicy {
    let (dataset_version, last_modified) = combined(datasets);
    CachePolicy {
        dataset_version,
        last_modified,
        max_age,
        stale_while_revalidate: swr,
        immutable,
        changes_at: None,
    }
}

/// `policy`, cached on the server and by clients only until `changes_at`.
pub fn until(policy: CachePolicy, changes_at: SystemTime) -> CachePolicy {
    CachePolicy {
        changes_at: Some(changes_at),
        ..policy
    }
}

/// Countries, subdivisions, currencies: change a few times a year.
pub fn reference(datasets: &[&DatasetInfo]) -> CachePolicy {
    policy(datasets, DAY, WEEK, false)
}

/// The latest exchange rates: change with the next ECB publication (once per working day).
pub fn latest_rates(datasets: &[&DatasetInfo]) -> CachePolicy {
    policy(datasets, HOUR, DAY, false)
}

/// Rates of a date with a later publication: the ECB never revises them.
pub fn historic_rates(datasets: &[&DatasetInfo]) -> CachePolicy {
    policy(datasets, YEAR, YEAR, true)
}

/// Tax rates: curated, change rarely but a new rate can take effect any day.
pub fn tax_rates(datasets: &[&DatasetInfo]) -> CachePolicy {
    policy(datasets, DAY, WEEK, false)
}

/// Dataset metadata and similar summaries.
pub fn metadata(datasets: &[&DatasetInfo]) -> CachePolicy {
    policy(datasets, Duration::from_secs(300), HOUR, false)
}
