//! Deployment and configuration files: `.env`, docker-compose, Kubernetes manifests and
//! `config/*.toml|yaml`. They say which database each service connects to.

use crate::extract::Facts;
use crate::model::{CrateId, FileId};

/// The kind of a deployment or configuration file, decided by the workspace walker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployFileKind {
    DotEnv,
    Compose,
    Kubernetes,
    ConfigFile,
}

/// Extracts database connections from one deployment or config file. `owner` is the crate
/// whose directory holds the file, if any; root-level files name deployments instead.
pub fn extract_file(
    _kind: DeployFileKind,
    _owner: Option<CrateId>,
    _file: FileId,
    _text: &str,
    _out: &mut Facts,
) {
}
