use axum::{http::StatusCode, response::IntoResponse};

#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("inventory: {0}")]
    Inventory(#[from] tonic::Status),
    #[error("payments: {0}")]
    Payments(#[from] reqwest::Error),
    #[error("missing Idempotency-Key header")]
    MissingKey,
    #[error("booking {0} not found")]
    NotFound(uuid::Uuid),
    #[error("payment declined: {0}")]
    Declined(String),
}

impl IntoResponse for BookingError {
    fn into_response(self) -> axum::response::Response {
        let status = match &self {
            BookingError::MissingKey => StatusCode::BAD_REQUEST,
            BookingError::NotFound(_) => StatusCode::NOT_FOUND,
            BookingError::Declined(_) => StatusCode::PAYMENT_REQUIRED,
            _ => StatusCode::BAD_GATEWAY,
        };
        (status, self.to_string()).into_response()
    }
}
