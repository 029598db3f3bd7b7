//! Workspaces for the hardening tests: two services, one of which reads the other's table (a
//! `cross-service-db-access` finding at `deny`), so every test can check that a hostile file
//! next to them leaves the other findings reported.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const ORDERS_MAIN: &str = r#"use axum::Router;
use sqlx::postgres::PgPoolOptions;

mod stock;
mod hostile;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = PgPoolOptions::new()
        .connect(&std::env::var("DATABASE_URL")?)
        .await?;
    sqlx::migrate!().run(&pool).await?;
    let app = Router::new().with_state(pool);
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
"#;

const STOCK: &str = r#"use sqlx::PgPool;

pub async fn on_hand(pool: &PgPool, sku: &str) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar("SELECT on_hand FROM inventory WHERE sku = $1")
        .bind(sku)
        .fetch_one(pool)
        .await
}
"#;

const INVENTORY_MAIN: &str = r#"use axum::Router;
use sqlx::postgres::PgPoolOptions;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = PgPoolOptions::new()
        .connect(&std::env::var("DATABASE_URL")?)
        .await?;
    sqlx::migrate!().run(&pool).await?;
    let app = Router::new().with_state(pool);
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
"#;

const COMPOSE: &str = "services:
  postgres:
    image: postgres:16
  orders:
    build:
      context: ./orders
    environment:
      DATABASE_URL: postgres://app:app@postgres:5432/orders
  inventory:
    build:
      context: ./inventory
    environment:
      DATABASE_URL: postgres://app:app@postgres:5432/inventory
";

fn manifest(name: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\naxum = \"0.8\"\n\
         sqlx = {{ version = \"0.8\", features = [\"postgres\", \"runtime-tokio\", \"migrate\"] }}\n\
         tokio = {{ version = \"1\", features = [\"full\"] }}\n"
    )
}

/// A workspace in a fresh temporary directory; `orders/src/hostile.rs` holds `hostile_rs`.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new(hostile_rs: &str) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let workspace = Workspace { dir };
        workspace.write(
            "Cargo.toml",
            "[workspace]\nresolver = \"2\"\nmembers = [\"orders\", \"inventory\"]\n",
        );
        workspace.write("orders/Cargo.toml", &manifest("orders"));
        workspace.write("orders/src/main.rs", ORDERS_MAIN);
        workspace.write("orders/src/stock.rs", STOCK);
        workspace.write("orders/src/hostile.rs", hostile_rs);
        workspace.write(
            "orders/migrations/0001_orders.sql",
            "CREATE TABLE orders (id BIGINT PRIMARY KEY, sku TEXT NOT NULL);\n",
        );
        workspace.write("inventory/Cargo.toml", &manifest("inventory"));
        workspace.write("inventory/src/main.rs", INVENTORY_MAIN);
        workspace.write(
            "inventory/migrations/0001_inventory.sql",
            "CREATE TABLE inventory (sku TEXT PRIMARY KEY, on_hand INTEGER NOT NULL);\n",
        );
        workspace.write("docker-compose.yml", COMPOSE);
        workspace
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir {parent:?}: {e}"));
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {path:?}: {e}"));
    }

    /// Runs `cargo archlint check --format json` on the workspace.
    pub fn check_json(&self, extra: &[&str]) -> Run {
        let output = run(
            &[&["check", "--format", "json"], extra].concat(),
            self.path(),
        );
        Run::new(output)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        run(args, self.path())
    }
}

/// Runs the binary on a workspace; a run still going after two minutes is killed and fails
/// the test (a hang must not hang the suite).
pub fn run(args: &[&str], workspace: &Path) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-archlint"))
        .arg("archlint")
        .args(args)
        .arg("--manifest-path")
        .arg(workspace)
        .env_remove("NO_COLOR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run cargo-archlint: {e}"));
    // Drain the pipes on their own threads so a large output cannot block the child.
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(pipe) = stdout.as_mut() {
            let _ = std::io::Read::read_to_end(pipe, &mut bytes);
        }
        bytes
    });
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(pipe) = stderr.as_mut() {
            let _ = std::io::Read::read_to_end(pipe, &mut bytes);
        }
        bytes
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                panic!("cargo-archlint did not finish within two minutes");
            }
        }
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// Makes a FIFO at `path` (nothing ever writes to it: reading it would wait forever).
#[cfg(unix)]
pub fn make_fifo(path: &Path) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir {parent:?}: {e}"));
    }
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap_or_else(|e| panic!("mkfifo: {e}"));
    assert!(status.success(), "mkfifo {path:?}");
}

/// One JSON run: exit code, the parsed output and stderr.
pub struct Run {
    pub code: Option<i32>,
    pub value: serde_json::Value,
    pub stderr: String,
}

impl Run {
    pub fn new(output: Output) -> Self {
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "invalid JSON ({e}), exit {:?}: {}{stderr}",
                output.status,
                String::from_utf8_lossy(&output.stdout)
            )
        });
        Run {
            code: output.status.code(),
            value,
            stderr,
        }
    }

    pub fn rules(&self) -> Vec<String> {
        self.value["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["rule"].as_str().map(str::to_string))
            .collect()
    }

    /// The notes as `path: kind: message` lines.
    pub fn notes(&self) -> Vec<String> {
        self.value["notes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|n| {
                format!(
                    "{}: {}: {}",
                    n["path"].as_str().unwrap_or(""),
                    n["kind"].as_str().unwrap_or(""),
                    n["message"].as_str().unwrap_or("")
                )
            })
            .collect()
    }

    /// Asserts the workspace's own finding is still reported and the run exited 1.
    pub fn assert_other_finding_reported(&self) {
        assert_eq!(self.code, Some(1), "{:#}\n{}", self.value, self.stderr);
        assert!(
            self.rules().iter().any(|r| r == "cross-service-db-access"),
            "{:#}",
            self.value
        );
    }

    pub fn note_about(&self, path: &str, kind: &str) -> Option<String> {
        self.notes()
            .into_iter()
            .find(|n| n.starts_with(&format!("{path}: {kind}: ")))
    }
}
