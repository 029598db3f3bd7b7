use std::sync::Arc;
use std::time::Duration;

use crate::model::Problem;

/// Everything a refdata call can fail with. Cloneable, because concurrent calls for the same
/// resource share one request and its outcome.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("invalid refdata base URL {url:?}: {reason}")]
    InvalidBaseUrl { url: String, reason: String },

    /// The service answered with an error status (after retries for 5xx). `problem` is the
    /// service's problem document, or one synthesised from the status when the body was not one.
    #[error("refdata answered {} {} for {url}{}", problem.status, problem.title, problem.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Api { url: String, problem: Problem },

    #[error("refdata request to {url} timed out after {timeout:?}")]
    Timeout { url: String, timeout: Duration },

    #[error("refdata request to {url} failed")]
    Transport {
        url: String,
        #[source]
        source: Arc<reqwest::Error>,
    },

    /// [`crate::RefdataClient::subscribe_to_changes`] was called outside a Tokio runtime.
    #[error("subscribing to refdata changes needs a Tokio runtime")]
    NoRuntime,

    #[error("unexpected response body from {url}")]
    Decode {
        url: String,
        #[source]
        source: Arc<serde_json::Error>,
    },
}

impl Error {
    /// The HTTP status of an [`Error::Api`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { problem, .. } => Some(problem.status),
            _ => None,
        }
    }

    /// The problem's `detail`, the human-readable explanation the service gave.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Error::Api { problem, .. } => problem.detail.as_deref(),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}
