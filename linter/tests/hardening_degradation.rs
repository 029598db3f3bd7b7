//! Nothing degrades silently: a member that is missing or whose manifest is invalid, and a
//! failed `cargo metadata`, are notes naming the cause; a member that cannot be read fails
//! the run (exit 2) unless `--keep-going`; two configurations at once, or an `[[allow]]` for a
//! service or rule that does not exist, are errors; with `--format json|sarif` an error that
//! stops the run is still machine-readable; a package its enclosing workspace does not list is
//! linted on its own.

mod hardening_support;
use hardening_support::{Run, Workspace};

fn with_members(members: &str) -> Workspace {
    let workspace = Workspace::new("");
    workspace.write(
        "Cargo.toml",
        &format!("[workspace]\nresolver = \"2\"\nmembers = [{members}]\n"),
    );
    workspace
}

#[test]
fn a_missing_member_is_a_note_and_exit_2_unless_keep_going() {
    let workspace = with_members("\"orders\", \"inventory\", \"ghost\"");
    let run = workspace.check_json(&[]);
    assert_eq!(run.code, Some(2), "{:#}\n{}", run.value, run.stderr);
    assert!(run.rules().iter().any(|r| r == "cross-service-db-access"));
    let note = run.note_about("ghost/Cargo.toml", "missing-member");
    assert!(
        note.as_ref().is_some_and(|n| n.contains("`ghost`")),
        "{:?}",
        run.notes()
    );
    assert!(run.stderr.contains("--keep-going"), "{}", run.stderr);
    workspace
        .check_json(&["--keep-going"])
        .assert_other_finding_reported();
}

#[test]
fn an_invalid_member_manifest_is_a_note_and_exit_2_unless_keep_going() {
    let workspace = with_members("\"orders\", \"inventory\", \"broken\"");
    workspace.write("broken/Cargo.toml", "[package\nname = \"broken\"\n");
    workspace.write("broken/src/main.rs", "fn main() {}\n");
    let run = workspace.check_json(&[]);
    assert_eq!(run.code, Some(2), "{:#}\n{}", run.value, run.stderr);
    assert!(run.rules().iter().any(|r| r == "cross-service-db-access"));
    assert!(
        run.note_about("broken/Cargo.toml", "config-syntax")
            .is_some_and(|n| n.contains("member skipped")),
        "{:?}",
        run.notes()
    );
    workspace
        .check_json(&["--keep-going"])
        .assert_other_finding_reported();
}

#[test]
fn a_failed_cargo_metadata_is_a_note_naming_its_cause() {
    // Two members with one package name: cargo refuses the workspace.
    let workspace = with_members("\"orders\", \"inventory\", \"inventory-copy\"");
    let manifest = std::fs::read_to_string(workspace.join("inventory/Cargo.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    workspace.write("inventory-copy/Cargo.toml", &manifest);
    workspace.write("inventory-copy/src/lib.rs", "");
    let run = workspace.check_json(&[]);
    run.assert_other_finding_reported();
    let note = run.note_about("Cargo.toml", "cargo-metadata");
    assert!(
        note.as_ref()
            .is_some_and(|n| n.contains("cargo metadata") && n.contains("inventory")),
        "{:?}",
        run.notes()
    );
}

#[test]
fn two_configurations_at_once_are_an_error() {
    let workspace = Workspace::new("");
    workspace.write(
        "Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"orders\", \"inventory\"]\n\n\
         [workspace.metadata.archlint]\nmin-confidence = \"low\"\n",
    );
    workspace.write("archlint.toml", "min-confidence = \"high\"\n");
    let output = workspace.run(&["check"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("both archlint.toml and [workspace.metadata.archlint]"),
        "{stderr}"
    );
    let json = workspace.check_json(&[]);
    assert_eq!(json.code, Some(2));
    assert_eq!(
        json.value["error"]["code"], "archlint::config",
        "{:#}",
        json.value
    );
}

#[test]
fn an_allow_for_an_unknown_service_is_an_error_with_a_suggestion() {
    let workspace = Workspace::new("");
    workspace.write(
        "archlint.toml",
        "[[allow]]\nrule = \"cross-service-db-access\"\nservice = \"ordres\"\nreason = \"reads stock\"\n",
    );
    let output = workspace.run(&["check", "--color", "never"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("service `ordres`"), "{stderr}");
    assert!(stderr.contains("did you mean `orders`"), "{stderr}");
    // The correct name silences the finding.
    workspace.write(
        "archlint.toml",
        "[[allow]]\nrule = \"cross-service-db-access\"\nservice = \"orders\"\nreason = \"reads stock\"\n",
    );
    let run = workspace.check_json(&[]);
    assert_eq!(run.code, Some(0), "{:#}", run.value);
}

#[test]
fn an_allow_for_an_unknown_rule_is_an_error() {
    let workspace = Workspace::new("");
    workspace.write(
        "archlint.toml",
        "[[allow]]\nrule = \"cross-service-access\"\nservice = \"orders\"\nreason = \"x\"\n",
    );
    let output = workspace.run(&["check"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown rule `cross-service-access`"),
        "{stderr}"
    );
}

#[test]
fn fatal_errors_are_machine_readable_in_json_and_sarif() {
    let workspace = Workspace::new("");
    workspace.write("archlint.toml", "[rules]\nshared-database = \"loud\"\n");
    let json = workspace.check_json(&[]);
    assert_eq!(json.code, Some(2));
    let error = &json.value["error"];
    assert_eq!(error["code"], "archlint::config", "{:#}", json.value);
    assert_eq!(
        error["location"]["path"], "archlint.toml",
        "{:#}",
        json.value
    );
    assert_eq!(error["location"]["line"], 2, "{:#}", json.value);
    assert!(json.stderr.contains("archlint.toml"), "{}", json.stderr);

    let sarif = Run::new(workspace.run(&["check", "--format", "sarif"]));
    assert_eq!(sarif.code, Some(2));
    let invocation = &sarif.value["runs"][0]["invocations"][0];
    assert_eq!(
        invocation["executionSuccessful"], false,
        "{:#}",
        sarif.value
    );
    let notification = &invocation["toolExecutionNotifications"][0];
    assert_eq!(notification["level"], "error");
    assert_eq!(
        notification["locations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
    assert_eq!(sarif.value["runs"][0]["results"], serde_json::json!([]));

    // No workspace at all: still JSON.
    let nowhere = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let run = Run::new(hardening_support::run(
        &["check", "--format", "json"],
        nowhere.path(),
    ));
    assert_eq!(run.code, Some(2));
    assert_eq!(
        run.value["error"]["code"], "archlint::workspace",
        "{:#}",
        run.value
    );
}

#[test]
fn rule_names_are_accepted_in_any_case_and_separator_with_a_suggestion() {
    let explain = |rule: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_cargo-archlint"))
            .args(["archlint", "explain", rule])
            .output()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    for spelling in ["SHARED-DATABASE", "shared_database", "Shared_Database"] {
        let output = explain(spelling);
        assert_eq!(output.status.code(), Some(0), "{spelling}");
        assert!(String::from_utf8_lossy(&output.stdout).starts_with("# shared-database"));
    }
    let output = explain("shared-databse");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("did you mean `shared-database`?"),
        "{stderr}"
    );
}

#[test]
fn an_invalid_root_manifest_error_gives_line_and_column() {
    let workspace = Workspace::new("");
    workspace.write(
        "Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"orders\", \"inventory\"\n",
    );
    let output = workspace.run(&["check", "--color", "never"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 4, column 1"), "{stderr}");
}

#[test]
fn a_package_its_enclosing_workspace_does_not_list_is_linted_on_its_own() {
    // `tools/notes` sits under the workspace root but is no member of it: cargo refuses it as
    // it stands, and what the user asked for is that package, not the workspace around it.
    let workspace = with_members("\"orders\", \"inventory\"");
    workspace.write(
        "tools/notes/Cargo.toml",
        "[package]\nname = \"notes\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\naxum = \"0.7\"\nsqlx = \"0.7\"\nrdkafka = \"0.36\"\ntokio = \"1\"\n",
    );
    workspace.write(
        "tools/notes/src/main.rs",
        r#"use axum::{routing::post, Router};

async fn create(pool: sqlx::PgPool, producer: rdkafka::producer::FutureProducer) {
    sqlx::query("INSERT INTO notes (id) VALUES (1)").execute(&pool).await.ok();
    let record = rdkafka::producer::FutureRecord::to("notes.created").key("1").payload("{}");
    let _ = producer.send(record, std::time::Duration::from_secs(1)).await;
}

#[tokio::main]
async fn main() {
    let app: Router = Router::new().route("/notes", post(create));
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
"#,
    );
    let run = hardening_support::Run::new(hardening_support::run(
        &["check", "--format", "json"],
        &workspace.join("tools/notes"),
    ));
    let rules = run.rules();
    assert!(rules.iter().any(|r| r == "dual-write"), "{:#}", run.value);
    assert!(
        !rules.iter().any(|r| r == "cross-service-db-access"),
        "the enclosing workspace was linted: {:#}",
        run.value
    );
}
