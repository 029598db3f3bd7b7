//! What an extraction looked at besides its own file: files it read (`include_str!`
//! targets, query files, the `.env` and init scripts a compose file names), files and
//! directories whose existence it asked about, directories it listed. A cached result is
//! reused only while every one of these still gives the same answer.
//!
//! Recording is per thread: [`recording`] collects what [`crate::read`]'s functions see
//! while it runs, and nothing else is recorded. An extraction runs on one thread from start
//! to end, so its record is complete as long as it reaches the file system only through
//! `crate::read` (a test of the cache checks that the extractors do).

use std::cell::RefCell;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::read::FileClass;

/// One question asked of the file system, with its answer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dep {
    /// A file read as `class`: the SHA-256 of its text, or why it was not read (the
    /// message a note would carry).
    Read {
        path: Utf8PathBuf,
        class: FileClass,
        outcome: String,
    },
    /// A yes-or-no question about a path.
    Probe {
        probe: Probe,
        path: Utf8PathBuf,
        answer: bool,
    },
    /// The names in a directory, sorted; `None` when it could not be listed.
    List {
        path: Utf8PathBuf,
        names: Option<Vec<String>>,
    },
}

impl Dep {
    /// True when asking again gives the recorded answer.
    pub fn holds(&self) -> bool {
        match self {
            Dep::Read {
                path,
                class,
                outcome,
            } => read_outcome(&crate::read::read_text_unrecorded(path, *class)) == *outcome,
            Dep::Probe {
                probe,
                path,
                answer,
            } => probe.ask(path) == *answer,
            Dep::List { path, names } => list_names(path) == *names,
        }
    }
}

/// What is asked of a path (links followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Probe {
    /// Is a regular file there?
    IsFile,
    /// Is a directory there?
    IsDir,
    /// Is anything there?
    Exists,
}

impl Probe {
    pub fn ask(self, path: &Utf8Path) -> bool {
        match self {
            Probe::IsFile => path.is_file(),
            Probe::IsDir => path.is_dir(),
            Probe::Exists => path.exists(),
        }
    }
}

thread_local! {
    static RECORD: RefCell<Option<Vec<Dep>>> = const { RefCell::new(None) };
}

/// Runs `work`, returning what it asked of the file system through [`crate::read`]
/// (sorted, without repeats). Recordings nest: an outer one does not see the inner one's.
pub fn recording<R>(work: impl FnOnce() -> R) -> (R, Vec<Dep>) {
    let outer = RECORD.with(|record| record.replace(Some(Vec::new())));
    let result = work();
    let mut deps = RECORD
        .with(|record| record.replace(outer))
        .unwrap_or_default();
    deps.sort();
    deps.dedup();
    (result, deps)
}

/// Adds to the current thread's recording, if one is running.
pub(crate) fn record(dep: impl FnOnce() -> Dep) {
    RECORD.with(|record| {
        if let Some(deps) = record.borrow_mut().as_mut() {
            deps.push(dep());
        }
    });
}

/// How a read is remembered: the hash of the text, or the error's message.
pub(crate) fn read_outcome(result: &Result<String, crate::read::ReadError>) -> String {
    match result {
        Ok(text) => super::hex(&super::sha256(text.as_bytes())),
        Err(error) => format!("error: {error}"),
    }
}

/// The sorted names in a directory, or `None` when it cannot be listed.
pub(crate) fn list_names(path: &Utf8Path) -> Option<Vec<String>> {
    let entries = std::fs::read_dir(path).ok()?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Some(names)
}
