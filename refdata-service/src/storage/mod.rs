//! Durable, versioned storage of the datasets: SQLite (one file, the default) or PostgreSQL
//! (shared by any number of replicas).
//!
//! Every change writes a new immutable version: one row of `versions` naming the
//! content-addressed blobs it is made of, inserted in the same transaction as any new blobs.
//! A version is visible completely or not at all. Version numbers are the primary key, so two
//! writers that start from the same version cannot both commit: the second one fails and is
//! told the version it raced with. The `versions` table doubles as the append-only audit log.
//!
//! Readers never query the database: a replica holds the current version as an in-memory
//! [`Snapshot`] and swaps in the next one when it learns of it (see [`watch`]).

pub mod contents;
pub mod edit;
pub mod watch;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use thiserror::Error;
use utoipa::ToSchema;

use crate::store::{Snapshot, StoreError};
pub use contents::{Contents, Hashes, DATASETS};
pub use edit::Violation;

/// Channel of the PostgreSQL notification sent with every new version.
pub const CHANNEL: &str = "refdata_versions";

#[derive(Debug, Error)]
pub enum StorageError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    Url(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("stored version does not index: {0}")]
    Snapshot(#[from] StoreError),
    #[error("version {0} does not exist")]
    NoSuchVersion(u64),
}

/// Why a write did not commit.
#[derive(Debug, Error)]
pub enum WriteError {
    /// `If-Match` named another version, or another writer committed first.
    #[error("the datasets are at version {current}, not {expected}")]
    Stale { expected: u64, current: u64 },
    /// The change is invalid; nothing was written.
    #[error("{} violation(s)", .0.len())]
    Invalid(Vec<Violation>),
    /// The thing to change does not exist.
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sqlx::Error> for WriteError {
    fn from(error: sqlx::Error) -> Self {
        WriteError::Storage(error.into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One version's metadata: an entry of the change feed and the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct VersionInfo {
    pub version: u64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// Name of the token (or command-line user) that made the change.
    pub author: String,
    /// What was done, e.g. `tax-rates.create`, `exchange-rates.import`, `rollback`.
    pub action: String,
    /// Why, as given by the author.
    pub reason: String,
    /// Datasets whose contents changed.
    pub datasets: Vec<String>,
    /// The change as requested (JSON), and what it implied.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl VersionInfo {
    pub fn created(&self) -> SystemTime {
        DateTime::parse_from_rfc3339(&self.created_at)
            .map(SystemTime::from)
            .unwrap_or(SystemTime::UNIX_EPOCH)
    }
}

/// A committed or loaded version, ready to serve.
pub struct Loaded {
    pub info: VersionInfo,
    pub snapshot: Snapshot,
}

/// The result of a write.
pub struct Written {
    pub version: u64,
    /// `false` when the change left every dataset as it was (no version was made).
    pub changed: bool,
    pub info: VersionInfo,
    pub snapshot: Option<Snapshot>,
    /// Ids the change created (e.g. a new tax rate).
    pub created_id: Option<u64>,
}

/// A change to apply to the current contents: returns the new contents' detail for the log
/// and, for creations, the new id.
pub type Edit<'a> = dyn Fn(&mut Contents) -> Result<(serde_json::Value, Option<u64>), WriteError>
    + Send
    + Sync
    + 'a;

/// The database and an in-memory copy of the blobs of the last version read.
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    url: String,
    /// Serialises this process's writes; writers in other processes are caught by the primary
    /// key of `versions`.
    write_lock: tokio::sync::Mutex<()>,
    blob_cache: Mutex<HashMap<String, Arc<[u8]>>>,
    /// One replica sync at a time (a notification and the periodic check may coincide).
    pub(crate) sync_lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// `url` without a password, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl Store {
    /// Connects, creates the SQLite file if needed (WAL mode, synchronous writes), runs the
    /// migrations and, on an empty database, stores the embedded snapshot as version 1.
    pub async fn open(url: &str) -> Result<Self, StorageError> {
        sqlx::any::install_default_drivers();
        let (backend, connect_url) = if let Some(rest) = url.strip_prefix("sqlite:") {
            let separator = if rest.contains('?') { '&' } else { '?' };
            let url = if rest.contains("mode=") {
                url.to_owned()
            } else {
                format!("{url}{separator}mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else {
            return Err(StorageError::Url(redact(url)));
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
            // A write while the database is unreachable fails within this time with a 503;
            // the data routes never use the pool.
            .acquire_timeout(Duration::from_secs(3));
        if backend == Backend::Sqlite {
            options = options.after_connect(|connection, _| {
                Box::pin(async move {
                    // WAL lets readers run beside the writer; FULL makes a commit durable
                    // before it is acknowledged, so `kill -9` cannot lose it.
                    for pragma in [
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA synchronous = FULL",
                        "PRAGMA busy_timeout = 10000",
                    ] {
                        sqlx::query(pragma).execute(&mut *connection).await?;
                    }
                    Ok(())
                })
            });
        }
        let pool = options.connect(&connect_url).await?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        let store = Store {
            pool,
            backend,
            url: url.to_owned(),
            write_lock: tokio::sync::Mutex::new(()),
            blob_cache: Mutex::new(HashMap::new()),
            sync_lock: tokio::sync::Mutex::new(()),
        };
        store.seed().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL it was opened with (may hold a password; see [`redact`]).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `$1`-style placeholders for PostgreSQL, `?1` for SQLite.
    fn sql(&self, query: &str) -> String {
        match self.backend {
            Backend::Postgres => query.to_owned(),
            Backend::Sqlite => query.replace('$', "?"),
        }
    }

    async fn seed(&self) -> Result<(), StorageError> {
        if self.head().await? > 0 {
            return Ok(());
        }
        let contents = Contents::embedded()?;
        let hashes = contents.hashes();
        let info = VersionInfo {
            version: 1,
            created_at: now_rfc3339(),
            author: "refdata".into(),
            action: "seed".into(),
            reason: "first start: the snapshot embedded in the binary".into(),
            datasets: DATASETS.iter().map(|d| (*d).to_owned()).collect(),
            detail: serde_json::json!({}),
        };
        match self.insert(0, &contents, &hashes, None, &info).await {
            Ok(()) => {
                tracing::info!("database seeded with the embedded snapshot as version 1");
                Ok(())
            }
            // Another replica seeded it at the same moment.
            Err(WriteError::Stale { .. }) => Ok(()),
            Err(WriteError::Storage(error)) => Err(error),
            Err(other) => Err(StorageError::Corrupt(other.to_string())),
        }
    }

    /// The newest version number (0 on an empty database).
    pub async fn head(&self) -> Result<u64, StorageError> {
        let row = sqlx::query("SELECT COALESCE(MAX(version), 0) AS head FROM versions")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(row.try_get::<i64, _>("head")?).unwrap_or(0))
    }

    /// Versions after `after`, oldest first, at most `limit`.
    pub async fn versions(&self, after: u64, limit: u32) -> Result<Vec<VersionInfo>, StorageError> {
        let rows = sqlx::query(&self.sql(
            "SELECT version, created_at, author, action, reason, datasets, detail FROM versions \
             WHERE version > $1 ORDER BY version LIMIT $2",
        ))
        .bind(i64::try_from(after).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(version_info).collect()
    }

    async fn hashes(&self, version: u64) -> Result<Hashes, StorageError> {
        let row = sqlx::query(&self.sql(
            "SELECT manifest, countries, subdivisions, currencies, exchange_rates, tax_rates \
             FROM versions WHERE version = $1",
        ))
        .bind(i64::try_from(version).unwrap_or(i64::MAX))
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StorageError::NoSuchVersion(version))?;
        Ok(Hashes {
            manifest: row.try_get("manifest")?,
            countries: row.try_get("countries")?,
            subdivisions: row.try_get("subdivisions")?,
            currencies: row.try_get("currencies")?,
            exchange_rates: row.try_get("exchange_rates")?,
            tax_rates: row.try_get("tax_rates")?,
        })
    }

    async fn blob(&self, hash: &str) -> Result<Arc<[u8]>, StorageError> {
        if let Some(bytes) = self.cached_blob(hash) {
            return Ok(bytes);
        }
        let row = sqlx::query(&self.sql("SELECT body FROM blobs WHERE hash = $1"))
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StorageError::Corrupt(format!("blob {hash} is missing")))?;
        let body: Vec<u8> = row.try_get("body")?;
        if contents::hash(&body) != hash {
            return Err(StorageError::Corrupt(format!(
                "blob {hash} does not match its hash"
            )));
        }
        Ok(body.into())
    }

    fn cached_blob(&self, hash: &str) -> Option<Arc<[u8]>> {
        self.blob_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(hash)
            .cloned()
    }

    /// The stored contents of `version`, e.g. an old version asked for by a reader. Blobs
    /// already in memory are not fetched again; this read does not change which are.
    pub async fn contents(&self, version: u64) -> Result<Contents, StorageError> {
        Ok(self.read_contents(version).await?.0)
    }

    /// [`Store::contents`] of a version about to be served or changed: its blobs become the
    /// ones kept in memory, so reading the next version fetches only what changed.
    async fn contents_and_hashes(&self, version: u64) -> Result<(Contents, Hashes), StorageError> {
        let (contents, hashes) = self.read_contents(version).await?;
        self.remember(&contents, &hashes);
        Ok((contents, hashes))
    }

    /// The stored bytes of one dataset at `version`; the other datasets are left empty.
    pub async fn dataset_contents(
        &self,
        version: u64,
        name: &str,
    ) -> Result<Contents, StorageError> {
        let hashes = self.hashes(version).await?;
        let empty: Arc<[u8]> = Arc::from(&[][..]);
        let mut contents = Contents {
            manifest: Arc::clone(&empty),
            countries: Arc::clone(&empty),
            subdivisions: Arc::clone(&empty),
            currencies: Arc::clone(&empty),
            rate_chunks: Vec::new(),
            tax_rates: Arc::clone(&empty),
        };
        match name {
            "countries" => contents.countries = self.blob(&hashes.countries).await?,
            "subdivisions" => contents.subdivisions = self.blob(&hashes.subdivisions).await?,
            "currencies" => contents.currencies = self.blob(&hashes.currencies).await?,
            "tax_rates" => contents.tax_rates = self.blob(&hashes.tax_rates).await?,
            "exchange_rates" => {
                for hash in hashes.exchange_rates.split(',') {
                    contents.rate_chunks.push(self.blob(hash).await?);
                }
            }
            _ => {}
        }
        Ok(contents)
    }

    async fn read_contents(&self, version: u64) -> Result<(Contents, Hashes), StorageError> {
        let hashes = self.hashes(version).await?;
        let mut chunks = Vec::new();
        for hash in hashes.exchange_rates.split(',') {
            chunks.push(self.blob(hash).await?);
        }
        let contents = Contents {
            manifest: self.blob(&hashes.manifest).await?,
            countries: self.blob(&hashes.countries).await?,
            subdivisions: self.blob(&hashes.subdivisions).await?,
            currencies: self.blob(&hashes.currencies).await?,
            rate_chunks: chunks,
            tax_rates: self.blob(&hashes.tax_rates).await?,
        };
        Ok((contents, hashes))
    }

    fn remember(&self, contents: &Contents, hashes: &Hashes) {
        let blobs: HashMap<_, _> = contents.blobs(hashes).into_iter().collect();
        *self
            .blob_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = blobs;
    }

    /// Loads and indexes `version`, ready to serve. `history` holds at least the versions up
    /// to it; each dataset's last change is taken from there.
    pub async fn load(
        &self,
        version: u64,
        history: &[VersionInfo],
        previous: Option<Arc<Snapshot>>,
    ) -> Result<Loaded, StorageError> {
        let (contents, hashes) = self.contents_and_hashes(version).await?;
        let info = history
            .iter()
            .find(|v| v.version == version)
            .cloned()
            .ok_or(StorageError::NoSuchVersion(version))?;
        let unchanged = self.unchanged(&hashes, previous.as_deref()).await;
        let snapshot = tokio::task::spawn_blocking(move || {
            contents.snapshot_reusing(previous.as_deref(), &unchanged)
        })
        .await
        .map_err(|e| StorageError::Corrupt(format!("indexing failed: {e}")))??;
        Ok(Loaded {
            snapshot: stamp(snapshot, version, history),
            info,
        })
    }

    /// Datasets whose blobs are the same in `hashes` and in the version `previous` was read
    /// from; those can be taken from `previous` instead of parsed again.
    async fn unchanged(&self, hashes: &Hashes, previous: Option<&Snapshot>) -> Vec<&'static str> {
        let Some(previous) = previous.filter(|p| p.version() > 0) else {
            return Vec::new();
        };
        match self.hashes(previous.version()).await {
            Ok(old) if old.manifest == hashes.manifest => DATASETS
                .into_iter()
                .filter(|name| old.of(name) == hashes.of(name))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Applies `edit` to the newest version and commits the result as a new version.
    ///
    /// With `expected` (the writer's `If-Match`), the write fails with [`WriteError::Stale`]
    /// unless the newest version is that one. Without it, a writer that loses a race with
    /// another is retried on the new version.
    pub async fn write(
        &self,
        expected: Option<u64>,
        author: &str,
        action: &str,
        reason: &str,
        edit: &Edit<'_>,
        previous: Option<Arc<Snapshot>>,
    ) -> Result<Written, WriteError> {
        let _serialised = self.write_lock.lock().await;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let head = self.head().await?;
            let (base, base_hashes) = self.contents_and_hashes(head).await?;
            let mut contents = base.clone();
            // An invalid change is reported as such (422) even when it is also stale.
            let (detail, created_id) = edit(&mut contents)?;
            if let Some(expected) = expected.filter(|e| *e != head) {
                return Err(WriteError::Stale {
                    expected,
                    current: head,
                });
            }
            let hashes = contents.hashes_after_edit(&base, &base_hashes);
            let unchanged = self.unchanged(&hashes, previous.as_deref()).await;
            let reuse = previous.clone();
            let (contents, snapshot) = tokio::task::spawn_blocking(move || {
                let snapshot = contents.snapshot_reusing(reuse.as_deref(), &unchanged);
                (contents, snapshot)
            })
            .await
            .map_err(|e| StorageError::Corrupt(format!("indexing failed: {e}")))?;
            let mut snapshot = snapshot.map_err(|error| {
                WriteError::Invalid(vec![Violation::new("", error.to_string())])
            })?;
            snapshot.set_version(head + 1);
            let changed = hashes.changed_from(&base_hashes);
            let mut info = VersionInfo {
                version: head + 1,
                created_at: now_rfc3339(),
                author: author.to_owned(),
                action: action.to_owned(),
                reason: reason.to_owned(),
                datasets: changed.iter().map(|d| (*d).to_owned()).collect(),
                detail,
            };
            if changed.is_empty() {
                info.version = head;
                return Ok(Written {
                    version: head,
                    changed: false,
                    info,
                    snapshot: None,
                    created_id,
                });
            }
            match self
                .insert(head, &contents, &hashes, Some(&base_hashes), &info)
                .await
            {
                Ok(()) => {
                    self.remember(&contents, &hashes);
                    return Ok(Written {
                        version: info.version,
                        changed: true,
                        info,
                        snapshot: Some(snapshot),
                        created_id,
                    });
                }
                Err(WriteError::Stale { current, .. }) if expected.is_none() && attempts < 20 => {
                    tracing::debug!(current, "lost a write race; retrying on the new version");
                    // A random pause, so that two writers that keep colliding fall out of step.
                    let jitter = SystemTime::now()
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .map_or(0, |d| d.subsec_nanos())
                        % 20_000_000;
                    tokio::time::sleep(Duration::from_nanos(u64::from(jitter))).await;
                }
                Err(WriteError::Stale { current, .. }) => {
                    return Err(WriteError::Stale {
                        expected: expected.unwrap_or(head),
                        current: current.max(head + 1),
                    })
                }
                Err(other) => return Err(other),
            }
        }
    }

    /// Inserts the new blobs and the version row in one transaction (and, on PostgreSQL,
    /// notifies the other replicas when it commits).
    async fn insert(
        &self,
        head: u64,
        contents: &Contents,
        hashes: &Hashes,
        base: Option<&Hashes>,
        info: &VersionInfo,
    ) -> Result<(), WriteError> {
        let known: std::collections::HashSet<&str> =
            base.map(|b| b.all().collect()).unwrap_or_default();
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Sqlite {
            // Take the write lock before reading the head: a transaction that reads first and
            // writes later fails outright (SQLITE_BUSY_SNAPSHOT) when another process commits
            // in between, where waiting for the lock lets it see that commit.
            sqlx::query("DELETE FROM blobs WHERE 0 = 1")
                .execute(&mut *tx)
                .await?;
        }
        let current = sqlx::query("SELECT COALESCE(MAX(version), 0) AS head FROM versions")
            .fetch_one(&mut *tx)
            .await?
            .try_get::<i64, _>("head")?;
        let current = u64::try_from(current).unwrap_or(0);
        if current != head {
            return Err(WriteError::Stale {
                expected: head,
                current,
            });
        }
        let insert_blob = self.sql(match self.backend {
            Backend::Sqlite => "INSERT OR IGNORE INTO blobs (hash, body) VALUES ($1, $2)",
            Backend::Postgres => {
                "INSERT INTO blobs (hash, body) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING"
            }
        });
        for (hash, bytes) in contents.blobs(hashes) {
            if known.contains(hash.as_str()) {
                continue;
            }
            sqlx::query(&insert_blob)
                .bind(hash)
                .bind(bytes.to_vec())
                .execute(&mut *tx)
                .await?;
        }
        let inserted = sqlx::query(&self.sql(
            "INSERT INTO versions (version, created_at, author, action, reason, datasets, detail, \
             manifest, countries, subdivisions, currencies, exchange_rates, tax_rates) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        ))
        .bind(i64::try_from(info.version).unwrap_or(i64::MAX))
        .bind(&info.created_at)
        .bind(&info.author)
        .bind(&info.action)
        .bind(&info.reason)
        .bind(info.datasets.join(","))
        .bind(info.detail.to_string())
        .bind(&hashes.manifest)
        .bind(&hashes.countries)
        .bind(&hashes.subdivisions)
        .bind(&hashes.currencies)
        .bind(&hashes.exchange_rates)
        .bind(&hashes.tax_rates)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                return Err(WriteError::Stale {
                    expected: head,
                    current: info.version,
                })
            }
            Err(error) => return Err(error.into()),
        }
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(info.version.to_string())
                .execute(&mut *tx)
                .await?;
        }
        match tx.commit().await {
            Ok(()) => Ok(()),
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                Err(WriteError::Stale {
                    expected: head,
                    current: info.version,
                })
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The pool, for the PostgreSQL listener's fallback checks and tests.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn version_info(row: &AnyRow) -> Result<VersionInfo, StorageError> {
    let version: i64 = row.try_get("version")?;
    let datasets: String = row.try_get("datasets")?;
    let detail: String = row.try_get("detail")?;
    Ok(VersionInfo {
        version: u64::try_from(version).unwrap_or(0),
        created_at: row.try_get("created_at")?,
        author: row.try_get("author")?,
        action: row.try_get("action")?,
        reason: row.try_get("reason")?,
        datasets: datasets
            .split(',')
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
            .collect(),
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
    })
}

/// Sets the snapshot's version and each changed dataset's last change from `history`. The
/// seed keeps the dates of the sources themselves.
pub fn stamp(mut snapshot: Snapshot, version: u64, history: &[VersionInfo]) -> Snapshot {
    snapshot.set_version(version);
    for name in DATASETS {
        let last_change = history
            .iter()
            .rev()
            .filter(|v| v.version <= version)
            .find(|v| v.datasets.iter().any(|d| d == name));
        if let Some(change) = last_change.filter(|v| v.action != "seed") {
            snapshot.set_changed(name, change.created());
        }
    }
    snapshot
}
