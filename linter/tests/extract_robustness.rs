//! Extractors never panic, and every span they return lies on character boundaries inside the
//! text, whatever the input: token soups built from the shapes that once broke them (multi-byte
//! characters after escapes, unterminated quotes and dollar-quotes, literal suffixes).

mod extract_support;
use extract_support as common;

use archlint::extract::rust::extract_file;
use archlint::extract::sql::analyze;
use archlint::extract::{CrateContext, Facts};
use archlint::model::{FileId, SqlDialect};
use camino::Utf8Path;

/// Deterministic pseudo-random soups of `pieces`.
fn soups(pieces: &'static [&'static str], count: usize, seed: u64) -> impl Iterator<Item = String> {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    (0..count).map(move |_| {
        let len = next() % 24;
        let mut soup = String::new();
        for _ in 0..len {
            soup.push_str(pieces[next() % pieces.len()]);
            if next() % 3 == 0 {
                soup.push(' ');
            }
        }
        soup
    })
}

#[test]
fn sql_analysis_survives_token_soup() {
    const PIECES: &[&str] = &[
        "SELECT",
        "FROM",
        "t",
        "\"q",
        "'",
        "$$",
        "$a$",
        "{",
        "}",
        "{x}",
        ":n",
        "::",
        "(",
        ")",
        ";",
        ",",
        ".",
        "é",
        "🚐",
        "--",
        "/*",
        "*/",
        "\\",
        "WITH",
        "AS",
        "INSERT",
        "INTO",
        "UPDATE",
        "SET",
        "DELETE",
        "CREATE",
        "TABLE",
        "BEGIN",
        "END",
        "TRIGGER",
        "FUNCTION",
        "`",
        "[",
        "]",
        "?",
        "$1",
        "FOR NO KEY UPDATE",
        "ON",
        "JOIN",
        "DROP",
        "\n",
        "E'",
        "x",
        "DO",
    ];
    for soup in soups(PIECES, 10_000, 7) {
        for dialect in [
            SqlDialect::Postgres,
            SqlDialect::MySql,
            SqlDialect::Sqlite,
            SqlDialect::Generic,
        ] {
            let analysis = analyze(&soup, dialect);
            for table in &analysis.tables {
                assert!(
                    soup.get(table.range.clone()).is_some(),
                    "{soup:?}: {table:?}"
                );
            }
            for range in &analysis.statement_ranges {
                assert!(soup.get(range.clone()).is_some(), "{soup:?}: {range:?}");
            }
        }
    }
}

#[test]
fn rust_extraction_survives_token_soup() {
    const PIECES: &[&str] = &[
        "fn f() ",
        "{",
        "}",
        "\"SELECT * FROM t\"",
        "\"\\é",
        "r#\"",
        "\"#",
        "sqlx::query!(",
        "sqlx::query(",
        ")",
        "(",
        "format!(",
        "\"{}\"",
        "\"{x}\"",
        ";",
        "é",
        "'",
        "//",
        "/*",
        "*/",
        "\\",
        "#[cfg(test)]",
        "mod m ",
        "use orders::",
        "orders::x",
        "::",
        "diesel::table!{",
        "\"postgres://é:1/x\"",
        "\"postgres://h:99999/d\"",
        ",",
        "=>",
        "tokio::select!{",
        "let x = ",
        "x",
        ".execute(",
        "client.query(",
        "env::var(\"A\")",
        ".unwrap_or(",
        "impl MigrationTrait for M ",
        "async fn up() ",
        "Table::create().table(",
        "X::Table",
        "concat!(",
        "include_str!(\"../../../../../../etc/passwd\")",
        "include_str!(\"nope.sql\")",
        "sqlx::query_file!(\"x.sql\")",
        "sqlx::migrate!(\"../../..\")",
        "\n",
        "#",
        "!",
        "$",
        "macro_rules! m ",
        "'a",
        "b\"x\"",
        "1",
        "\"\\u{1F600}\"",
        "\"\\x41\"",
        "\"a\\\n   b\"",
        "\"x\"suffix",
    ];
    let root = common::fixture_root();
    let crates = common::crates();
    let cx = CrateContext {
        root: &root,
        krate: &crates[1],
        crates: &crates,
    };
    for soup in soups(PIECES, 10_000, 3) {
        let mut facts = Facts::default();
        extract_file(
            &cx,
            FileId(0),
            Utf8Path::new("billing/src/lib.rs"),
            &soup,
            &mut facts,
        );
        let spans = facts
            .queries
            .iter()
            .flat_map(|q| std::iter::once(q.span).chain(q.tables.iter().map(|t| t.span)))
            .chain(facts.crate_uses.iter().map(|u| u.span))
            .chain(facts.connections.iter().map(|c| c.span))
            .chain(facts.env_lookups.iter().map(|e| e.span));
        for span in spans {
            assert!(
                soup.get(span.start as usize..span.end as usize).is_some(),
                "{soup:?}: {span:?}"
            );
        }
    }
}
