//! The real-world corpus's label files stay well-formed, and the scoring rules hold. Running
//! archlint on the repositories themselves needs their mirrors: `tests/real-world/score.sh`.

#[allow(dead_code)]
#[path = "../examples/real_world/labels.rs"]
mod labels;

use std::path::Path;

fn corpus(sub: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/real-world")
        .join(sub)
}

#[test]
fn every_label_file_parses_and_is_consistent() {
    for sub in ["", "holdout"] {
        let files = labels::load_dir(&corpus(sub)).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !files.is_empty(),
            "no label files in tests/real-world/{sub}"
        );
        for (path, file) in files {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            assert_eq!(
                stem,
                file.stem(),
                "{} names another repository",
                path.display()
            );
        }
    }
}

#[test]
fn every_recorded_first_run_belongs_to_a_labelled_repository() {
    let files = labels::load_dir(&corpus("")).unwrap_or_else(|e| panic!("{e}"));
    let dir = corpus("first-run");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let text = std::fs::read_to_string(entry.path()).expect("readable first run");
        let value: serde_json::Value = serde_json::from_str(&text).expect("first run is JSON");
        let repository = value["repository"].as_str().unwrap_or_default();
        let labels = files.iter().find(|(_, f)| f.repository == repository);
        let (_, labels) = labels.unwrap_or_else(|| panic!("{repository} has no labels"));
        assert_eq!(value["commit"].as_str(), Some(labels.commit.as_str()));
    }
}
