//! A throwaway workspace written from strings, checked in-process: the behaviour rules are
//! tested on real Rust source without a fixture directory per variation.
#![allow(dead_code)]

use std::fs;

use archlint::rules::Finding;
use camino::Utf8PathBuf;

/// One service crate: a binary with the given dependencies (crate names, as in Cargo.toml)
/// and source files (`src/main.rs`, ...).
pub struct ServiceCrate<'a> {
    pub name: &'a str,
    pub dependencies: &'a [&'a str],
    pub files: &'a [(&'a str, &'a str)],
}

pub struct Checked {
    pub findings: Vec<Finding>,
    /// Keeps the workspace alive while findings are inspected.
    _dir: tempfile::TempDir,
}

impl Checked {
    /// Findings of one rule, as `file:line message`.
    pub fn of(&self, rule: &str) -> Vec<String> {
        self.findings
            .iter()
            .filter(|f| f.rule == rule)
            .map(|f| format!("line {}: {}", f.span.line, f.message))
            .collect()
    }
}

/// Writes the workspace and runs every rule on it with the default configuration (plus an
/// optional `archlint.toml`).
pub fn check(crates: &[ServiceCrate<'_>], config: Option<&str>) -> Checked {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let root = Utf8PathBuf::from_path_buf(dir.path().to_path_buf())
        .unwrap_or_else(|p| panic!("non-UTF-8 temp dir {}", p.display()));
    let members: Vec<String> = crates.iter().map(|c| format!("\"{}\"", c.name)).collect();
    write(
        &root.join("Cargo.toml"),
        &format!(
            "[workspace]\nresolver = \"2\"\nmembers = [{}]\n",
            members.join(", ")
        ),
    );
    if let Some(config) = config {
        write(&root.join("archlint.toml"), config);
    }
    for krate in crates {
        let deps: String = krate
            .dependencies
            .iter()
            // `name = { path = ".." }` is written as given; a bare name is any version.
            .map(|d| {
                if d.contains('=') {
                    format!("{d}\n")
                } else {
                    format!("{d} = \"*\"\n")
                }
            })
            .collect();
        write(
            &root.join(krate.name).join("Cargo.toml"),
            &format!(
                "[package]\nname = \"{}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{deps}",
                krate.name
            ),
        );
        let mut has_main = false;
        for (path, text) in krate.files {
            has_main |= *path == "src/main.rs";
            write(&root.join(krate.name).join(path), text);
        }
        if !has_main {
            write(&root.join(krate.name).join("src/main.rs"), "fn main() {}\n");
        }
    }
    let report = archlint::check(&archlint::Options::new(root.join("Cargo.toml")))
        .unwrap_or_else(|e| panic!("check failed: {e}"));
    Checked {
        findings: report.findings,
        _dir: dir,
    }
}

fn write(path: &camino::Utf8Path, text: &str) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir {parent}: {e}"));
    }
    fs::write(path, text).unwrap_or_else(|e| panic!("write {path}: {e}"));
}
