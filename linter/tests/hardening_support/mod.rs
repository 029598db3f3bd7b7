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

pub fn run(args: &[&str], workspace: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-archlint"))
        .arg("archlint")
        .args(args)
        .arg("--manifest-path")
        .arg(workspace)
        .env_remove("NO_COLOR")
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo-archlint: {e}"))
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
