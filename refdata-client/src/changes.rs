//! Following the service's change stream (`GET /v1/changes/stream`, Server-Sent Events) so
//! cached responses are dropped the moment a new dataset version is served, instead of when
//! their `max-age` runs out.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, CACHE_CONTROL};

use crate::cache::Store;

/// The service sends a comment every 15 s; silence for this long means the connection is dead.
const SILENCE: Duration = Duration::from_secs(45);
/// Longest buffered event; a longer one is a broken stream.
const MAX_EVENT_BYTES: usize = 64 * 1024;

/// A running subscription (see [`crate::RefdataClient::subscribe_to_changes`]). Dropping it
/// stops following the stream.
#[derive(Debug)]
pub struct ChangeSubscription {
    task: tokio::task::JoinHandle<()>,
    status: Arc<Status>,
}

#[derive(Debug, Default)]
struct Status {
    version: AtomicU64,
    invalidations: AtomicU64,
    connected: AtomicBool,
}

impl ChangeSubscription {
    /// The newest dataset version announced by the service (0 before the first event).
    pub fn version(&self) -> u64 {
        self.status.version.load(Ordering::Acquire)
    }

    /// How many times the cache was emptied because of a new version.
    pub fn invalidations(&self) -> u64 {
        self.status.invalidations.load(Ordering::Acquire)
    }

    /// Whether the stream is connected now.
    pub fn is_connected(&self) -> bool {
        self.status.connected.load(Ordering::Acquire)
    }
}

impl Drop for ChangeSubscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One Server-Sent Event.
#[derive(Debug, Default, PartialEq, Eq)]
struct Event {
    kind: String,
    id: Option<String>,
}

/// Parses complete events (ended by a blank line) off the front of `buffer`.
fn take_events(buffer: &mut String) -> Vec<Event> {
    let mut events = Vec::new();
    while let Some(end) = buffer.find("\n\n") {
        let block: String = buffer.drain(..end + 2).collect();
        let mut event = Event {
            kind: "message".to_owned(),
            id: None,
        };
        let mut meaningful = false;
        for line in block.lines() {
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => {
                    event.kind = value.to_owned();
                    meaningful = true;
                }
                "id" => event.id = Some(value.to_owned()),
                "data" => meaningful = true,
                _ => {}
            }
        }
        if meaningful {
            events.push(event);
        }
    }
    events
}

pub(crate) fn spawn(
    runtime: &tokio::runtime::Handle,
    http: reqwest::Client,
    url: reqwest::Url,
    cache: Option<Store>,
) -> ChangeSubscription {
    let status = Arc::new(Status::default());
    let task = runtime.spawn(follow(http, url, cache, Arc::clone(&status)));
    ChangeSubscription { task, status }
}

async fn follow(
    http: reqwest::Client,
    url: reqwest::Url,
    cache: Option<Store>,
    status: Arc<Status>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match listen(&http, &url, cache.as_ref(), &status).await {
            Ok(()) => backoff = Duration::from_millis(100),
            Err(error) => tracing::debug!(%url, %error, "refdata change stream interrupted"),
        }
        status.connected.store(false, Ordering::Release);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn listen(
    http: &reqwest::Client,
    url: &reqwest::Url,
    cache: Option<&Store>,
    status: &Status,
) -> Result<(), String> {
    let mut request = http
        .get(url.clone())
        .header(ACCEPT, "text/event-stream")
        .header(CACHE_CONTROL, "no-cache");
    let known = status.version.load(Ordering::Acquire);
    if known > 0 {
        request = request.header("last-event-id", known.to_string());
    }
    let mut response = request.send().await.map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("status {}", response.status()));
    }
    status.connected.store(true, Ordering::Release);
    let mut buffer = String::new();
    loop {
        let chunk = tokio::time::timeout(SILENCE, response.chunk())
            .await
            .map_err(|_| "no event or keep-alive for 45 s".to_owned())?
            .map_err(|e| e.to_string())?;
        let Some(chunk) = chunk else {
            return Ok(());
        };
        buffer.push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n"));
        if buffer.len() > MAX_EVENT_BYTES {
            return Err("event too long".into());
        }
        for event in take_events(&mut buffer) {
            let version = event.id.as_deref().and_then(|id| id.parse::<u64>().ok());
            let previous = status.version.load(Ordering::Acquire);
            let stale = match event.kind.as_str() {
                // The version served when (re)connecting: what is cached may predate it.
                "version" => version != Some(previous),
                "change" => version.is_none_or(|v| v > previous),
                "resync" => true,
                _ => false,
            };
            if let Some(version) = version.filter(|v| *v > previous) {
                status.version.store(version, Ordering::Release);
            }
            if stale {
                if let Some(cache) = cache {
                    cache.invalidate_all();
                }
                status.invalidations.fetch_add(1, Ordering::AcqRel);
                tracing::debug!(version, "refdata changed; cache emptied");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribing_outside_a_runtime_is_an_error() {
        let client = crate::RefdataClient::builder("http://127.0.0.1:9/")
            .build()
            .unwrap();
        assert!(matches!(
            client.subscribe_to_changes(),
            Err(crate::Error::NoRuntime)
        ));
    }

    #[test]
    fn events_are_split_on_blank_lines() {
        let mut buffer = String::from(
            "event: version\nid: 3\ndata: {\"version\":3}\n\n:keep-alive\n\nevent: change\nid: 4\ndata: {}\n\nevent: cha",
        );
        let events = take_events(&mut buffer);
        assert_eq!(
            events,
            [
                Event {
                    kind: "version".into(),
                    id: Some("3".into())
                },
                Event {
                    kind: "change".into(),
                    id: Some("4".into())
                }
            ]
        );
        assert_eq!(buffer, "event: cha");
    }
}
