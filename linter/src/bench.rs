//! Benchmark support: a generator of synthetic workspaces and the baseline archlint is
//! measured against (read every `.rs` file and `syn::parse_file` it, in parallel).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use camino::{Utf8Path, Utf8PathBuf};
use rayon::prelude::*;

/// Writes a workspace of `services` axum + sqlx services with about `lines` lines of Rust in
/// total, each with its own migrations and a compose entry; every tenth service also reads a
/// neighbour's table, so the rules have work to do.
pub fn generate(dir: &Utf8Path, services: usize, lines: usize) -> std::io::Result<()> {
    let services = services.max(1);
    std::fs::create_dir_all(dir)?;
    let mut members = String::new();
    let mut compose = String::from("services:\n  db:\n    image: postgres:16\n");
    let per_service = lines / services;
    for index in 0..services {
        let name = format!("svc-{index:03}");
        let table = format!("records_{index:03}");
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
            format!("CREATE TABLE {table} (\n    id BIGSERIAL PRIMARY KEY,\n    name TEXT NOT NULL,\n    amount BIGINT NOT NULL\n);\n"),
        )?;
        let neighbour = (index % 10 == 9).then(|| format!("records_{:03}", (index + 1) % services));
        let mut written = 0;
        let mut module = 0;
        let mut modules = Vec::new();
        while written < per_service.saturating_sub(30) || module == 0 {
            let (text, count) = handler_module(&table, neighbour.as_deref(), module, 12);
            std::fs::write(
                crate_dir.join(format!("src/handlers/h{module:03}.rs")),
                text,
            )?;
            modules.push(format!("h{module:03}"));
            written += count;
            module += 1;
        }
        let mut handlers = String::new();
        for m in &modules {
            let _ = writeln!(handlers, "pub mod {m};");
        }
        std::fs::write(crate_dir.join("src/handlers/mod.rs"), handlers)?;
        std::fs::write(crate_dir.join("src/main.rs"), main_rs())?;
    }
    std::fs::write(
        dir.join("Cargo.toml"),
        format!("[workspace]\nresolver = \"2\"\nmembers = [\n{members}]\n"),
    )?;
    std::fs::write(dir.join("docker-compose.yml"), compose)?;
    Ok(())
}

fn main_rs() -> &'static str {
    "use axum::Router;\nuse sqlx::postgres::PgPoolOptions;\n\nmod handlers;\n\n#[tokio::main]\nasync fn main() -> Result<(), Box<dyn std::error::Error>> {\n    let url = std::env::var(\"DATABASE_URL\")?;\n    let pool = PgPoolOptions::new().max_connections(8).connect(&url).await?;\n    sqlx::migrate!().run(&pool).await?;\n    let app = Router::new().with_state(pool);\n    let listener = tokio::net::TcpListener::bind(\"0.0.0.0:8080\").await?;\n    axum::serve(listener, app).await?;\n    Ok(())\n}\n"
}

fn handler_module(
    table: &str,
    neighbour: Option<&str>,
    module: usize,
    functions: usize,
) -> (String, usize) {
    let mut text = String::from("use serde::{Deserialize, Serialize};\nuse sqlx::PgPool;\n\n");
    let _ = writeln!(
        text,
        "#[derive(Debug, Serialize, Deserialize, sqlx::FromRow)]\npub struct Record {{\n    pub id: i64,\n    pub name: String,\n    pub amount: i64,\n}}\n"
    );
    for f in 0..functions {
        let read_from = match neighbour {
            Some(other) if f == 0 && module == 0 => other,
            _ => table,
        };
        let _ = write!(
            text,
            "/// Loads records whose amount exceeds a threshold, variant {f}.\npub async fn load_{f}(pool: &PgPool, min: i64) -> Result<Vec<Record>, sqlx::Error> {{\n    let rows = sqlx::query_as::<_, Record>(\n        \"SELECT id, name, amount FROM {read_from} WHERE amount > $1 ORDER BY id LIMIT 100\",\n    )\n    .bind(min + {f})\n    .fetch_all(pool)\n    .await?;\n    let total: i64 = rows.iter().map(|r| r.amount).sum();\n    if total > 1_000_000 {{\n        tracing::warn!(total, \"large batch\");\n    }}\n    Ok(rows)\n}}\n\npub async fn store_{f}(pool: &PgPool, name: &str, amount: i64) -> Result<i64, sqlx::Error> {{\n    let id: i64 = sqlx::query_scalar(\"INSERT INTO {table} (name, amount) VALUES ($1, $2) RETURNING id\")\n        .bind(name)\n        .bind(amount)\n        .fetch_one(pool)\n        .await?;\n    Ok(id)\n}}\n\n"
        );
    }
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
pub fn baseline(root: &Utf8Path) -> (usize, usize) {
    let files = rust_files(root);
    let lines = files
        .par_iter()
        .map(|path| {
            let Ok(text) = std::fs::read_to_string(path) else {
                return 0;
            };
            let lines = text.lines().count();
            let _ = syn::parse_file(&text);
            lines
        })
        .sum();
    (files.len(), lines)
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
/// parallel extraction, migrations, resolution, rules).
pub fn phases(root: &Utf8Path) -> Vec<(&'static str, Duration)> {
    let mut timings = Vec::new();
    let mut lap = Instant::now();
    let mut mark = |name: &'static str, timings: &mut Vec<(&'static str, Duration)>| {
        timings.push((name, lap.elapsed()));
        lap = Instant::now();
    };
    let Ok(workspace) = crate::discover::discover(root) else {
        return timings;
    };
    mark("discovery (cargo metadata)", &mut timings);
    let config = crate::config::Config::load(&workspace.root, None).unwrap_or_default();
    mark("configuration", &mut timings);
    let mut model = crate::model::Model::default();
    crate::discover::add_crates(&mut model, &workspace);
    let items = crate::walk::collect(&mut model, &config);
    mark("walk and register files", &mut timings);
    let facts = crate::walk::extract(&model, &items);
    mark("extract (parallel)", &mut timings);
    crate::merge_facts(&mut model, facts);
    mark("merge facts and read migrations", &mut timings);
    crate::resolve::resolve(&mut model, &workspace, &config);
    mark("resolve", &mut timings);
    let _ = crate::rules::run(&model, &config);
    mark("rules", &mut timings);
    timings
}
