use actix_web::{http::StatusCode, HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("db: {0}")]
    Db(#[from] tokio_postgres::Error),
    #[error("downstream: {0}")]
    Downstream(#[from] reqwest::Error),
    #[error("order {0} not found")]
    NotFound(uuid::Uuid),
    #[error("order cannot be cancelled in status {0}")]
    Conflict(String),
}

impl ResponseError for OrderError {
    fn status_code(&self) -> StatusCode {
        match self {
            OrderError::NotFound(_) => StatusCode::NOT_FOUND,
            OrderError::Conflict(_) => StatusCode::CONFLICT,
            OrderError::Downstream(_) => StatusCode::BAD_GATEWAY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(serde_json::json!({ "error": self.to_string() }))
    }
}
