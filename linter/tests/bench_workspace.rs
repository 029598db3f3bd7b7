//! The synthetic benchmark workspace is valid Rust and SQL and holds exactly the planted
//! cross-service reads, so the benchmark measures a check that does its full work.

use archlint::Options;
use camino::Utf8PathBuf;

#[test]
fn generated_workspace_parses_and_has_one_finding_per_planted_read() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).expect("UTF-8 path");
    // Services 9 and 19 read their neighbour's table.
    archlint::bench::generate(&root, 20, 4_000).expect("workspace written");
    let report = archlint::check(&Options::new(root)).expect("check runs");
    assert!(
        report.model.notes.is_empty(),
        "no syntax or SQL notes: {:?}",
        report.model.notes
    );
    let cross: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.rule)
        .filter(|r| *r != "missing-idempotency")
        .collect();
    assert_eq!(
        cross,
        ["cross-service-db-access", "cross-service-db-access"]
    );
    // The generated `POST` handlers insert without an idempotency key: the benchmark runs
    // that rule's full work too.
    assert!(report
        .findings
        .iter()
        .filter(|f| f.rule == "missing-idempotency")
        .all(|f| f.message.contains("create_")));
    let queries = report.model.queries.len();
    assert!(
        queries > 200,
        "every handler's SQL is extracted ({queries} queries)"
    );
    assert!(report
        .model
        .queries
        .iter()
        .all(|q| !q.tables.is_empty() && q.statements.len() == 1));
}
