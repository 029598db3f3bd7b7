//! Runs the `cargo-archlint` binary on the fixture workspaces in `tests/fixtures/` (one per
//! positive case, each with a look-alike negative) and on `examples/shop`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn fixture(case: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(case)
}

fn archlint(args: &[&str], workspace: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-archlint"))
        .arg("archlint")
        .args(args)
        .arg("--manifest-path")
        .arg(workspace)
        .env_remove("NO_COLOR")
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo-archlint: {e}"))
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The SARIF results and notifications (the rule table is checked once, not per case).
fn sarif_results(output: &Output) -> String {
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("invalid SARIF ({e}): {}{}", stdout(output), stderr(output)));
    let run = &sarif["runs"][0];
    let value = serde_json::json!({
        "results": run["results"],
        "notifications": run["invocations"][0]["toolExecutionNotifications"],
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

fn json(workspace: &Path) -> (i32, serde_json::Value) {
    let output = archlint(&["check", "--format", "json"], workspace);
    let value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("invalid JSON ({e}): {}{}", stdout(&output), stderr(&output)));
    (output.status.code().unwrap_or(-1), value)
}

fn rules_found(value: &serde_json::Value) -> Vec<String> {
    let mut rules: Vec<String> = value["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|f| f["rule"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    rules.dedup();
    rules
}

/// Workspaces that must produce no finding at all (look-alikes of the positive cases).
const CLEAN: &[&str] = &[
    // A mutating call to another service after a write is a saga step, not a dual write.
    "http-call-after-db-write-is-a-saga-step",
    "own-tables-only",
    "separate-databases-one-server",
    "unresolved-database-url",
    "lib-shared-by-one-service",
    "own-persistence-crate",
    "per-service-outbox",
    "allowed-exception",
    "diesel-own-schema",
    "kubernetes-separate-databases",
    "seaorm-own-entities",
    "prepared-statements-not-2pc",
    "reference-data-look-alikes",
    "iso-list-look-alikes",
    "block-in-place-in-amqp-handler",
    "diesel-in-spawn-blocking-sqs-handler",
    "event-envelope-with-schema-version",
    "versioned-topic-event",
    "kafka-consumer-checks-processed-messages",
    "post-handler-honours-idempotency-key",
    "redis-stream-consumer-set-nx-guard",
    "outbox-in-same-transaction",
    "saga-compensates-on-error",
    "grpc-saga-releases-and-voids",
    "saga-step-compensate-cancels",
    "choreography-releases-on-order-cancelled",
    "config-file-own-database-on-compose-server",
];

/// Workspaces that break a rule, with the rules they break.
const POSITIVE: &[(&str, &[&str])] = &[
    ("select-other-service-table", &["cross-service-db-access"]),
    (
        "persistence-crate-migrated-by-its-owner",
        &["cross-service-db-access"],
    ),
    ("config-file-shares-compose-database", &["shared-database"]),
    ("shared-database-compose", &["shared-database"]),
    ("shared-database-through-pooler", &["shared-database"]),
    ("shared-persistence-crate", &["shared-database"]),
    ("foreign-persistence-crate", &["cross-service-db-access"]),
    ("diesel-redeclared-table", &["cross-service-db-access"]),
    ("kubernetes-shared-database", &["shared-database"]),
    ("seaorm-redeclared-entity", &["cross-service-db-access"]),
    ("two-phase-commit", &["distributed-transaction"]),
    ("duplicated-reference-data", &["duplicated-reference-data"]),
    ("hard-coded-iso-list", &["duplicated-reference-data"]),
    ("blocking-diesel-in-sqs-handler", &["blocking-saga-step"]),
    ("blocking-http-in-amqp-handler", &["blocking-saga-step"]),
    ("unversioned-event-published", &["unversioned-event"]),
    ("kafka-consumer-without-dedup", &["missing-idempotency"]),
    (
        "post-handler-without-idempotency-key",
        &["missing-idempotency"],
    ),
    (
        "redis-stream-consumer-without-dedup",
        &["missing-idempotency"],
    ),
    ("dual-write-db-then-publish", &["dual-write"]),
    ("saga-without-compensation", &["missing-compensation"]),
    ("grpc-saga-without-compensation", &["missing-compensation"]),
    ("saga-step-with-empty-compensate", &["missing-compensation"]),
    (
        "choreography-ignores-order-cancelled",
        &["missing-compensation"],
    ),
];

#[test]
fn look_alikes_are_clean() {
    for case in CLEAN {
        let (code, value) = json(&fixture(case));
        assert_eq!(value["findings"], serde_json::json!([]), "{case}");
        assert_eq!(code, 0, "{case}");
    }
}

#[test]
fn positive_cases_break_their_rules() {
    for (case, expected) in POSITIVE {
        let (code, value) = json(&fixture(case));
        let mut found = rules_found(&value);
        found.sort();
        found.dedup();
        assert_eq!(found, *expected, "{case}: {value:#}");
        // Warnings alone (`duplicated-reference-data` in the recommended preset) exit 0.
        let denied = value["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["level"] == "deny"));
        assert_eq!(code, if denied { 1 } else { 0 }, "{case}");
    }
    let (_, value) = json(&fixture("allowed-exception"));
    assert_eq!(value["suppressed"], 1);
}

#[test]
fn human_and_sarif_snapshots() {
    let mut cases: Vec<&str> = CLEAN.to_vec();
    cases.extend(POSITIVE.iter().map(|(case, _)| *case));
    cases.push("unparsable-sources");
    for case in cases {
        let human = archlint(&["--color", "never", "--width", "100"], &fixture(case));
        insta::assert_snapshot!(format!("{case}__human"), stdout(&human));
        let sarif = archlint(&["--format", "sarif"], &fixture(case));
        insta::assert_snapshot!(format!("{case}__sarif"), sarif_results(&sarif));
    }
}

#[test]
fn shop_example_snapshots() {
    let shop = repo_root().join("examples/shop");
    let human = archlint(&["check", "--color", "never", "--width", "100"], &shop);
    insta::assert_snapshot!("shop__human", stdout(&human));
    let sarif = archlint(&["check", "--format", "sarif"], &shop);
    insta::assert_snapshot!("shop__sarif", sarif_results(&sarif));
    let github = archlint(&["check", "--format", "github"], &shop);
    insta::assert_snapshot!("shop__github", stdout(&github));
}

/// `examples/clean` follows every pattern: with every rule at `deny` (the strict preset) it
/// has no finding and exits 0.
#[test]
fn clean_example_passes_every_rule() {
    let clean = repo_root().join("examples/clean");
    let config = std::fs::read_to_string(clean.join("archlint.toml")).unwrap_or_default();
    assert!(config.contains("extends = \"strict\""), "{config}");
    let output = archlint(&["rules"], &clean);
    let listed = stdout(&output);
    for rule in archlint::rules::REGISTRY {
        let line = listed
            .lines()
            .find(|l| l.contains(rule.id()))
            .unwrap_or_else(|| panic!("{} not listed:\n{listed}", rule.id()));
        assert!(line.contains("deny"), "{line}");
    }
    let (code, value) = json(&clean);
    assert_eq!(value["findings"], serde_json::json!([]), "{value:#}");
    assert_eq!(code, 0);
}

#[test]
fn sarif_has_the_required_shape() {
    let output = archlint(
        &["--format", "sarif"],
        &fixture("select-other-service-table"),
    );
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let driver = &sarif["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "archlint");
    let ids: Vec<&str> = driver["rules"]
        .as_array()
        .expect("rules array")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    // The rules, then the codes about suppressions.
    let registered: Vec<&str> = archlint::rules::known_ids().collect();
    assert_eq!(ids, registered);
    assert!(ids.starts_with(&["shared-database", "cross-service-db-access"]));
    for result in sarif["runs"][0]["results"]
        .as_array()
        .expect("results array")
    {
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().expect("uri");
        assert!(!uri.starts_with('/'), "{uri} is not relative");
        assert!(location["region"]["startLine"]
            .as_u64()
            .is_some_and(|l| l >= 1));
    }
}

#[test]
fn unparsable_files_become_notes_not_crashes() {
    let (code, value) = json(&fixture("unparsable-sources"));
    assert_eq!(code, 0, "{value:#}");
    let notes = value["notes"].as_array().expect("notes array");
    assert!(
        notes
            .iter()
            .any(|n| n["path"] == "orders/src/latin1.rs" && n["kind"] == "unreadable"),
        "{value:#}"
    );
    let human = archlint(&["--color", "never"], &fixture("unparsable-sources"));
    let text = stdout(&human);
    assert_eq!(text.matches("orders/src/latin1.rs").count(), 1, "{text}");
}

#[test]
fn malformed_config_exits_2_pointing_at_the_key() {
    let output = archlint(&[], &fixture("malformed-config"));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("archlint.toml"), "{err}");
    assert!(err.contains("2 │ include-test = true"), "{err}");
    assert!(err.contains("unknown field `include-test`"), "{err}");
}

#[test]
fn an_exception_without_reason_exits_2() {
    let output = archlint(&[], &fixture("exception-without-reason"));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("missing field `reason`"), "{err}");
}

#[test]
fn a_bad_level_in_workspace_metadata_points_into_cargo_toml() {
    let output = archlint(&[], &fixture("bad-level-in-manifest"));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("Cargo.toml"), "{err}");
    assert!(err.contains("shared-database = \"error\""), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let output = archlint(&["--format", "xml"], &fixture("own-tables-only"));
    assert_eq!(output.status.code(), Some(2));
    let output = Command::new(env!("CARGO_BIN_EXE_cargo-archlint"))
        .args(["archlint", "explain", "no-such-rule"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn works_as_cargo_subcommand_and_directly() {
    let workspace = fixture("own-tables-only");
    let direct = Command::new(env!("CARGO_BIN_EXE_cargo-archlint"))
        .args(["--format", "json", "--manifest-path"])
        .arg(&workspace)
        .output()
        .expect("runs");
    let as_subcommand = archlint(&["--format", "json"], &workspace);
    assert_eq!(direct.status.code(), Some(0));
    assert_eq!(direct.stdout, as_subcommand.stdout);
}

#[test]
fn explain_and_rules_print_the_documentation() {
    let output = Command::new(env!("CARGO_BIN_EXE_cargo-archlint"))
        .args(["archlint", "explain", "shared-database"])
        .output()
        .expect("runs");
    let text = stdout(&output);
    assert!(text.starts_with("# shared-database"), "{text}");
    assert!(text.contains("## How to fix"), "{text}");
    let output = Command::new(env!("CARGO_BIN_EXE_cargo-archlint"))
        .args(["archlint", "rules"])
        .output()
        .expect("runs");
    let text = stdout(&output);
    assert!(text.contains("cross-service-db-access"), "{text}");
    assert!(text.contains("deny"), "{text}");
}

#[test]
fn manifest_fallback_finds_the_same_workspace() {
    let shop = repo_root().join("examples/shop");
    let with_cargo = archlint(&["map"], &shop);
    let without_cargo = Command::new(env!("CARGO_BIN_EXE_cargo-archlint"))
        .args(["archlint", "map", "--manifest-path"])
        .arg(&shop)
        .env("CARGO", "/nonexistent/cargo")
        .output()
        .expect("runs");
    assert_eq!(stdout(&with_cargo), stdout(&without_cargo));
    assert!(stdout(&with_cargo).contains("service shipping (binary using axum)"));
    assert!(stdout(&with_cargo).contains("crates: inventory-store, shipping"));
}

#[test]
fn configured_services_join_detected_ones() {
    let output = archlint(
        &["map", "--format", "json"],
        &fixture("configured-services"),
    );
    let model: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("invalid JSON ({e}): {}", stderr(&output)));
    let services: Vec<(String, String, Option<String>)> = model["services"]
        .as_array()
        .expect("services array")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or_default().to_string(),
                s["evidence"]["kind"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                s["declared_database"].as_str().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(
        services,
        [
            (
                "billing".to_string(),
                "configured".to_string(),
                Some("billing".to_string())
            ),
            ("api".to_string(), "framework".to_string(), None),
        ]
    );
}

#[test]
fn a_member_whose_manifest_does_not_parse_is_a_note() {
    // The check is incomplete without the member: exit 2, unless told to keep going.
    let (code, value) = json(&fixture("broken-member-manifest"));
    assert_eq!(code, 2, "{value:#}");
    let keep_going = archlint(
        &["check", "--format", "json", "--keep-going"],
        &fixture("broken-member-manifest"),
    );
    assert_eq!(keep_going.status.code(), Some(0), "{}", stderr(&keep_going));
    let notes = value["notes"].as_array().expect("notes array");
    assert!(
        notes
            .iter()
            .any(|n| n["path"] == "payments/Cargo.toml" && n["kind"] == "config-syntax"),
        "{value:#}"
    );
    let map = stdout(&archlint(&["map"], &fixture("broken-member-manifest")));
    assert!(map.contains("service orders (binary using axum)"), "{map}");
}

#[test]
fn a_configured_service_matching_no_member_exits_2() {
    let output = archlint(&[], &fixture("unknown-configured-service"));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("no workspace member matches service `billing`"),
        "{err}"
    );
    assert!(err.contains("[services.billing]"), "{err}");
}

#[test]
fn every_rule_is_listed_and_explained() {
    let output = Command::new(env!("CARGO_BIN_EXE_cargo-archlint"))
        .args(["archlint", "rules"])
        .output()
        .expect("runs");
    let listed = stdout(&output);
    // The codes about suppressions are listed and explained like rules.
    let codes = archlint::suppress::CODES.iter().map(|c| (c.id, "warn"));
    for (rule, level) in [
        ("distributed-transaction", "deny"),
        ("duplicated-reference-data", "warn"),
    ]
    .into_iter()
    .chain(codes)
    {
        assert!(
            listed
                .lines()
                .any(|l| l.split_whitespace().take(2).eq([rule, level])),
            "{listed}"
        );
        let output = Command::new(env!("CARGO_BIN_EXE_cargo-archlint"))
            .args(["archlint", "explain", rule])
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(0), "{rule}");
        let text = stdout(&output);
        assert!(text.starts_with(&format!("# {rule}")), "{text}");
        for section in [
            "## What it does",
            "## Why is this bad",
            "## Example",
            "## How to fix",
        ] {
            assert!(text.contains(section), "{rule} lacks {section}");
        }
    }
}

#[test]
fn every_finding_has_a_confidence_and_the_flag_sets_the_lowest_reported() {
    let workspace = fixture("redis-stream-consumer-without-dedup");
    let (_, value) = json(&workspace);
    let findings = value["findings"].as_array().cloned().unwrap_or_default();
    assert!(!findings.is_empty());
    assert!(
        findings.iter().all(|f| f["confidence"] == "medium"),
        "{value:#}"
    );

    let output = archlint(
        &["check", "--format", "json", "--min-confidence", "high"],
        &workspace,
    );
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(value["findings"], serde_json::json!([]), "{value:#}");

    // Every other fixture's findings say how sure they are.
    for (case, _) in POSITIVE {
        let (_, value) = json(&fixture(case));
        for finding in value["findings"].as_array().into_iter().flatten() {
            assert!(
                matches!(
                    finding["confidence"].as_str(),
                    Some("high" | "medium" | "low")
                ),
                "{case}: {finding:#}"
            );
        }
    }
}

/// With `--color auto` (the default) and output to a pipe, neither the findings on stdout nor
/// a fatal error on stderr carry ANSI colour codes.
#[test]
fn no_colours_when_output_is_not_a_terminal() {
    let shop = repo_root().join("examples/shop");
    let output = archlint(&["check"], &shop);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).contains("shared-database"));
    assert!(!stdout(&output).contains('\u{1b}'), "{}", stdout(&output));
    let missing = archlint(&["check"], &repo_root().join("no-such-workspace"));
    assert_eq!(missing.status.code(), Some(2));
    assert!(!stderr(&missing).is_empty());
    assert!(!stderr(&missing).contains('\u{1b}'), "{}", stderr(&missing));
    // `--color always` is the way to ask for them.
    let forced = archlint(&["check", "--color", "always"], &shop);
    assert!(stdout(&forced).contains('\u{1b}'));
}
