use std::time::Duration;

/// Linear backoff used between saga retries.
pub fn backoff(attempt: u32) {
    let wait = Duration::from_millis(200 * u64::from(attempt + 1));
    std::thread::sleep(wait);
}
