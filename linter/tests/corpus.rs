//! Seven larger workspaces in `tests/corpus/`, each written as a team would write its services
//! (several frameworks, brokers and database APIs), with an `EXPECTED.md` ground truth of
//! planted violations, look-alikes that must stay silent, and debatable cases. The findings
//! of each are kept as a snapshot, so any change in what archlint reports on them is seen and
//! judged against the ground truth.

use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus");
    let mut workspaces: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.join("Cargo.toml").is_file())
        .collect();
    workspaces.sort();
    workspaces
}

/// `rule path:line message`, one line per finding, in archlint's order.
fn findings(workspace: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_cargo-archlint"))
        .args(["archlint", "check", "--format", "json", "--manifest-path"])
        .arg(workspace)
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo-archlint: {e}"));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "invalid JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let mut lines = String::new();
    for finding in value["findings"].as_array().into_iter().flatten() {
        let location = &finding["location"];
        lines.push_str(&format!(
            "{} {}:{} {}\n",
            finding["rule"].as_str().unwrap_or(""),
            location["path"].as_str().unwrap_or(""),
            location["line"],
            finding["message"].as_str().unwrap_or(""),
        ));
    }
    lines
}

#[test]
fn corpus_findings() {
    let workspaces = corpus();
    assert_eq!(workspaces.len(), 7, "{workspaces:?}");
    for workspace in workspaces {
        assert!(workspace.join("EXPECTED.md").is_file(), "{workspace:?}");
        let name = workspace
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        insta::assert_snapshot!(name, findings(&workspace));
    }
}
