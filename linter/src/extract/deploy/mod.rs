//! Deployment and configuration files: `.env`, docker-compose, Kubernetes manifests and
//! `config/*.toml|yaml`. They say which database each service connects to, and which
//! containers run which crate.

pub mod url;

use camino::Utf8Path;

use crate::extract::Facts;
use crate::model::{Crate, CrateId, FileId};

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
pub fn extract_file(_input: &DeployFile<'_>, _crates: &[Crate], _out: &mut Facts) {}
