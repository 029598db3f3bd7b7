//! Adopting archlint on an existing codebase: inline suppressions, expiring exceptions,
//! baselines, rule selection, per-path overrides and statistics. Each test runs the
//! `cargo-archlint` binary (or the library, to set the date) on a copy of `examples/shop` or
//! `examples/clean` that it edits.

mod example_support;

use std::path::Path;

use serde_json::Value;

use example_support::{stderr, stdout, Workspace};

impl Workspace {
    /// The exit code and JSON output of a check with these extra arguments.
    fn json(&self, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let output = self.archlint(&all);
        let value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!("invalid JSON ({e}): {}{}", stdout(&output), stderr(&output))
        });
        (output.status.code().unwrap_or(-1), value)
    }

    /// Writes `archlint-baseline.json` with `--write-baseline` and returns it.
    fn write_baseline(&self) -> Value {
        let written = self.archlint(&["--write-baseline", BASELINE]);
        assert_eq!(written.status.code(), Some(0), "{}", stderr(&written));
        let baseline = self.baseline();
        let count = baseline["entries"].as_array().map_or(0, Vec::len);
        let said = format!("wrote {count} findings to {BASELINE}");
        assert!(stderr(&written).contains(&said), "{}", stderr(&written));
        baseline
    }

    fn baseline(&self) -> Value {
        serde_json::from_str(&self.read(BASELINE)).unwrap_or_else(|e| panic!("baseline: {e}"))
    }

    /// The library's check of the workspace, with options set by `with`.
    fn check(&self, with: impl FnOnce(&mut archlint::Options)) -> archlint::Report {
        let root = camino::Utf8PathBuf::from_path_buf(self.dir.path().to_path_buf())
            .unwrap_or_else(|p| panic!("non-UTF-8 temp dir {}", p.display()));
        let mut options = archlint::Options::new(root);
        with(&mut options);
        archlint::check(&options).unwrap_or_else(|e| panic!("check failed: {e}"))
    }
}

const BASELINE: &str = "archlint-baseline.json";

/// `rule path:line` of every finding of a JSON report.
fn findings(value: &Value) -> Vec<String> {
    value["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            format!(
                "{} {}:{}",
                f["rule"].as_str().unwrap_or_default(),
                f["location"]["path"].as_str().unwrap_or_default(),
                f["location"]["line"]
            )
        })
        .collect()
}

fn without<'a>(all: &'a [String], gone: &[&str]) -> Vec<&'a String> {
    all.iter().filter(|f| !gone.contains(&f.as_str())).collect()
}

/// Two services keeping their own `countries` table, so that a finding sits in a migration.
fn add_country_tables(shop: &Workspace, orders_comment: &str) {
    shop.write(
        "services/orders/migrations/0003_countries.sql",
        &format!("{orders_comment}CREATE TABLE countries (\n    code TEXT PRIMARY KEY,\n    name TEXT NOT NULL\n);\n"),
    );
    shop.write(
        "services/shipping/migrations/0002_countries.sql",
        "CREATE TABLE countries (\n    code TEXT PRIMARY KEY\n);\n",
    );
}

/// A read of the `orders` table in a multi-line SQL literal (the table on its second line).
const ORDER_TOTALS: &str = r#"
pub async fn order_totals(pool: &sqlx::PgPool) -> Result<Vec<i64>, sqlx::Error> {
    COMMENT
    let totals = sqlx::query_scalar(
        "SELECT total_cents
         FROM orders
         WHERE status = 'paid'",
    )
    .fetch_all(pool)
    .await?;
    Ok(totals)
}
"#;

#[test]
fn each_comment_form_silences_its_finding_and_only_it() {
    let shop = Workspace::copy_of("shop");
    add_country_tables(&shop, "");
    shop.append(
        "services/shipping/src/dispatch.rs",
        &ORDER_TOTALS.replace("COMMENT", ""),
    );
    let (code, before) = shop.json(&[]);
    assert_eq!(code, 1);
    let before = findings(&before);
    let silenced = [
        // An own-line comment above a statement spanning lines 23-27.
        "cross-service-db-access services/shipping/src/dispatch.rs:24",
        // A trailing comment.
        "cross-service-db-access services/orders/src/cancel.rs:45",
        // `allow-file`.
        "distributed-transaction services/orders/src/cancel.rs:39",
        "distributed-transaction services/orders/src/cancel.rs:51",
        "distributed-transaction services/orders/src/cancel.rs:55",
        "distributed-transaction services/orders/src/cancel.rs:58",
        // `#` in YAML, above the block holding the connection.
        "shared-database docker-compose.yml:54",
        // `--` in a migration.
        "duplicated-reference-data services/orders/migrations/0003_countries.sql:1",
        // Inside a multi-line SQL literal, by the comment above its statement.
        "cross-service-db-access services/shipping/src/dispatch.rs:55",
    ];
    for finding in silenced {
        assert!(
            before.contains(&finding.to_string()),
            "{finding}: {before:#?}"
        );
    }

    shop.edit(
        "services/shipping/src/dispatch.rs",
        "    let status: Option<String> =\n",
        "    // archlint: allow(cross-service-db-access) reason: read-only status check\n    let status: Option<String> =\n",
    );
    shop.edit(
        "services/shipping/src/dispatch.rs",
        "\n    let totals",
        "\n    // archlint: allow(cross-service-db-access) reason: nightly report, read-only\n    let totals",
    );
    shop.edit(
        "services/orders/src/cancel.rs",
        "WHERE sku = $2\")\n",
        "WHERE sku = $2\") // archlint: allow(cross-service-db-access) reason: until inventory's API has it\n",
    );
    let cancel = shop.read("services/orders/src/cancel.rs");
    shop.write(
        "services/orders/src/cancel.rs",
        &format!("// archlint: allow-file(distributed-transaction) reason: replaced by the saga in Q3\n{cancel}"),
    );
    shop.edit(
        "docker-compose.yml",
        "    environment:\n      DATABASE_URL: postgres://shop:shop@postgres:5432/payments",
        "    # archlint: allow(shared-database) reason: split planned\n    environment:\n      DATABASE_URL: postgres://shop:shop@postgres:5432/payments",
    );
    add_country_tables(
        &shop,
        "-- archlint: allow(duplicated-reference-data) reason: seeded from refdata nightly\n",
    );

    let (_, after) = shop.json(&[]);
    assert_eq!(after["silenced_inline"], silenced.len(), "{after:#}");
    // The comments added a line above some findings: compare rules and files, not lines.
    let strip_line = |f: &String| f.rsplit_once(':').map(|(a, _)| a.to_string());
    let mut expected: Vec<Option<String>> = without(&before, &silenced)
        .into_iter()
        .map(strip_line)
        .collect();
    let mut found: Vec<Option<String>> = findings(&after).iter().map(strip_line).collect();
    expected.sort();
    found.sort();
    assert_eq!(found, expected, "{after:#}");
}

#[test]
fn a_suppression_without_reason_silences_and_is_a_warning() {
    let shop = Workspace::copy_of("shop");
    shop.edit(
        "services/orders/src/cancel.rs",
        "WHERE sku = $2\")\n",
        "WHERE sku = $2\") // archlint: allow(cross-service-db-access)\n",
    );
    let (_, value) = shop.json(&[]);
    let all = findings(&value);
    assert!(
        !all.contains(&"cross-service-db-access services/orders/src/cancel.rs:45".to_string()),
        "{all:#?}"
    );
    assert!(
        all.contains(&"suppression-without-reason services/orders/src/cancel.rs:45".to_string()),
        "{all:#?}"
    );
    let warning = value["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["rule"] == "suppression-without-reason")
        .cloned()
        .unwrap_or_default();
    assert_eq!(warning["level"], "warn");
    assert_eq!(warning["location"]["column"], 88, "{warning:#}");
}

/// `examples/clean` has no finding; suppressions in it silence nothing, and what is wrong
/// with each is reported where it is written.
fn clean_with_bad_suppressions() -> Workspace {
    let clean = Workspace::copy_of("clean");
    clean.edit(
        "services/orders/src/api.rs",
        "const IDEMPOTENCY_KEY: &str = \"Idempotency-Key\";\n",
        "// archlint: allow(dual-write) reason: publishes through the outbox since v2\n\
         const IDEMPOTENCY_KEY: &str = \"Idempotency-Key\"; // archlint: allow(shared-db) reason: typo\n\
         // archlint: allow dual-write because legacy\n",
    );
    clean.edit(
        "services/orders/migrations/0001_create_orders.sql",
        "CREATE TABLE order_lines (",
        "-- archlint: allow(duplicated-reference-data)\nCREATE TABLE order_lines (",
    );
    clean.edit(
        "docker-compose.yml",
        "  orders-db:\n",
        "  # archlint: allow-file(shared-database) reason: one server in development\n  orders-db:\n",
    );
    clean
}

#[test]
fn unused_unknown_malformed_and_reasonless_suppressions_are_reported() {
    let clean = clean_with_bad_suppressions();
    let output = clean.archlint(&["--color", "never", "--width", "100"]);
    // Warnings only: the run still passes.
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    insta::assert_snapshot!("bad_suppressions__human", stdout(&output));
    let (code, value) = clean.json(&[]);
    assert_eq!(code, 0);
    insta::assert_json_snapshot!("bad_suppressions__json", value["findings"]);
    // An unused suppression of a rule that is off is not judged.
    let (_, value) = clean.json(&[
        "--ignore",
        "dual-write,shared-database,duplicated-reference-data",
    ]);
    assert_eq!(
        findings(&value),
        [
            "suppression-without-reason services/orders/migrations/0001_create_orders.sql:10",
            "suppression-unknown-rule services/orders/src/api.rs:12",
            "malformed-suppression services/orders/src/api.rs:13",
        ],
        "{value:#}"
    );
    // And `--deny-warnings` fails the run on them.
    let (code, value) = clean.json(&["--deny-warnings"]);
    assert_eq!(code, 1);
    assert!(value["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|f| f["level"] == "deny"));
}

const EXPIRING: &str = "[[allow]]\nrule = \"shared-database\"\nservices = [\"payments\", \"shipping\"]\nreason = \"split planned for Q1\"\nexpires = \"2027-03-31\"\n";

#[test]
fn an_exception_applies_until_its_expiry_date_and_is_reported_after() {
    let shop = Workspace::copy_of("shop");
    shop.write("archlint.toml", EXPIRING);
    let date = |text: &str| text.parse::<archlint::date::Date>().ok();
    let shared = |report: &archlint::Report| {
        report
            .findings
            .iter()
            .filter(|f| f.rule == "shared-database")
            .count()
    };
    let on_the_day = shop.check(|o| o.today = date("2027-03-31"));
    assert_eq!(on_the_day.suppressed, 1);
    assert_eq!(shared(&on_the_day), 1);
    assert!(!on_the_day
        .findings
        .iter()
        .any(|f| f.rule == "expired-exception"));

    let day_after = shop.check(|o| o.today = date("2027-04-01"));
    assert_eq!(day_after.suppressed, 0);
    assert_eq!(shared(&day_after), 2);
    let expired: Vec<_> = day_after
        .findings
        .iter()
        .filter(|f| f.rule == "expired-exception")
        .collect();
    assert_eq!(expired.len(), 1, "{expired:#?}");
    assert_eq!(
        day_after.model.file(expired[0].span.file).path.as_str(),
        "archlint.toml"
    );
    assert_eq!(expired[0].span.line, 5);
    assert!(
        expired[0].message.contains("expired on 2027-03-31"),
        "{}",
        expired[0].message
    );
}

#[test]
fn a_bad_expiry_date_is_a_config_error_pointing_at_it() {
    let shop = Workspace::copy_of("shop");
    shop.write(
        "archlint.toml",
        &EXPIRING.replace("2027-03-31", "2027-02-30"),
    );
    let output = shop.archlint(&[]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("archlint.toml"), "{err}");
    assert!(err.contains("5 │ expires = \"2027-02-30\""), "{err}");
    assert!(err.contains("`2027-02-30` is not a date"), "{err}");
    // In JSON, the location too.
    let (code, value) = shop.json(&[]);
    assert_eq!(code, 2);
    assert_eq!(value["error"]["location"]["line"], 5, "{value:#}");
    assert_eq!(value["error"]["location"]["column"], 11, "{value:#}");
}

#[test]
fn a_baseline_accepts_todays_findings_and_fails_on_new_ones_only() {
    let shop = Workspace::copy_of("shop");
    let baseline = shop.write_baseline();
    assert_eq!(baseline["version"], 1);
    assert_eq!(baseline["entries"].as_array().map(Vec::len), Some(21));

    let (code, value) = shop.json(&["--baseline", BASELINE]);
    assert_eq!(code, 0, "{value:#}");
    assert_eq!(value["findings"], serde_json::json!([]));
    assert_eq!(value["baseline"]["matched"], 21);

    // Lines inserted above every finding (at the top of every file holding one, and in the
    // middle of the files) keep the baseline matching.
    let files: Vec<String> = baseline["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["path"].as_str().map(str::to_string))
        .collect();
    for file in &files {
        let marker = if file.ends_with(".rs") { "//" } else { "#" };
        let text = shop.read(file);
        let middle = text.len() / 2;
        let cut = text[middle..]
            .find('\n')
            .map_or(text.len(), |i| middle + i + 1);
        shop.write(
            file,
            &format!(
                "{marker} inserted\n\n{marker} lines\n{}\n\n{}",
                &text[..cut],
                &text[cut..]
            ),
        );
    }
    let (code, value) = shop.json(&["--baseline", BASELINE]);
    assert_eq!(code, 0, "{value:#}");
    assert_eq!(value["baseline"]["stale"], serde_json::json!([]));

    // One new violation: exactly that finding, and exit 1.
    shop.append(
        "services/shipping/src/dispatch.rs",
        &ORDER_TOTALS.replace("COMMENT", ""),
    );
    let (code, value) = shop.json(&["--baseline", BASELINE]);
    assert_eq!(code, 1);
    let new = findings(&value);
    assert_eq!(new.len(), 1, "{new:#?}");
    assert!(
        new[0].starts_with("cross-service-db-access services/shipping/src/dispatch.rs:"),
        "{new:#?}"
    );
    let human = shop.archlint(&["--baseline", BASELINE, "--color", "never"]);
    assert!(
        stdout(&human)
            .ends_with("archlint: 1 error, 0 warnings in 4 services (21 in the baseline)\n"),
        "{}",
        stdout(&human)
    );
}

#[test]
fn fixed_findings_are_listed_and_pruned_from_the_baseline() {
    let shop = Workspace::copy_of("shop");
    shop.write_baseline();
    // Fix the blocking call: its baseline entry no longer occurs.
    shop.edit(
        "services/shipping/src/fulfilment.rs",
        "ureq::post",
        "reqwest::blocking_free_post",
    );
    let output = shop.archlint(&["--baseline", BASELINE, "--color", "never"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    insta::assert_snapshot!("stale_baseline__human", stdout(&output));
    let (_, value) = shop.json(&["--baseline", BASELINE]);
    let stale = value["baseline"]["stale"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(stale.len(), 1, "{value:#}");
    assert_eq!(stale[0]["rule"], "blocking-saga-step");

    let pruned = shop.archlint(&["--baseline", BASELINE, "--prune-baseline"]);
    assert_eq!(pruned.status.code(), Some(0));
    let message = stderr(&pruned);
    assert!(
        message.contains("removed 1 entry that no longer occurs"),
        "{message}"
    );
    assert_eq!(
        shop.baseline()["entries"].as_array().map(Vec::len),
        Some(20)
    );
    let (code, value) = shop.json(&["--baseline", BASELINE]);
    assert_eq!(code, 0);
    assert_eq!(value["baseline"]["stale"], serde_json::json!([]));
    assert_eq!(value["baseline"]["matched"], 20);
    // `--prune-baseline` needs `--baseline`; `--write-baseline` conflicts with it.
    assert_eq!(shop.archlint(&["--prune-baseline"]).status.code(), Some(2));
    let both = ["--baseline", "a.json", "--write-baseline", "b.json"];
    assert_eq!(shop.archlint(&both).status.code(), Some(2));
}

#[test]
fn an_unusable_baseline_stops_the_check_with_exit_2() {
    let shop = Workspace::copy_of("shop");
    let cases: &[(&str, &str, &str)] = &[
        ("corrupt.json", "{\"version\": 1, \"entries\": [", "not JSON"),
        ("future.json", "{\"version\": 2, \"entries\": []}", "format version 2"),
        ("no-version.json", "{\"entries\": []}", "no `version`"),
        (
            "edited.json",
            "{\"version\": 1, \"entries\": [{\"fingerprint\": \"not-a-hash\", \"rule\": \"dual-write\", \"path\": \"a.rs\"}]}",
            "`not-a-hash` is not a fingerprint",
        ),
        (
            "renamed.json",
            "{\"version\": 1, \"entries\": [{\"fingerprint\": \"0123456789abcdef\", \"rule\": \"dual-writes\", \"path\": \"a.rs\"}]}",
            "unknown rule `dual-writes`",
        ),
        (
            "extra-key.json",
            "{\"version\": 1, \"entries\": [], \"comment\": \"hand-edited\"}",
            "unknown field `comment`",
        ),
        ("missing.json", "", "cannot read baseline"),
    ];
    for (file, text, message) in cases {
        if !text.is_empty() {
            shop.write(file, text);
        }
        let output = shop.archlint(&["--baseline", file]);
        assert_eq!(output.status.code(), Some(2), "{file}: {}", stderr(&output));
        assert!(
            stderr(&output).contains(message),
            "{file}: {}",
            stderr(&output)
        );
        assert!(stdout(&output).is_empty(), "{file}: {}", stdout(&output));
        let (code, value) = shop.json(&["--baseline", file]);
        assert_eq!(code, 2);
        assert_eq!(
            value["error"]["code"], "archlint::baseline",
            "{file}: {value:#}"
        );
    }
}

#[test]
fn sarif_validates_against_the_schema_and_carries_the_baseline_fingerprints() {
    let schema_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/sarif-schema-2.1.0.json"),
    )
    .unwrap_or_else(|e| panic!("schema: {e}"));
    let schema: Value = serde_json::from_str(&schema_text).unwrap_or_else(|e| panic!("{e}"));
    let validator = jsonschema::draft4::new(&schema).unwrap_or_else(|e| panic!("schema: {e}"));

    let clean = clean_with_bad_suppressions();
    let shop = Workspace::copy_of("shop");
    shop.write(
        "archlint.toml",
        &EXPIRING.replace("2027-03-31", "2020-01-01"),
    );
    shop.write_baseline();
    shop.edit(
        "services/shipping/src/fulfilment.rs",
        "ureq::post",
        "reqwest::post_later",
    );
    let logs = [
        (shop.archlint(&["--format", "sarif"]), "shop"),
        (
            shop.archlint(&["--format", "sarif", "--baseline", BASELINE]),
            "shop with a stale baseline entry",
        ),
        (clean.archlint(&["--format", "sarif"]), "bad suppressions"),
        (
            shop.archlint(&["--format", "sarif", "--baseline", "missing.json"]),
            "fatal error",
        ),
    ];
    for (output, what) in &logs {
        let log: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{what}: invalid JSON ({e}): {}", stderr(output)));
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{what}: {errors:#?}");
    }

    // Every result's fingerprint is its baseline entry's.
    let log: Value = serde_json::from_slice(&logs[0].0.stdout).unwrap_or_default();
    let mut in_sarif: Vec<String> = log["runs"][0]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            r["partialFingerprints"]["archlint/v1"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    let baseline = shop.baseline();
    let mut recorded: Vec<String> = baseline["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["rule"] != "blocking-saga-step")
        .filter_map(|e| e["fingerprint"].as_str().map(str::to_string))
        .collect();
    in_sarif.sort();
    recorded.sort();
    assert_eq!(in_sarif, recorded, "{log:#}");
    assert!(log.to_string().contains("expired-exception"), "{log:#}");
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(rules.iter().any(|r| r["id"] == "unused-suppression"));
    let notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"].to_string();
    assert!(!notes.contains("baseline"), "{notes}");
    let stale: Value = serde_json::from_slice(&logs[1].0.stdout).unwrap_or_default();
    let notes = stale["runs"][0]["invocations"][0]["toolExecutionNotifications"].to_string();
    assert!(
        notes.contains("1 entry of archlint-baseline.json no longer occurs"),
        "{notes}"
    );
}

#[test]
fn select_ignore_and_deny_warnings() {
    let shop = Workspace::copy_of("shop");
    let rules = |value: &Value| {
        let mut rules: Vec<String> = value["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["rule"].as_str().map(str::to_string))
            .collect();
        rules.sort();
        rules.dedup();
        rules
    };
    let (code, value) = shop.json(&[
        "--select",
        "shared-database",
        "--select",
        "Unversioned_Event",
    ]);
    assert_eq!(code, 1);
    assert_eq!(rules(&value), ["shared-database", "unversioned-event"]);
    let (code, value) = shop.json(&["--select", "unversioned-event,missing-idempotency"]);
    assert_eq!(code, 0, "warnings only");
    assert_eq!(rules(&value), ["missing-idempotency", "unversioned-event"]);
    let (code, value) = shop.json(&["--select", "unversioned-event", "--deny-warnings"]);
    assert_eq!(code, 1);
    assert_eq!(value["findings"][0]["level"], "deny");
    let (_, value) = shop.json(&[
        "--ignore",
        "missing-idempotency,distributed-transaction,dual-write",
    ]);
    let left = rules(&value);
    assert!(!left.contains(&"dual-write".to_string()), "{left:?}");
    assert_eq!(left.len(), 6, "{left:?}");
    // A rule the configuration turns off is on when selected.
    shop.write("archlint.toml", "[rules]\nunversioned-event = \"allow\"\n");
    let (_, value) = shop.json(&["--select", "unversioned-event"]);
    assert_eq!(rules(&value), ["unversioned-event"]);

    for flag in ["--select", "--ignore"] {
        let output = shop.archlint(&[flag, "shared-databse"]);
        assert_eq!(output.status.code(), Some(2));
        let err = stderr(&output);
        assert!(
            err.contains(&format!("unknown rule `shared-databse` in {flag}")),
            "{err}"
        );
        assert!(err.contains("did you mean `shared-database`?"), "{err}");
    }
    let (code, value) = shop.json(&["--select", "no-such-rule"]);
    assert_eq!(code, 2);
    assert_eq!(value["error"]["code"], "archlint::usage");
}

#[test]
fn overrides_set_levels_for_paths() {
    let shop = Workspace::copy_of("shop");
    shop.write(
        "archlint.toml",
        "[rules]\nunversioned-event = \"allow\"\n\n\
         [[overrides]]\npaths = [\"services/shipping\"]\n\
         rules = { cross-service-db-access = \"warn\", blocking-saga-step = \"allow\", unversioned-event = \"deny\" }\n\n\
         [[overrides]]\npaths = [\"services/shipping/src/main.rs\"]\nrules = { cross-service-db-access = \"deny\" }\n",
    );
    let (_, value) = shop.json(&[]);
    let levels: Vec<String> = value["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| {
            [
                "cross-service-db-access",
                "blocking-saga-step",
                "unversioned-event",
            ]
            .contains(&f["rule"].as_str().unwrap_or_default())
        })
        .map(|f| {
            format!(
                "{} {} {}",
                f["rule"].as_str().unwrap_or_default(),
                f["location"]["path"].as_str().unwrap_or_default(),
                f["level"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        levels,
        [
            "cross-service-db-access services/orders/src/cancel.rs deny",
            "unversioned-event services/shipping/src/consumer.rs deny",
            "cross-service-db-access services/shipping/src/dispatch.rs warn",
            "cross-service-db-access services/shipping/src/main.rs deny",
        ],
        "{value:#}"
    );

    for (config, message, line) in [
        (
            "[[overrides]]\npaths = [\"a/**\"]\nrules = { dual-writes = \"warn\" }\n",
            "unknown rule `dual-writes`",
            "3 │ rules = { dual-writes",
        ),
        (
            "[[overrides]]\npaths = [\"a/[\"]\nrules = { dual-write = \"warn\" }\n",
            "invalid glob",
            "2 │ paths = [\"a/[\"]",
        ),
        (
            "[[overrides]]\npaths = []\nrules = { dual-write = \"warn\" }\n",
            "at least one path",
            "1 │ ╭─▶ [[overrides]]",
        ),
        (
            "[[overrides]]\npaths = [\"a\"]\nrules = { dual-write = \"fatal\" }\n",
            "unknown variant `fatal`",
            "3 │ rules",
        ),
    ] {
        shop.write("archlint.toml", config);
        let output = shop.archlint(&[]);
        assert_eq!(output.status.code(), Some(2), "{config}");
        let err = stderr(&output);
        assert!(err.contains(message), "{config}: {err}");
        assert!(err.contains(line), "{config}: {err}");
    }
}

#[test]
fn statistics_count_findings_per_rule_and_service() {
    let shop = Workspace::copy_of("shop");
    let output = shop.archlint(&["--statistics"]);
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!("statistics__human", stdout(&output));
    let (code, value) = shop.json(&["--statistics"]);
    assert_eq!(code, 1);
    insta::assert_json_snapshot!("statistics__json", value);
    let output = shop.archlint(&["--statistics", "--format", "sarif"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--statistics prints human or json"));
}
