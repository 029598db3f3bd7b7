//! Keeping a replica on the newest stored version.
//!
//! On PostgreSQL every commit sends a `NOTIFY` on [`super::CHANNEL`]; each replica listens and
//! loads the new version at once. Notifications are not durable (a replica that is
//! reconnecting misses them), so every replica also checks the newest version number
//! periodically, which is one indexed `MAX()` query. On SQLite the periodic check is what
//! picks up writes by other processes (`refdata import --into`).

use std::sync::Arc;
use std::time::Duration;

use super::{Backend, StorageError, Store};
use crate::app::AppState;

/// Loads and installs every version newer than the one `state` serves. Returns the version
/// served afterwards.
pub async fn sync(store: &Store, state: &AppState) -> Result<u64, StorageError> {
    let _one_at_a_time = store.sync_lock.lock().await;
    let head = store.head().await?;
    let served = state.version();
    if head <= served {
        return Ok(served);
    }
    let known = state.history();
    let after = known.last().map_or(0, |v| v.version);
    let mut new_versions = Vec::new();
    let mut cursor = after;
    loop {
        let page = store.versions(cursor, 1000).await?;
        let Some(last) = page.last() else { break };
        cursor = last.version;
        new_versions.extend(page.into_iter().filter(|v| v.version <= head));
        if cursor >= head {
            break;
        }
    }
    let mut history = Vec::clone(&known);
    history.extend(new_versions.iter().cloned());
    let loaded = store.load(head, &history, state.snapshot()).await?;
    if state.install_version(loaded.snapshot, new_versions) {
        tracing::info!(version = head, "now serving a new dataset version");
    }
    Ok(state.version())
}

/// Runs until the process ends: listens for notifications (PostgreSQL) and checks the newest
/// version every `interval`.
pub async fn run(store: Arc<Store>, state: AppState, interval: Duration) {
    if store.backend() == Backend::Postgres {
        tokio::spawn(listen(Arc::clone(&store), state.clone()));
    }
    let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(50)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(error) = sync(&store, &state).await {
            tracing::warn!(%error, "version check failed");
        }
    }
}

async fn listen(store: Arc<Store>, state: AppState) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match listen_once(&store, &state).await {
            Ok(()) => backoff = Duration::from_millis(100),
            Err(error) => {
                tracing::warn!(%error, "lost the version notifications; reconnecting");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

async fn listen_once(store: &Store, state: &AppState) -> Result<(), StorageError> {
    let mut listener = sqlx::postgres::PgListener::connect(store.url()).await?;
    listener.listen(super::CHANNEL).await?;
    // A notification may have been missed while (re)connecting.
    sync(store, state).await?;
    // `try_recv` rather than `recv`: `recv` reconnects silently, and the notifications sent
    // meanwhile would only be noticed by the next periodic check.
    while let Some(notification) = listener.try_recv().await? {
        let announced: u64 = notification.payload().parse().unwrap_or(u64::MAX);
        if announced > state.version() {
            sync(store, state).await?;
        }
    }
    tracing::warn!("the notification connection was lost; reconnecting");
    Ok(())
}
