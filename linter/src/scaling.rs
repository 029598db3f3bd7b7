//! The scaling benchmark: one input of each kind that once took superlinear time (one large
//! Rust file, one large migration, one compose file with many services, deeply nested YAML
//! flow collections, a long `else if` chain) is grown in steps of 2x, and the time of a
//! whole check is fitted to `time = c * size^k`. `k` near 1 is linear; 2 is quadratic.

use std::fmt::Write as _;
use std::time::Duration;

use camino::Utf8Path;

/// One kind of input that grows.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub name: &'static str,
    /// What one unit of size is.
    pub unit: &'static str,
    /// The smallest size measured; each step doubles it.
    pub start: usize,
    /// Writes `size` units of the input into the workspace at the directory.
    write: fn(&Utf8Path, usize) -> std::io::Result<()>,
}

/// The shapes measured, smallest sizes chosen so that the first step takes tens of
/// milliseconds in a release build.
pub const SHAPES: &[Shape] = &[
    Shape {
        name: "one Rust file",
        unit: "functions with a query",
        start: 2_000,
        write: write_big_rust_file,
    },
    Shape {
        name: "one migration",
        unit: "statements",
        start: 4_000,
        write: write_big_migration,
    },
    Shape {
        name: "one compose file",
        unit: "services",
        start: 4_000,
        write: write_big_compose,
    },
    Shape {
        name: "YAML flow nesting",
        unit: "levels",
        start: 100_000,
        write: write_nested_yaml,
    },
    Shape {
        name: "else-if chain",
        unit: "links",
        start: 5_000,
        write: write_else_if_chain,
    },
];

/// One measured step.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub size: usize,
    pub bytes: u64,
    pub time: Duration,
}

/// The least-squares slope of `ln time` against `ln size`: the exponent `k` of
/// `time = c * size^k`.
pub fn exponent(steps: &[Step]) -> f64 {
    let points: Vec<(f64, f64)> = steps
        .iter()
        .map(|s| ((s.size as f64).ln(), s.time.as_secs_f64().max(1e-6).ln()))
        .collect();
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let covariance: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let variance: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if variance == 0.0 {
        return 0.0;
    }
    covariance / variance
}

/// Measures every shape over `steps` doublings, each size the median of `runs` checks, and
/// returns the report as text. The workspaces are written under `dir`.
pub fn run(dir: &Utf8Path, steps: usize, runs: usize) -> std::io::Result<String> {
    let mut out = String::new();
    for shape in SHAPES {
        let mut measured = Vec::new();
        for step in 0..steps.max(2) {
            let size = shape.start << step;
            let workspace = dir.join(format!("{}-{size}", shape.name.replace(' ', "-")));
            let _ = std::fs::remove_dir_all(&workspace);
            write_base(&workspace)?;
            (shape.write)(&workspace, size)?;
            let bytes = walk_bytes(&workspace);
            let options = crate::Options::new(workspace.clone());
            let time = crate::bench::median_time(runs.max(1), || {
                let _ = crate::check(&options);
            });
            measured.push(Step { size, bytes, time });
            let _ = std::fs::remove_dir_all(&workspace);
        }
        let _ = writeln!(
            out,
            "{} ({}): exponent {:.2}",
            shape.name,
            shape.unit,
            exponent(&measured)
        );
        for step in &measured {
            let _ = writeln!(
                out,
                "  {:>9} {:<24} {:>8.1} MB {:>10.1} ms",
                step.size,
                shape.unit,
                step.bytes as f64 / 1e6,
                step.time.as_secs_f64() * 1000.0
            );
        }
    }
    Ok(out)
}

fn walk_bytes(dir: &Utf8Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// Two services; `orders` declares `mod big;` (written by the Rust shape, empty otherwise).
fn write_base(dir: &Utf8Path) -> std::io::Result<()> {
    let manifest = |name: &str| {
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\naxum = \"0.8\"\nsqlx = {{ version = \"0.8\", features = [\"postgres\"] }}\n\
             tokio = {{ version = \"1\", features = [\"full\"] }}\n"
        )
    };
    let main = "mod big;\n\n#[tokio::main]\nasync fn main() {\n    let app = axum::Router::new();\n    let _ = app;\n}\n";
    for name in ["orders", "inventory"] {
        std::fs::create_dir_all(dir.join(name).join("src"))?;
        std::fs::create_dir_all(dir.join(name).join("migrations"))?;
        std::fs::write(dir.join(name).join("Cargo.toml"), manifest(name))?;
        std::fs::write(dir.join(name).join("src/main.rs"), main)?;
        std::fs::write(dir.join(name).join("src/big.rs"), "")?;
    }
    std::fs::write(
        dir.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"orders\", \"inventory\"]\n",
    )
}

fn write_big_rust_file(dir: &Utf8Path, functions: usize) -> std::io::Result<()> {
    let mut text = String::from("use sqlx::PgPool;\n\n");
    for i in 0..functions {
        let _ = write!(
            text,
            "pub async fn load_{i}(pool: &PgPool, id: i64) -> Result<i64, sqlx::Error> {{\n    \
             let row: (i64,) = sqlx::query_as(\"SELECT total FROM orders_{} WHERE id = $1\")\n        \
             .bind(id)\n        .fetch_one(pool)\n        .await?;\n    \
             if row.0 > {i} {{ return Ok(row.0 + 1); }}\n    Ok(row.0)\n}}\n\n",
            i % 50
        );
    }
    std::fs::write(dir.join("orders/src/big.rs"), text)
}

fn write_big_migration(dir: &Utf8Path, statements: usize) -> std::io::Result<()> {
    let mut text = String::new();
    for i in 0..statements {
        if i % 4 == 0 {
            let _ = writeln!(
                text,
                "CREATE TABLE items_{i} (id BIGINT PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(10, 2));"
            );
        } else {
            let _ = writeln!(
                text,
                "INSERT INTO items_{} (id, name, price) VALUES ({i}, 'item {i}', {i}.50);",
                i - i % 4
            );
        }
    }
    std::fs::write(dir.join("orders/migrations/0001_big.sql"), text)
}

fn write_big_compose(dir: &Utf8Path, services: usize) -> std::io::Result<()> {
    let mut text = String::from("services:\n  db:\n    image: postgres:16\n");
    for i in 0..services {
        let _ = write!(
            text,
            "  svc-{i}:\n    image: example/svc:{i}\n    depends_on:\n      - db\n    \
             environment:\n      DATABASE_URL: postgres://app:app@db:5432/svc_{i}\n"
        );
    }
    std::fs::write(dir.join("docker-compose.yml"), text)
}

fn write_nested_yaml(dir: &Utf8Path, levels: usize) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("k8s"))?;
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n  nested: {}1{}\n",
        "[".repeat(levels),
        "]".repeat(levels)
    );
    std::fs::write(dir.join("k8s/deep.yaml"), text)
}

fn write_else_if_chain(dir: &Utf8Path, links: usize) -> std::io::Result<()> {
    let mut text = String::from("pub fn state(a: u64) -> u64 {\n");
    for i in 0..links {
        let _ = writeln!(text, "    if a == {i} {{ {i} }} else");
    }
    text.push_str("    { 0 }\n}\n");
    std::fs::write(dir.join("orders/src/big.rs"), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponent_of_a_power_law() {
        let steps: Vec<Step> = [1usize, 2, 4, 8]
            .iter()
            .map(|&k| Step {
                size: k * 1000,
                bytes: 0,
                time: Duration::from_micros((k * k * 100) as u64),
            })
            .collect();
        assert!((exponent(&steps) - 2.0).abs() < 1e-9);
    }
}
