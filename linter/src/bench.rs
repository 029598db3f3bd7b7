//! Benchmark support: a generator of synthetic workspaces and the baseline archlint is
//! measured against (read every `.rs` file and `syn::parse_file` it, in parallel).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use camino::{Utf8Path, Utf8PathBuf};
use rayon::prelude::*;

/// Writes a workspace of `services` axum + sqlx services with about `lines` lines of Rust in
/// total, each with its own migrations and a compose entry; every tenth service also reads a
/// neighbour's table, so the rules have work to do.
///
/// Each service looks like a small real one: a router in `main.rs`, an error type, and handler
/// modules that mix axum handlers, request validation, business logic, SQL of several shapes
/// (reads with joins, inserts in a transaction, updates, deletes, aggregates; every statement
/// different) and unit tests. About one SQL statement per 25 lines.
pub fn generate(dir: &Utf8Path, services: usize, lines: usize) -> std::io::Result<()> {
    let services = services.max(1);
    std::fs::create_dir_all(dir)?;
    let mut members = String::new();
    let mut compose = String::from("services:\n  db:\n    image: postgres:16\n");
    let per_service = lines / services;
    for index in 0..services {
        let name = format!("svc-{index:03}");
        let table = format!("records_{index:03}");
        let events = format!("record_events_{index:03}");
        let crate_dir = dir.join(&name);
        std::fs::create_dir_all(crate_dir.join("src/handlers"))?;
        std::fs::create_dir_all(crate_dir.join("migrations"))?;
        let _ = writeln!(members, "  \"{name}\",");
        let _ = write!(
            compose,
            "  {name}:\n    build:\n      context: ./{name}\n    environment:\n      DATABASE_URL: postgres://app:app@db:5432/{}\n",
            table.replace("records", "db")
        );
        std::fs::write(
            crate_dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\naxum = \"0.8\"\nsqlx = {{ version = \"0.8\", features = [\"postgres\", \"runtime-tokio\"] }}\ntokio = {{ version = \"1\", features = [\"full\"] }}\ntracing = \"0.1\"\nserde = {{ version = \"1\", features = [\"derive\"] }}\n"
            ),
        )?;
        std::fs::write(
            crate_dir.join("migrations/0001_init.sql"),
            format!(
                "CREATE TABLE {table} (\n    id BIGSERIAL PRIMARY KEY,\n    name TEXT NOT NULL,\n    amount BIGINT NOT NULL,\n    status TEXT NOT NULL DEFAULT 'new',\n    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()\n);\n\nCREATE TABLE {events} (\n    id BIGSERIAL PRIMARY KEY,\n    record_id BIGINT NOT NULL REFERENCES {table} (id),\n    kind TEXT NOT NULL,\n    created_at TIMESTAMPTZ NOT NULL DEFAULT now()\n);\n"
            ),
        )?;
        std::fs::write(crate_dir.join("src/error.rs"), ERROR_RS)?;
        let neighbour = (index % 10 == 9).then(|| format!("records_{:03}", (index + 1) % services));
        let tables = Tables {
            own: &table,
            events: &events,
            neighbour: neighbour.as_deref(),
        };
        let mut written = ERROR_RS.lines().count();
        let mut module = 0;
        let mut modules = Vec::new();
        let mut routes = String::new();
        while written < per_service.saturating_sub(60) || module == 0 {
            let (text, count) = handler_module(&tables, module, 4);
            std::fs::write(
                crate_dir.join(format!("src/handlers/h{module:03}.rs")),
                text,
            )?;
            for feature in 0..4 {
                let _ = write!(
                    routes,
                    "\n        .route(\"/v{module}/{feature}\", get(handlers::h{module:03}::list_{feature}).post(handlers::h{module:03}::create_{feature}))\n        .route(\"/v{module}/{feature}/{{id}}\", put(handlers::h{module:03}::rename_{feature}).delete(handlers::h{module:03}::remove_{feature}))"
                );
            }
            modules.push(format!("h{module:03}"));
            written += count;
            module += 1;
        }
        let mut handlers = String::new();
        for m in &modules {
            let _ = writeln!(handlers, "pub mod {m};");
        }
        std::fs::write(crate_dir.join("src/handlers/mod.rs"), handlers)?;
        std::fs::write(crate_dir.join("src/main.rs"), main_rs(&routes))?;
    }
    std::fs::write(
        dir.join("Cargo.toml"),
        format!("[workspace]\nresolver = \"2\"\nmembers = [\n{members}]\n"),
    )?;
    std::fs::write(dir.join("docker-compose.yml"), compose)?;
    Ok(())
}

/// Tables a generated service touches.
struct Tables<'a> {
    own: &'a str,
    events: &'a str,
    /// A neighbour's table this service reads (once), if any.
    neighbour: Option<&'a str>,
}

const ERROR_RS: &str = r#"use std::fmt;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Errors a handler returns; each maps to one HTTP status.
#[derive(Debug)]
pub enum AppError {
    NotFound,
    Invalid(String),
    Database(sqlx::Error),
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::NotFound => write!(f, "not found"),
            AppError::Invalid(reason) => write!(f, "invalid request: {reason}"),
            AppError::Database(error) => write!(f, "database error: {error}"),
        }
    }
}

impl std::error::Error for AppError {}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => AppError::NotFound,
            other => AppError::Database(other),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match &self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        (status, self.to_string()).into_response()
    }
}
"#;

fn main_rs(routes: &str) -> String {
    format!(
        "use std::time::Duration;\n\nuse axum::routing::{{get, put}};\nuse axum::Router;\nuse sqlx::postgres::PgPoolOptions;\n\nmod error;\nmod handlers;\n\n#[tokio::main]\nasync fn main() -> Result<(), Box<dyn std::error::Error>> {{\n    tracing_subscriber::fmt::init();\n    let url = std::env::var(\"DATABASE_URL\")?;\n    let port: u16 = std::env::var(\"PORT\").ok().and_then(|p| p.parse().ok()).unwrap_or(8080);\n    let pool = PgPoolOptions::new()\n        .max_connections(8)\n        .acquire_timeout(Duration::from_secs(5))\n        .connect(&url)\n        .await?;\n    sqlx::migrate!().run(&pool).await?;\n    let app = Router::new(){routes}\n        .with_state(pool);\n    let listener = tokio::net::TcpListener::bind((\"0.0.0.0\", port)).await?;\n    tracing::info!(port, \"listening\");\n    axum::serve(listener, app).await?;\n    Ok(())\n}}\n"
    )
}

/// One handler module: shared types, then per feature a list handler (a read with a join, or
/// an aggregate), a create handler (two inserts in a transaction), rename and remove handlers
/// (an update and a delete), a summary computed in Rust; unit tests at the end.
fn handler_module(tables: &Tables<'_>, module: usize, features: usize) -> (String, usize) {
    let (own, events) = (tables.own, tables.events);
    let mut text = String::from(
        "//! Record handlers: listing, creation, renaming and removal, with their summaries.\n\nuse std::collections::BTreeMap;\n\nuse axum::extract::{Path, Query, State};\nuse axum::Json;\nuse serde::{Deserialize, Serialize};\nuse sqlx::PgPool;\n\nuse crate::error::AppError;\n\n#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]\npub struct Record {\n    pub id: i64,\n    pub name: String,\n    pub amount: i64,\n    pub status: String,\n}\n\n#[derive(Debug, Deserialize)]\npub struct ListParams {\n    pub min_amount: Option<i64>,\n    pub limit: Option<i64>,\n}\n\n#[derive(Debug, Deserialize)]\npub struct NewRecord {\n    pub name: String,\n    pub amount: i64,\n}\n\n#[derive(Debug, Serialize, PartialEq)]\npub struct Summary {\n    pub total: i64,\n    pub largest: Option<String>,\n    pub by_status: BTreeMap<String, usize>,\n}\n\nimpl NewRecord {\n    /// Rejects empty names and negative amounts before they reach the database.\n    pub fn validate(&self) -> Result<(), AppError> {\n        if self.name.trim().is_empty() {\n            return Err(AppError::Invalid(\"name must not be empty\".into()));\n        }\n        if self.amount < 0 {\n            return Err(AppError::Invalid(format!(\"amount {} is negative\", self.amount)));\n        }\n        Ok(())\n    }\n}\n\n",
    );
    let columns = ["name", "amount", "status", "updated_at"];
    for f in 0..features {
        let variant = module * features + f;
        let order = columns[variant % columns.len()];
        let read_from = match tables.neighbour {
            Some(other) if variant == 0 => other,
            _ => own,
        };
        let read = if variant % 3 == 2 {
            format!(
                "SELECT 0::BIGINT AS id, r.status AS name, SUM(r.amount)::BIGINT AS amount, r.status \
                 FROM {read_from} r WHERE r.amount > $1 GROUP BY r.status \
                 ORDER BY amount DESC LIMIT $2"
            )
        } else {
            format!(
                "SELECT r.id, r.name, r.amount, r.status FROM {read_from} r \
                 LEFT JOIN {events} e ON e.record_id = r.id AND e.kind = 'flagged_{variant}' \
                 WHERE r.amount > $1 AND e.id IS NULL ORDER BY r.{order} DESC, r.id LIMIT $2"
            )
        };
        let _ = write!(
            text,
            r#"/// Lists records of group {variant} whose amount exceeds `min_amount`.
pub async fn list_{f}(
    State(pool): State<PgPool>,
    Query(params): Query<ListParams>,
) -> Result<Json<Vec<Record>>, AppError> {{
    let min = params.min_amount.unwrap_or(0);
    let limit = params.limit.unwrap_or(50).clamp(1, 500);
    let rows = sqlx::query_as::<_, Record>(
        "{read}",
    )
    .bind(min)
    .bind(limit)
    .fetch_all(&pool)
    .await?;
    tracing::debug!(count = rows.len(), group = {variant}, "listed records");
    Ok(Json(rows))
}}

/// Creates a record of group {variant} and logs its creation, in one transaction.
pub async fn create_{f}(
    State(pool): State<PgPool>,
    Json(input): Json<NewRecord>,
) -> Result<Json<i64>, AppError> {{
    input.validate()?;
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO {own} (name, amount, status) VALUES ($1, $2, 'group_{variant}') RETURNING id",
    )
    .bind(input.name.trim())
    .bind(input.amount)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO {events} (record_id, kind) VALUES ($1, 'created_{variant}')")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Json(id))
}}

/// Renames a record of group {variant}; unknown ids are a 404.
pub async fn rename_{f}(
    State(pool): State<PgPool>,
    Path(id): Path<i64>,
    Json(input): Json<NewRecord>,
) -> Result<Json<Record>, AppError> {{
    input.validate()?;
    let record = sqlx::query_as::<_, Record>(
        "UPDATE {own} SET name = $1, amount = $2, updated_at = now() \
         WHERE id = $3 AND status = 'group_{variant}' RETURNING id, name, amount, status",
    )
    .bind(input.name.trim())
    .bind(input.amount)
    .bind(id)
    .fetch_optional(&pool)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(Json(record))
}}

/// Removes a record of group {variant} and its history.
pub async fn remove_{f}(State(pool): State<PgPool>, Path(id): Path<i64>) -> Result<(), AppError> {{
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM {events} WHERE record_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let removed = sqlx::query("DELETE FROM {own} WHERE id = $1 AND status = 'group_{variant}'")
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if removed == 0 {{
        return Err(AppError::NotFound);
    }}
    tx.commit().await?;
    Ok(())
}}

/// Totals, the largest record and counts per status of group {variant}.
pub fn summarise_{f}(rows: &[Record]) -> Summary {{
    let total = rows.iter().map(|r| r.amount).sum();
    let largest = rows
        .iter()
        .filter(|r| r.status != "archived")
        .max_by_key(|r| (r.amount, std::cmp::Reverse(r.id)))
        .map(|r| r.name.clone());
    let mut by_status = BTreeMap::new();
    for row in rows {{
        *by_status.entry(row.status.clone()).or_insert(0) += 1;
    }}
    Summary {{
        total,
        largest,
        by_status,
    }}
}}

"#
        );
    }
    let _ = write!(
        text,
        r#"#[cfg(test)]
mod tests {{
    use super::*;

    fn record(id: i64, amount: i64, status: &str) -> Record {{
        Record {{
            id,
            name: format!("record {{id}}"),
            amount,
            status: status.to_owned(),
        }}
    }}

    #[test]
    fn summary_counts_statuses_and_skips_archived_for_the_largest() {{
        let rows = vec![record(1, 10, "new"), record(2, 99, "archived"), record(3, 20, "new")];
        let summary = summarise_0(&rows);
        assert_eq!(summary.total, 129);
        assert_eq!(summary.largest.as_deref(), Some("record 3"));
        assert_eq!(summary.by_status.get("new"), Some(&2));
    }}

    #[test]
    fn validation_rejects_blank_names() {{
        let input = NewRecord {{
            name: "  ".into(),
            amount: 1,
        }};
        assert!(input.validate().is_err());
    }}
}}
"#
    );
    let lines = text.lines().count();
    (text, lines)
}

/// Rust files under `root`, skipping `target/` and hidden directories.
pub fn rust_files(root: &Utf8Path) -> Vec<Utf8PathBuf> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            e.depth() == 0 || !(name == "target" || name.starts_with('.'))
        })
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| Utf8PathBuf::from_path_buf(e.into_path()).ok())
        .filter(|p| p.extension() == Some("rs"))
        .collect()
}

/// The baseline: read and parse every `.rs` file in parallel. Returns files and lines parsed.
///
/// Each file is read through the same bounded reader as the check, tokenised once and parsed
/// without its top-level test items (`#[cfg(test)]` modules, `#[test]` functions), exactly as
/// the extractor parses it: both sides skip the same code.
pub fn baseline(root: &Utf8Path) -> (usize, usize) {
    let files = rust_files(root);
    let lines = files
        .par_iter()
        .map(|path| {
            // The same bounded read the walker does.
            let Ok(text) = crate::read::read_text(path, crate::read::FileClass::Rust) else {
                return 0;
            };
            let lines = text.lines().count();
            let tokens = text.parse::<proc_macro2::TokenStream>().ok();
            let _ = crate::extract::rust::parse_without_tests(&text, tokens);
            // As the extractor does after each file: proc-macro2 otherwise keeps every parsed
            // file's text and line table per thread, and the baseline would pay for ever more
            // fresh memory run after run.
            proc_macro2::extra::invalidate_current_thread_spans();
            lines
        })
        .sum();
    (files.len(), lines)
}

/// One run of a command: its wall-clock time and, where the platform says, its peak
/// resident memory.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub time: Duration,
    /// Maximum resident set size, in KiB.
    pub peak_rss_kib: Option<u64>,
}

/// Wall-clock time of one run of this binary with `args`, its output read to the end and
/// thrown away (as a terminal or a file would take it). Fails when the command cannot start.
pub fn time_command(args: &[&str]) -> std::io::Result<Duration> {
    run_command(args).map(|run| run.time)
}

/// [`time_command`], with the peak resident memory of the process.
pub fn run_command(args: &[&str]) -> std::io::Result<Run> {
    let exe = std::env::current_exe()?;
    let start = Instant::now();
    let mut child = std::process::Command::new(exe)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    if let Some(mut out) = child.stdout.take() {
        std::io::copy(&mut out, &mut std::io::sink())?;
    }
    let peak_rss_kib = wait_with_peak_rss(&mut child)?;
    Ok(Run {
        time: start.elapsed(),
        peak_rss_kib,
    })
}

/// Waits for `child`; on Linux, returns its peak resident memory (from `wait4`).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn wait_with_peak_rss(child: &mut std::process::Child) -> std::io::Result<Option<u64>> {
    let Ok(pid) = libc::pid_t::try_from(child.id()) else {
        child.wait()?;
        return Ok(None);
    };
    let mut status = 0;
    // SAFETY: `rusage` is plain data that `wait4` fills in; an all-zero value is valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live locals; `pid` is our own child, not yet reaped
        // (std's `Child` only reaps in `wait`/`try_wait`, which are not called on it).
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            // Linux reports `ru_maxrss` in KiB.
            return Ok(u64::try_from(usage.ru_maxrss).ok());
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn wait_with_peak_rss(child: &mut std::process::Child) -> std::io::Result<Option<u64>> {
    child.wait()?;
    Ok(None)
}

/// The file the one-file-changed runs edit: the first handler module, or the first `.rs`.
pub fn file_to_change(root: &Utf8Path) -> Option<Utf8PathBuf> {
    let mut files = rust_files(root);
    files.sort();
    files
        .iter()
        .find(|p| p.as_str().contains("/handlers/h"))
        .or(files.first())
        .cloned()
}

/// Median of `runs` timings of `f`.
pub fn median_time(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// Times each phase of one `archlint check` on `root` (discovery, configuration, file walk,
/// parallel extraction, migrations, resolution, waiting for `cargo metadata`, rules).
/// Median time of each phase over `runs` checks.
/// With `cached`, the checks take their facts from the workspace's warm cache (filled by a
/// check before the first) and do not run `cargo metadata`, as a warm CLI check does.
pub fn median_phases(root: &Utf8Path, runs: usize, cached: bool) -> Vec<(&'static str, Duration)> {
    let all: Vec<Vec<(&'static str, Duration)>> =
        (0..runs.max(1)).map(|_| phases(root, cached)).collect();
    let Some(first) = all.first() else {
        return Vec::new();
    };
    (0..first.len())
        .map(|i| {
            let mut times: Vec<Duration> = all
                .iter()
                .filter_map(|run| run.get(i))
                .map(|p| p.1)
                .collect();
            times.sort();
            (first[i].0, times[times.len() / 2])
        })
        .collect()
}

pub fn phases(root: &Utf8Path, cached: bool) -> Vec<(&'static str, Duration)> {
    let mut timings = Vec::new();
    let mut lap = Instant::now();
    let mut mark = |name: &'static str, timings: &mut Vec<(&'static str, Duration)>| {
        timings.push((name, lap.elapsed()));
        lap = Instant::now();
    };
    let started = if cached {
        crate::discover::Speculative::start_unless(root, |_, _| true)
    } else {
        crate::discover::Speculative::start(root)
    };
    let Ok(speculative) = started else {
        return timings;
    };
    let Ok(workspace) = speculative.guess.as_ref().map(Clone::clone) else {
        return timings;
    };
    mark("discovery (manifests; cargo metadata starts)", &mut timings);
    let config = crate::config::Config::load(&workspace.root, None).unwrap_or_default();
    let mut cache = cached
        .then(|| crate::cache::Cache::open(&workspace.root, None, &config))
        .flatten();
    mark("configuration (and reading the cache)", &mut timings);
    let mut model = crate::model::Model::default();
    crate::discover::add_crates(&mut model, &workspace);
    if let Some(cache) = cache.as_mut() {
        cache.set_crates(&model.crates);
    }
    let items = crate::walk::collect(&mut model, &config);
    mark("walk and register files", &mut timings);
    let (facts, migrations) = rayon::join(
        || crate::walk::extract_cached(&model, &items, cache.as_ref()),
        || crate::walk::prepare_crate_migrations(&model),
    );
    if let Some(cache) = &cache {
        cache.finish();
    }
    mark(
        "extract code (or read it from the cache) and migrations",
        &mut timings,
    );
    crate::merge_facts(&mut model, facts, migrations);
    mark("merge facts, read migrations code names", &mut timings);
    crate::resolve::resolve(&mut model, &workspace, &config);
    mark("resolve", &mut timings);
    let _ = speculative.confirm();
    mark("wait for cargo metadata to agree", &mut timings);
    let found = crate::rules::run(&model, &config);
    mark("rules", &mut timings);
    drop(found);
    drop(model);
    mark(
        "free the model and findings (the CLI leaves it to the OS)",
        &mut timings,
    );
    timings
}
