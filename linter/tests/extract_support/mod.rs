//! Helpers shared by the extractor tests: a fixture workspace and readable fact summaries.
#![allow(dead_code)]

use archlint::extract::Facts;
use archlint::model::{Crate, CrateId, Dependency, FileId, Span, SqlDialect, TableRef};
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::{json, Value};

pub fn fixture_root() -> Utf8PathBuf {
    Utf8PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract/ws")
}

fn dep(code_name: &str, member: Option<u32>) -> Dependency {
    Dependency {
        code_name: code_name.to_owned(),
        package: code_name.replace('_', "-"),
        member: member.map(CrateId),
        span: None,
    }
}

fn krate(id: u32, name: &str, deps: &[(&str, Option<u32>)], dialect: SqlDialect) -> Crate {
    Crate {
        id: CrateId(id),
        name: name.to_owned(),
        dir: Utf8PathBuf::from(name),
        manifest: FileId(1000 + id),
        has_bin: true,
        has_lib: true,
        dockerfile: None,
        dependencies: deps.iter().map(|(n, m)| dep(n, *m)).collect(),
        dialect,
    }
}

/// The crates of the fixture workspace, indexed by id.
pub fn crates() -> Vec<Crate> {
    vec![
        krate(
            0,
            "orders",
            &[
                ("sqlx", None),
                ("diesel", None),
                ("sea_orm", None),
                ("tokio", None),
                ("reqwest", None),
            ],
            SqlDialect::Postgres,
        ),
        krate(
            1,
            "billing",
            &[
                ("orders", Some(0)),
                ("tokio_postgres", None),
                ("diesel", None),
            ],
            SqlDialect::Postgres,
        ),
        krate(
            2,
            "legacy",
            &[
                ("rusqlite", None),
                ("mysql_async", None),
                ("diesel", None),
                ("sea_orm", None),
            ],
            SqlDialect::Generic,
        ),
        krate(
            3,
            "migration",
            &[("sea_orm_migration", None)],
            SqlDialect::Postgres,
        ),
        krate(4, "broken", &[], SqlDialect::Postgres),
        krate(
            5,
            "refinery_app",
            &[("refinery", None)],
            SqlDialect::Postgres,
        ),
        krate(
            6,
            "diesel_app",
            &[("diesel", None), ("diesel_migrations", None)],
            SqlDialect::Sqlite,
        ),
    ]
}

pub fn text_at(text: &str, span: &Span) -> String {
    text.get(span.start as usize..span.end as usize)
        .unwrap_or("<out of range>")
        .to_owned()
}

fn at(span: &Span) -> String {
    format!("{}:{}", span.line, span.column)
}

fn table_ref(text: &str, t: &TableRef) -> String {
    format!(
        "{} {} @ {} `{}`",
        serde_json::to_value(t.access).unwrap().as_str().unwrap(),
        t.table,
        at(&t.span),
        text_at(text, &t.span).replace('\n', "\\n")
    )
}

/// A readable rendering of the facts found in one file whose text is `text`.
pub fn summary(text: &str, facts: &Facts) -> Value {
    let queries: Vec<Value> = facts
        .queries
        .iter()
        .map(|q| {
            json!({
                "at": at(&q.span),
                "origin": q.origin,
                "certainty": q.certainty,
                "function": q.function,
                "statements": q.statements,
                "tables": q.tables.iter().map(|t| table_ref(text, t)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let migrations: Vec<Value> = facts
        .migrations
        .iter()
        .map(|m| {
            json!({
                "dir": m.dir,
                "tool": m.tool,
                "run_at": m.run_at.as_ref().map(|s| format!("{} `{}`", at(s), text_at(text, s))),
                "tables": m.tables.iter().map(|t| table_ref(text, t)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "queries": queries,
        "migrations": migrations,
        "orm_tables": facts.orm_tables.iter().map(|o| json!({
            "kind": o.kind,
            "table": o.table.to_string(),
            "rust_path": o.rust_path,
            "at": format!("{} `{}`", at(&o.span), text_at(text, &o.span)),
        })).collect::<Vec<_>>(),
        "crate_uses": facts.crate_uses.iter().map(|u| json!({
            "used_crate": u.used_crate.0,
            "path": u.path,
            "table": u.table.as_ref().map(|t| t.to_string()),
            "at": format!("{} `{}`", at(&u.span), text_at(text, &u.span)),
        })).collect::<Vec<_>>(),
        "connections": facts.connections.iter().map(|c| json!({
            "target": c.target.to_string(),
            "source": c.source,
            "key": c.key,
            "at": format!("{} `{}`", at(&c.span), text_at(text, &c.span)),
        })).collect::<Vec<_>>(),
        "env_lookups": facts.env_lookups.iter().map(|e| json!({
            "name": e.name,
            "default": e.default,
            "at": format!("{} `{}`", at(&e.span), text_at(text, &e.span)),
        })).collect::<Vec<_>>(),
        "notes": facts.notes.iter().map(|n| json!({
            "kind": n.kind,
            "message": n.message,
        })).collect::<Vec<_>>(),
    })
}

pub fn read(root: &Utf8Path, path: &str) -> String {
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}
