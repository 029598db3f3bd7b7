//! Runs the deployment extractor on fixture files.
#![allow(dead_code)]

use archlint::extract::deploy::{extract_file, DeployFile, DeployFileKind};
use archlint::extract::Facts;
use archlint::model::{Crate, CrateId, DbEngine, DbTarget, FileId, SqlDialect};
use camino::{Utf8Path, Utf8PathBuf};

pub fn fixture_root(name: &str) -> Utf8PathBuf {
    Utf8PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/deploy")
        .join(name)
}

/// Extracts one file of a fixture workspace.
pub fn extract(fixture: &str, path: &str, kind: DeployFileKind, owner: Option<CrateId>) -> Facts {
    let root = fixture_root(fixture);
    let text = std::fs::read_to_string(root.join(path)).expect("fixture file exists");
    extract_text(&root, path, kind, owner, &text)
}

pub fn extract_text(
    root: &Utf8Path,
    path: &str,
    kind: DeployFileKind,
    owner: Option<CrateId>,
    text: &str,
) -> Facts {
    extract_with_crates(root, path, kind, owner, text, &[])
}

/// A binary crate of the workspace, for name matching.
pub fn bin_crate(id: u32, name: &str) -> Crate {
    Crate {
        id: CrateId(id),
        name: name.to_string(),
        dir: Utf8PathBuf::from(name),
        manifest: FileId(0),
        has_bin: true,
        has_lib: false,
        dockerfile: None,
        dependencies: Vec::new(),
        dialect: SqlDialect::Postgres,
    }
}

pub fn extract_with_crates(
    root: &Utf8Path,
    path: &str,
    kind: DeployFileKind,
    owner: Option<CrateId>,
    text: &str,
    crates: &[Crate],
) -> Facts {
    let input = DeployFile {
        kind,
        file: FileId(7),
        root,
        path: Utf8Path::new(path),
        owner,
        text,
    };
    let mut facts = Facts::default();
    extract_file(&input, crates, &mut facts);
    facts
}

pub fn target(
    engine: DbEngine,
    host: Option<&str>,
    port: Option<u16>,
    db: Option<&str>,
) -> DbTarget {
    DbTarget {
        engine,
        host: host.map(str::to_string),
        port,
        database: db.map(str::to_string),
    }
}

pub fn pg(host: &str, db: &str) -> DbTarget {
    target(DbEngine::Postgres, Some(host), None, Some(db))
}

/// The text a span points at.
pub fn spanned<'t>(text: &'t str, span: &archlint::model::Span) -> &'t str {
    &text[span.start as usize..span.end as usize]
}
