//! Migration directories: sqlx, diesel, refinery and plain layouts, down files, bad SQL, and
//! the `migrate!`/`embed_migrations!` calls that name them.

mod extract_support;
use extract_support as common;

use archlint::extract::migrations::extract_dir;
use archlint::extract::rust::extract_file;
use archlint::extract::{CrateContext, Facts};
use archlint::model::{Access, MigrationTool, Model, NoteKind, SqlOrigin};
use camino::Utf8Path;

fn extract(crate_id: usize, dir: &str, hint: Option<MigrationTool>) -> (Model, Facts) {
    let root = common::fixture_root();
    let crates = common::crates();
    let cx = CrateContext {
        root: &root,
        krate: &crates[crate_id],
        crates: &crates,
    };
    let mut model = Model::default();
    model.root = root.clone();
    let facts = extract_dir(&mut model, &cx, Utf8Path::new(dir), hint, None);
    (model, facts)
}

/// Renders table references with the text they point at in their own file.
fn rendered(model: &Model, facts: &Facts) -> serde_json::Value {
    let root = common::fixture_root();
    let text_of = |span: &archlint::model::Span| {
        let path = &model.file(span.file).path;
        let text = common::read(&root, path.as_str());
        format!(
            "{path}:{}:{} `{}`",
            span.line,
            span.column,
            common::text_at(&text, span)
        )
    };
    serde_json::json!({
        "files": model.files.iter().map(|f| f.path.to_string()).collect::<Vec<_>>(),
        "migrations": facts.migrations.iter().map(|m| serde_json::json!({
            "dir": m.dir,
            "tool": m.tool,
            "tables": m.tables.iter().map(|t| format!("{:?} {} @ {}", t.access, t.table, text_of(&t.span))).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "queries": facts.queries.iter().map(|q| serde_json::json!({
            "statements": q.statements,
            "certainty": q.certainty,
            "tables": q.tables.iter().map(|t| format!("{:?} {} @ {}", t.access, t.table, text_of(&t.span))).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "notes": facts.notes.iter().map(|n| serde_json::json!({
            "kind": n.kind,
            "at": n.span.as_ref().map(|s| format!("{}:{}", s.line, s.column)),
            "message": n.message,
        })).collect::<Vec<_>>(),
    })
}

#[test]
fn sqlx_directory() {
    let (model, facts) = extract(0, "orders/migrations", Some(MigrationTool::Sqlx));
    insta::assert_json_snapshot!("sqlx_migrations", rendered(&model, &facts));
    let set = &facts.migrations[0];
    assert_eq!(set.tool, MigrationTool::Sqlx);
    let created: Vec<String> = set
        .tables
        .iter()
        .filter(|t| t.access == Access::Create)
        .map(|t| t.table.to_string())
        .collect();
    assert_eq!(created, ["orders", "order_lines", "order_audit"]);
    // The down file is neither registered nor read.
    assert!(!model
        .files
        .iter()
        .any(|f| f.path.as_str().ends_with(".down.sql")));
    assert!(!set
        .tables
        .iter()
        .any(|t| t.table.name == "order_lines" && t.access == Access::Drop));
    // Data statements become queries of origin Migration.
    assert!(facts
        .queries
        .iter()
        .all(|q| q.origin == SqlOrigin::Migration));
    assert!(facts
        .queries
        .iter()
        .any(|q| q.statements == ["INSERT"]
            && q.tables.iter().any(|t| t.table.name == "order_events")));
    // One note per unparsable file, one per unreadable file.
    let kinds: Vec<NoteKind> = facts.notes.iter().map(|n| n.kind).collect();
    assert_eq!(kinds, [NoteKind::SqlSyntax, NoteKind::Unreadable]);
}

#[test]
fn diesel_directory_detected_from_layout() {
    let (model, facts) = extract(6, "diesel_app/migrations", None);
    insta::assert_json_snapshot!("diesel_migrations", rendered(&model, &facts));
    assert_eq!(facts.migrations[0].tool, MigrationTool::Diesel);
    let created: Vec<String> = facts.migrations[0]
        .tables
        .iter()
        .map(|t| t.table.to_string())
        .collect();
    assert_eq!(created, ["users", "Posts", "Posts"]);
    // The trigger on "Posts" alters it; its body writes users.
    assert_eq!(facts.migrations[0].tables[2].access, Access::Alter);
}

#[test]
fn refinery_directory_in_version_order() {
    let (model, facts) = extract(5, "refinery_app/migrations", None);
    assert_eq!(facts.migrations[0].tool, MigrationTool::Refinery);
    let files: Vec<&str> = model.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        files,
        [
            "refinery_app/migrations/V1__init.sql",
            "refinery_app/migrations/V2__email.sql",
            "refinery_app/migrations/V10__archive.sql"
        ]
    );
    let tables: Vec<String> = facts.migrations[0]
        .tables
        .iter()
        .map(|t| format!("{:?} {}", t.access, t.table))
        .collect();
    assert_eq!(
        tables,
        [
            "Create accounts",
            "Alter accounts",
            "Create accounts_archive"
        ]
    );
}

#[test]
fn plain_directory_and_missing_directory() {
    let (_, facts) = extract(2, "legacy/sql", None);
    assert_eq!(facts.migrations[0].tool, MigrationTool::Plain);
    assert_eq!(facts.migrations[0].tables[0].table.name, "settings");
    let (model, facts) = extract(2, "legacy/does-not-exist", None);
    assert!(facts.migrations.is_empty() && facts.notes.is_empty() && model.files.is_empty());
    // sea-orm sets come from Rust code; the crate directory is not scanned for SQL.
    let (_, facts) = extract(3, "migration", Some(MigrationTool::SeaOrm));
    assert!(facts.migrations.is_empty());
}

#[test]
fn migration_calls_name_directories() {
    let root = common::fixture_root();
    let crates = common::crates();
    let mut found = Vec::new();
    for (crate_id, path) in [
        (5, "refinery_app/src/main.rs"),
        (6, "diesel_app/src/main.rs"),
    ] {
        let cx = CrateContext {
            root: &root,
            krate: &crates[crate_id],
            crates: &crates,
        };
        let text = common::read(&root, path);
        let mut facts = Facts::default();
        extract_file(
            &cx,
            archlint::model::FileId(0),
            Utf8Path::new(path),
            &text,
            &mut facts,
        );
        for set in facts.migrations {
            let call = common::text_at(&text, set.run_at.as_ref().unwrap());
            found.push(format!("{:?} {} <- {call}", set.tool, set.dir));
        }
    }
    assert_eq!(
        found,
        [
            "Refinery refinery_app/migrations <- refinery::embed_migrations!(\"migrations\")",
            "Diesel diesel_app/migrations <- embed_migrations!()",
            "Sqlx orders/migrations <- sqlx::migrate!(\"../orders/migrations\")",
            "Sqlx diesel_app/migrations <- sqlx::migrate::Migrator::new(std::path::Path::new(\"./migrations\"))",
        ]
    );
}
