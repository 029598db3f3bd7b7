//! Copies of the example workspaces (`examples/shop`, `examples/clean`) that a test edits
//! and checks with the `cargo-archlint` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("mkdir {}: {e}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.unwrap_or_else(|e| panic!("{e}"));
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            if entry.file_name() != "target" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copy {}: {e}", entry.path().display()));
        }
    }
}

/// A copy of one of the example workspaces, removed when dropped.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn copy_of(example: &str) -> Workspace {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        copy_dir(&repo_root().join("examples").join(example), dir.path());
        // Path dependencies out of the example (`../../refdata-client`) still resolve.
        let manifest = dir.path().join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| panic!("{e}"));
        let outside = format!("path = \"{}/", repo_root().display());
        std::fs::write(&manifest, text.replace("path = \"../../", &outside))
            .unwrap_or_else(|e| panic!("{e}"));
        Workspace { dir }
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    pub fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.path(file)).unwrap_or_else(|e| panic!("read {file}: {e}"))
    }

    pub fn write(&self, file: &str, text: &str) {
        let path = self.path(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir: {e}"));
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {file}: {e}"));
    }

    /// Replaces the one occurrence of `from` in `file` by `to`.
    pub fn edit(&self, file: &str, from: &str, to: &str) {
        let text = self.read(file);
        assert_eq!(text.matches(from).count(), 1, "{file}: `{from}`");
        self.write(file, &text.replacen(from, to, 1));
    }

    pub fn append(&self, file: &str, text: &str) {
        let mut all = self.read(file);
        all.push_str(text);
        self.write(file, &all);
    }

    /// `cargo archlint check ARGS` in the workspace's directory, to run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-archlint"));
        command
            .args(["archlint", "check"])
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("NO_COLOR");
        command
    }

    /// Runs `cargo archlint check ARGS` in the workspace's directory.
    pub fn archlint(&self, args: &[&str]) -> Output {
        self.command(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run cargo-archlint: {e}"))
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
