//! Deployment and configuration files: `.env`, docker-compose, Kubernetes manifests and
//! `config/*.toml|yaml`. They say which database each service connects to, and which
//! containers run which crate.
//!
//! Every file is read on its own; what a file references (compose `env_file:`, the `.env`
//! next to a compose file) is read from disk relative to it. Parse errors become one
//! [`NoteKind::ConfigSyntax`] note and never stop the run. Credentials are dropped as soon
//! as a connection string is parsed.
//!
//! What comes out:
//! * [`Deployment`](crate::model::Deployment)s for compose services and Kubernetes workloads
//!   (and for the Services of PostgreSQL operator clusters), with build context, Dockerfile,
//!   image, and for database servers their engine and databases; poolers name the host they
//!   forward to.
//! * [`DbConnection`](crate::model::DbConnection)s owned by a compose service / workload
//!   (`ConnectionOwner::Deployment`) or, for `.env` and config files inside a crate, by that
//!   crate. Hosts that name a compose service or Kubernetes Service are followed through
//!   aliases, poolers, replicas and `ExternalName`s within the same file. A compose host is
//!   a name on that compose project's network: two compose files in different directories
//!   may both call their own database `db` (the span's file tells them apart).
//!
//! Connection strings are normalised by [`url::parse_database_url`], which other extractors
//! use for literals in code.

mod compose;
mod config_file;
mod dotenv;
mod env;
mod images;
mod kubernetes;
pub mod url;
mod yaml;

use std::ops::Range;

use camino::{Utf8Path, Utf8PathBuf};

use crate::extract::Facts;
use crate::model::{
    ConnectionOwner, ConnectionSource, Crate, CrateId, DbConnection, DbEngine, FileId, Note,
    NoteKind, Span,
};
use crate::read::FileClass;
use crate::source::LineIndex;

pub use url::parse_database_url;

/// The kind of a deployment or configuration file, decided by the workspace walker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployFileKind {
    DotEnv,
    Compose,
    Kubernetes,
    ConfigFile,
}

/// One deployment or configuration file handed to the extractor.
#[derive(Debug, Clone, Copy)]
pub struct DeployFile<'a> {
    pub kind: DeployFileKind,
    pub file: FileId,
    /// Absolute workspace root (to follow `env_file:` and build contexts).
    pub root: &'a Utf8Path,
    /// Path relative to the workspace root.
    pub path: &'a Utf8Path,
    /// The crate whose directory holds the file; `None` for files outside every crate.
    pub owner: Option<CrateId>,
    pub text: &'a str,
}

/// Extracts database connections and deployments from one file.
pub fn extract_file(input: &DeployFile<'_>, crates: &[Crate], out: &mut Facts) {
    let context = Context::new(input, crates);
    match input.kind {
        DeployFileKind::DotEnv => extract_dotenv(&context, out),
        DeployFileKind::Compose => compose::extract(&context, out),
        DeployFileKind::Kubernetes => kubernetes::extract(&context, out),
        DeployFileKind::ConfigFile => config_file::extract(&context, out),
    }
    out.notes.append(&mut context.refused.borrow_mut());
}

/// A `.env` file: connections of the crate whose directory holds it. Files outside every
/// crate (a root `.env`) are read by the compose files that use them, not on their own:
/// who connects with them is decided by the deployment.
fn extract_dotenv(context: &Context<'_>, out: &mut Facts) {
    let parsed = dotenv::parse(context.text, &|_| None);
    if let Some(error) = parsed.errors.first() {
        let more = match parsed.errors.len() {
            1 => String::new(),
            n => format!(" (and {} more malformed lines)", n - 1),
        };
        out.notes
            .push(context.note(Some(error.offset), format!("{}{more}", error.message)));
    }
    let Some(owner) = context.input.owner else {
        return;
    };
    let vars: Vec<env::EnvVar> = parsed
        .entries
        .iter()
        .map(|entry| env::EnvVar {
            key: entry.key.clone(),
            value: Some(entry.value.clone()),
            span: context.span(entry.value_range.clone()),
        })
        .collect();
    let mut connections = env::connections(
        &vars,
        &ConnectionOwner::Crate(owner),
        ConnectionSource::DotEnv,
    );
    context.place_sqlite_files(&mut connections);
    out.connections.extend(connections);
}

/// One file being extracted, with helpers for spans and notes.
pub(crate) struct Context<'a> {
    pub input: &'a DeployFile<'a>,
    /// Workspace members, to prefer names that match a crate.
    pub crates: &'a [Crate],
    pub text: &'a str,
    index: LineIndex,
    /// Notes about files this one references that the reader refused (not a regular file,
    /// over the cap): gathered while reading, added to the file's facts at the end.
    refused: std::cell::RefCell<Vec<Note>>,
}

impl<'a> Context<'a> {
    fn new(input: &'a DeployFile<'a>, crates: &'a [Crate]) -> Self {
        Self {
            input,
            crates,
            text: input.text,
            index: LineIndex::new(input.text),
            refused: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// A span over a byte range of the file, clamped to the file.
    pub fn span(&self, range: Range<usize>) -> Span {
        let start = range.start.min(self.text.len());
        let end = range.end.clamp(start, self.text.len());
        self.index.span(self.input.file, self.text, start, end)
    }

    /// A configuration syntax note at an offset of the file.
    pub fn note(&self, offset: Option<usize>, message: String) -> Note {
        Note {
            kind: NoteKind::ConfigSyntax,
            file: self.input.file,
            span: offset.map(|o| self.span(o..o)),
            message: format!("{}: {message}", self.input.path),
        }
    }

    pub fn unreadable(&self, range: Range<usize>, message: String) -> Note {
        Note {
            kind: NoteKind::Unreadable,
            file: self.input.file,
            span: Some(self.span(range)),
            message,
        }
    }

    /// Gives SQLite files a place, so two services' `sqlite://data.db` are not one database:
    /// a crate's relative path is taken from the crate directory (where `cargo run` starts);
    /// a container's file lives on that container (`host` = the deployment).
    pub fn place_sqlite_files(&self, connections: &mut [DbConnection]) {
        for connection in connections {
            let target = &mut connection.target;
            if target.engine != DbEngine::Sqlite {
                continue;
            }
            match &connection.owner {
                ConnectionOwner::Crate(id) => {
                    let Some(krate) = self.crates.iter().find(|k| k.id == *id) else {
                        continue;
                    };
                    if let Some(path) = target.database.as_deref().filter(|p| !p.starts_with('/')) {
                        target.database = workspace_relative(self.input.root, &krate.dir, path)
                            .map(|p| p.to_string());
                    }
                }
                ConnectionOwner::Deployment(name) => target.host = Some(name.to_ascii_lowercase()),
            }
        }
    }

    /// True when a deployment name is the name of a workspace crate (`-` and `_` alike).
    pub fn names_crate(&self, name: &str) -> bool {
        let normalise = |n: &str| n.to_ascii_lowercase().replace('_', "-");
        let name = normalise(name);
        self.crates
            .iter()
            .any(|krate| normalise(&krate.name) == name)
    }

    /// Directory of the file, relative to the workspace root.
    pub fn dir(&self) -> &Utf8Path {
        self.input.path.parent().unwrap_or(Utf8Path::new(""))
    }

    /// Reads a file given relative to this file's directory; `None` if it is missing.
    pub fn read_relative(&self, relative: &str) -> Option<(Utf8PathBuf, String)> {
        let path = workspace_relative(self.input.root, self.dir(), relative)?;
        let text = self.read_referenced(&path, FileClass::Settings)?;
        Some((path, text))
    }

    /// Reads a file this one references (workspace-relative, or absolute inside the
    /// workspace); a missing file is `None`, a refused one a note as well.
    pub fn read_referenced(&self, path: &Utf8Path, class: FileClass) -> Option<String> {
        match crate::read::read_text(self.input.root.join(path), class) {
            Ok(text) => Some(text),
            Err(error) if error.is_missing() => None,
            Err(error) => {
                let shown = path.strip_prefix(self.input.root).unwrap_or(path);
                self.refused.borrow_mut().push(Note {
                    kind: NoteKind::of_read_error(&error),
                    file: self.input.file,
                    span: None,
                    message: format!("{}: {shown}, which it references, {error}", self.input.path),
                });
                None
            }
        }
    }
}

/// Joins `relative` to `base` (both relative to the workspace root `root`, an absolute path)
/// and removes `.` and `..`. A path that climbs out of the workspace and back into it
/// (`../backend/orders` seen from a compose file above the workspace `backend/`) comes back
/// inside it; one that stays above it keeps its leading `..`. `None` for absolute paths, URLs,
/// unresolved variables and paths above the filesystem root.
pub(crate) fn workspace_relative(
    root: &Utf8Path,
    base: &Utf8Path,
    relative: &str,
) -> Option<Utf8PathBuf> {
    let relative = relative.trim();
    if relative.is_empty()
        || relative.starts_with('/')
        || relative.contains("://")
        || relative.starts_with("git@")
        || url::is_unresolved(relative)
    {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in base.as_str().split('/').chain(relative.split(['/', '\\'])) {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|last| *last != "..") => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    let climbed = parts.iter().take_while(|part| **part == "..").count();
    if climbed > 0 {
        let names: Vec<&str> = root
            .components()
            .filter_map(|c| match c {
                camino::Utf8Component::Normal(name) => Some(name),
                _ => None,
            })
            .collect();
        let above = names.len().checked_sub(climbed)?;
        if parts[climbed..].starts_with(&names[above..]) {
            parts.drain(..2 * climbed);
        }
    }
    Some(Utf8PathBuf::from(parts.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_relative_paths() {
        let root = Utf8Path::new("/repo/backend");
        let rel = |base: &str, p: &str| {
            workspace_relative(root, Utf8Path::new(base), p).map(|p| p.to_string())
        };
        assert_eq!(
            rel("deploy", "../services/orders"),
            Some("services/orders".into())
        );
        assert_eq!(rel("", "."), Some("".into()));
        assert_eq!(rel("", "./orders/"), Some("orders".into()));
        assert_eq!(rel("", "../outside"), Some("../outside".into()));
        assert_eq!(rel("..", "./backend/orders"), Some("orders".into()));
        assert_eq!(rel("..", "backend"), Some("".into()));
        assert_eq!(rel("..", ".env"), Some("../.env".into()));
        assert_eq!(rel("../..", "repo/backend/orders"), Some("orders".into()));
        assert_eq!(rel("", "../../../above-the-root"), None);
        assert_eq!(rel("", "/abs"), None);
        assert_eq!(rel("", "https://github.com/x/y.git"), None);
        assert_eq!(rel("", "${CONTEXT}"), None);
    }
}
