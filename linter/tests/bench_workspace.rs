//! The synthetic benchmark workspace is valid Rust and SQL and holds exactly the planted
//! cross-service reads, so the benchmark measures a check that does its full work.

use archlint::Options;
use camino::Utf8PathBuf;

#[test]
fn generated_workspace_parses_and_has_one_finding_per_planted_read() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).expect("UTF-8 path");
    // Every tenth service (9 and 19 here) reads its neighbour's table.
    archlint::bench::generate(&root, 20, 4_000).expect("workspace written");
    let report = archlint::check(&Options::new(root)).expect("check runs");
    assert!(
        report.model.notes.is_empty(),
        "no syntax or SQL notes: {:?}",
        report.model.notes
    );
    // Exactly the two planted reads, and nothing else: the generated `POST` handlers are plain
    // creates of one row of the service's own, which `missing-idempotency` judges and passes.
    let found: Vec<(&str, String)> = report
        .findings
        .iter()
        .map(|f| (f.rule, f.message.clone()))
        .collect();
    assert_eq!(found.len(), 2, "{found:#?}");
    for (service, table) in [("svc-009", "records_010"), ("svc-019", "records_000")] {
        assert!(
            found
                .iter()
                .any(|(rule, message)| *rule == "cross-service-db-access"
                    && message.contains(&format!("`{service}`"))
                    && message.contains(&format!("`{table}`"))),
            "{service} reads {table}: {found:#?}"
        );
    }
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
