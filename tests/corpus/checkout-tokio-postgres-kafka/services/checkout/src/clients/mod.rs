mod inventory;

pub use inventory::{InventoryClient, ReservationId};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("bad base url: {0}")]
    Url(#[from] url::ParseError),
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    #[error("{service} answered {status}: {body}")]
    Status { service: &'static str, status: u16, body: String },
}
