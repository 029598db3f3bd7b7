use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("out of stock: {0}")]
    OutOfStock(String),
    #[error("payment declined: {0}")]
    PaymentDeclined(String),
    #[error("shipping unavailable: {0}")]
    ShippingUnavailable(String),
    #[error("unsupported country {0}")]
    UnsupportedCountry(String),
    #[error("idempotency key reused with a different request")]
    IdempotencyConflict,
    #[error("missing Idempotency-Key header")]
    MissingIdempotencyKey,
    #[error(transparent)]
    Upstream(#[from] reqwest::Error),
    #[error(transparent)]
    Client(#[from] crate::clients::ClientError),
    #[error(transparent)]
    Db(#[from] tokio_postgres::Error),
    #[error(transparent)]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl IntoResponse for CheckoutError {
    fn into_response(self) -> Response {
        let status = match &self {
            CheckoutError::OutOfStock(_) => StatusCode::CONFLICT,
            CheckoutError::PaymentDeclined(_) => StatusCode::PAYMENT_REQUIRED,
            CheckoutError::UnsupportedCountry(_) | CheckoutError::MissingIdempotencyKey => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            CheckoutError::IdempotencyConflict => StatusCode::CONFLICT,
            CheckoutError::ShippingUnavailable(_) | CheckoutError::Upstream(_) => {
                StatusCode::BAD_GATEWAY
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        (status, Json(json!({ "error": self.to_string() }))).into_response()
    }
}
