//! CI integration: the GitHub Actions workflow shipped in `linter/ci/` and shown in the README,
//! the pre-commit hook definition, and `--format github` on `examples/shop`, whose errors are
//! more than GitHub shows as annotations.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn yaml(path: &str) -> Value {
    serde_norway::from_str(&read(path)).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

/// The `run` commands of the workflow's only job, in order.
fn run_steps(workflow: &Value) -> Vec<String> {
    workflow["jobs"]["archlint"]["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|step| step["run"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn the_workflow_installs_checks_against_the_baseline_and_uploads_sarif() {
    let workflow = yaml("linter/ci/github-workflow.yml");
    assert!(
        workflow["on"]["pull_request"].is_null() && workflow["on"].get("pull_request").is_some(),
        "runs on pull requests: {workflow:#}"
    );
    assert_eq!(workflow["permissions"]["security-events"], "write");
    let job = &workflow["jobs"]["archlint"];
    assert!(job["runs-on"].is_string());
    let steps = job["steps"].as_array().cloned().unwrap_or_default();
    assert!(steps.iter().any(|s| s["uses"]
        .as_str()
        .is_some_and(|u| u.starts_with("actions/checkout@"))));

    // Installed from this repository, as the workspace names it.
    let manifest: toml::Value =
        toml::from_str(&read("Cargo.toml")).unwrap_or_else(|e| panic!("{e}"));
    let repository = manifest["workspace"]["package"]["repository"]
        .as_str()
        .unwrap_or_default();
    let runs = run_steps(&workflow);
    assert!(
        runs.iter().any(|r| r.contains(&format!(
            "cargo install --locked --git {repository} archlint"
        ))),
        "{runs:?}"
    );

    // The SARIF file written is the one uploaded.
    let sarif_step = runs
        .iter()
        .find(|r| r.contains("--format sarif"))
        .unwrap_or_else(|| panic!("no SARIF step: {runs:?}"));
    let written = sarif_step
        .split("> ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default();
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
        })
        .unwrap_or_else(|| panic!("no upload-sarif step"));
    assert_eq!(upload["with"]["sarif_file"], written);

    // The last step gates on the baseline and annotates what is new.
    assert_eq!(
        runs.last().map(String::as_str),
        Some("cargo archlint --baseline archlint-baseline.json --format github")
    );
}

#[test]
fn the_readme_shows_the_shipped_workflow_verbatim() {
    let workflow = read("linter/ci/github-workflow.yml");
    let readme = read("linter/README.md");
    assert!(
        readme.contains(&format!("```yaml\n{workflow}```\n")),
        "linter/README.md must show linter/ci/github-workflow.yml as it is"
    );
    assert!(read("README.md").contains("linter/ci/github-workflow.yml"));
}

#[test]
fn the_pre_commit_hook_runs_the_whole_workspace_once() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hooks = hooks.as_array().cloned().unwrap_or_default();
    let hook = hooks
        .iter()
        .find(|h| h["id"] == "archlint")
        .unwrap_or_else(|| panic!("no hook with id archlint: {hooks:?}"));
    assert_eq!(hook["entry"], "cargo archlint");
    assert_eq!(hook["language"], "system");
    assert_eq!(hook["pass_filenames"], false);
    assert!(hook["name"].is_string() && hook["files"].is_string());
    assert_eq!(hook["types"], serde_json::json!(["file"]));
    let readme = read("linter/README.md");
    assert!(
        readme.contains("- id: archlint"),
        "the README shows how to use it"
    );
}

#[test]
fn github_annotations_of_the_shop_stop_at_ten_errors() {
    let output = Command::new(env!("CARGO_BIN_EXE_cargo-archlint"))
        .args(["archlint", "check", "--format", "github", "--manifest-path"])
        .arg(repo_root().join("examples/shop"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo-archlint: {e}"));
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    let count = |prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
    // The shop has 11 errors: the eleventh is in the log.
    assert_eq!((count("::error "), count("::warning ")), (10, 10));
    assert_eq!(count("error["), 1);
    assert!(lines
        .last()
        .is_some_and(|l| l.starts_with("::notice title=archlint summary::archlint: 11 errors")));
    // tests/check.rs snapshots the whole output (`check__shop__github.snap`).
}
