//! Rust extractor on the fixture workspace: every database API shape, ORM declarations,
//! cross-crate uses, migrations calls, environment lookups, and the look-alikes that must stay
//! silent.

mod extract_support;
use extract_support as common;

use archlint::extract::rust::extract_file;
use archlint::extract::{CrateContext, Facts};
use archlint::model::{Access, Certainty, FileId, SqlOrigin};
use camino::Utf8Path;

fn extract(crate_id: usize, path: &str) -> (String, Facts) {
    let root = common::fixture_root();
    let crates = common::crates();
    let cx = CrateContext {
        root: &root,
        krate: &crates[crate_id],
        crates: &crates,
    };
    let text = common::read(&root, path);
    let mut facts = Facts::default();
    extract_file(&cx, FileId(0), Utf8Path::new(path), &text, &mut facts);
    (text, facts)
}

fn tables_of(facts: &Facts) -> Vec<String> {
    facts
        .queries
        .iter()
        .flat_map(|q| q.tables.iter().map(|t| t.table.to_string()))
        .collect()
}

#[test]
fn sqlx_shapes() {
    let (text, facts) = extract(0, "orders/src/lib.rs");
    insta::assert_json_snapshot!("sqlx_shapes", common::summary(&text, &facts));
}

#[test]
fn sqlx_table_spans_point_into_literals() {
    let (text, facts) = extract(0, "orders/src/lib.rs");
    for query in &facts.queries {
        for table in &query.tables {
            let at = common::text_at(&text, &table.span);
            let inside_literal = at.eq_ignore_ascii_case(&table.table.name)
                || at.ends_with(&format!(".{}", table.table.name))
                || at.trim_matches('"') == table.table.name;
            let whole_expression = at == common::text_at(&text, &query.span);
            assert!(
                inside_literal || whole_expression,
                "{} -> {at:?}",
                table.table
            );
        }
    }
}

#[test]
fn test_code_and_look_alikes_are_silent() {
    let (_, facts) = extract(0, "orders/src/lib.rs");
    let tables = tables_of(&facts);
    for silent in ["test_only", "test_only_too", "a", "the", "cache", "basket"] {
        assert!(
            !tables.iter().any(|t| t == silent),
            "{silent} in {tables:?}"
        );
    }
    assert!(!facts
        .connections
        .iter()
        .any(|c| c.target.database.as_deref() == Some("test_db")));
    assert!(!facts
        .queries
        .iter()
        .any(|q| q.function.ends_with("look_alikes")));
}

#[test]
fn format_templates_are_marked() {
    let (_, facts) = extract(0, "orders/src/lib.rs");
    let templates: Vec<_> = facts
        .queries
        .iter()
        .filter(|q| q.function.ends_with("templates"))
        .collect();
    // The const-filled hole resolves the table; the tenant-schema hole keeps the table only.
    assert_eq!(templates[0].certainty, Certainty::Template);
    assert_eq!(templates[0].tables[0].table.to_string(), "orders");
    assert_eq!(templates[1].tables[0].table.to_string(), "invoices");
    // push_str of literals resolves exactly.
    assert_eq!(templates[2].certainty, Certainty::Exact);
    assert_eq!(templates[2].tables[0].table.to_string(), "shipments");
}

#[test]
fn opaque_macros_are_looked_into() {
    let (_, facts) = extract(0, "orders/src/lib.rs");
    let tables = tables_of(&facts);
    for table in ["outbox", "inventory", "audit_log", "quotas"] {
        assert!(
            tables.iter().any(|t| t == table),
            "{table} missing from {tables:?}"
        );
    }
    let query_of = |name: &str| {
        facts
            .queries
            .iter()
            .find(|q| q.tables.iter().any(|t| t.table.name == name))
            .unwrap()
    };
    // An argument of an unknown macro that parses as an expression.
    assert_eq!(query_of("audit_log").origin, SqlOrigin::Literal);
    assert_eq!(query_of("audit_log").certainty, Certainty::Exact);
    // A macro body that does not parse at all: literal scan, less certain.
    assert_eq!(query_of("quotas").origin, SqlOrigin::Literal);
    assert_eq!(query_of("quotas").certainty, Certainty::Unknown);
}

#[test]
fn diesel_and_sea_orm_declarations() {
    let (text, facts) = extract(0, "orders/src/schema.rs");
    insta::assert_json_snapshot!("diesel_schema", common::summary(&text, &facts));
    let (text, facts) = extract(0, "orders/src/entity/order.rs");
    insta::assert_json_snapshot!("sea_orm_entity", common::summary(&text, &facts));
}

#[test]
fn cross_crate_uses_and_tokio_postgres() {
    let (text, facts) = extract(1, "billing/src/lib.rs");
    insta::assert_json_snapshot!("billing", common::summary(&text, &facts));
    assert!(facts.crate_uses.iter().all(|u| u.used_crate.0 == 0));
    // `use crate::local::orders;` makes `orders::helper()` a local path, not the orders crate.
    assert!(!facts.crate_uses.iter().any(|u| u.path == "orders::helper"));
    // A leading `::` always names the crate.
    assert!(facts
        .crate_uses
        .iter()
        .any(|u| u.path == "orders::schema::orders::table"));
    let prepared = facts
        .queries
        .iter()
        .find(|q| q.statements == ["PREPARE TRANSACTION"])
        .expect("2PC statement recorded");
    assert_eq!(prepared.certainty, Certainty::Template);
}

#[test]
fn other_clients() {
    let (text, facts) = extract(2, "legacy/src/lib.rs");
    insta::assert_json_snapshot!("legacy", common::summary(&text, &facts));
    let origins: Vec<SqlOrigin> = facts.queries.iter().map(|q| q.origin).collect();
    for origin in [
        SqlOrigin::Rusqlite,
        SqlOrigin::MySqlAsync,
        SqlOrigin::DieselSqlQuery,
        SqlOrigin::SeaOrmRaw,
    ] {
        assert!(
            origins.contains(&origin),
            "{origin:?} missing from {origins:?}"
        );
    }
}

#[test]
fn sea_orm_migration() {
    let (text, facts) = extract(3, "migration/src/m20240101_create_post.rs");
    insta::assert_json_snapshot!("sea_orm_migration", common::summary(&text, &facts));
    let set = &facts.migrations[0];
    let created: Vec<String> = set
        .tables
        .iter()
        .filter(|t| t.access == Access::Create)
        .map(|t| t.table.to_string())
        .collect();
    assert_eq!(created, ["posts", "blog_comment", "tags", "cakes"]);
    assert!(
        !set.tables.iter().any(|t| t.access == Access::Drop),
        "down() is not ownership"
    );
}

#[test]
fn unparsable_file_keeps_its_literals() {
    let (text, facts) = extract(4, "broken/src/lib.rs");
    insta::assert_json_snapshot!("broken", common::summary(&text, &facts));
    assert_eq!(facts.notes.len(), 1);
    assert_eq!(tables_of(&facts), ["sessions"]);
}

#[test]
fn sql_consts_used_from_other_files_are_recorded_where_defined() {
    let (text, facts) = extract(0, "orders/src/db/queries.rs");
    let found: Vec<(String, SqlOrigin, String)> = facts
        .queries
        .iter()
        .map(|q| (q.tables[0].table.to_string(), q.origin, q.function.clone()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "used_here".to_owned(),
                SqlOrigin::SqlxFunction,
                "db::queries::local".to_owned()
            ),
            ("customers".to_owned(), SqlOrigin::Literal, String::new()),
        ]
    );
    let customers = &facts.queries[1].tables[0];
    assert_eq!(common::text_at(&text, &customers.span), "customers");
}

#[test]
fn file_that_tokenizes_but_does_not_parse() {
    let (_, facts) = extract(4, "broken/src/half.rs");
    assert_eq!(facts.notes.len(), 1);
    assert!(facts.notes[0].span.is_some());
    assert_eq!(tables_of(&facts), ["b"]);
    assert_eq!(facts.queries[0].certainty, Certainty::Unknown);
    assert_eq!(facts.connections.len(), 1);
}

#[test]
fn include_str_is_read_relative_to_the_file() {
    let (_, facts) = extract(0, "orders/src/db/report.rs");
    assert_eq!(facts.queries[0].origin, SqlOrigin::IncludeStr);
    assert_eq!(tables_of(&facts), ["orders", "order_lines"]);
    assert_eq!(facts.queries[0].function, "db::report::daily");
}
