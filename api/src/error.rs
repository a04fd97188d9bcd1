//! The one error type handlers and workflows return. Each failure has a stable `code`; the
//! HTTP layer turns it into `{"error": {"code", "message", "details"}}`. Internal details
//! (driver errors, SQL) are logged, never sent.

use serde_json::Value;

use crate::store::StoreError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(401, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(403, code, message)
    }

    /// Also used for objects the caller may not see, so existence is not leaked.
    pub fn not_found(what: &str) -> Self {
        Self::new(404, "not_found", format!("{what} not found"))
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }

    pub fn internal() -> Self {
        Self::new(
            500,
            "internal_error",
            "an internal error occurred; it has been logged",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => ApiError::conflict(
                "conflict",
                "an object with the same unique key already exists",
            ),
            StoreError::InvalidText => {
                ApiError::bad_request("invalid_characters", "text must not contain NUL characters")
            }
            StoreError::ForeignKey => {
                ApiError::bad_request("invalid_reference", "a referenced object does not exist")
            }
            StoreError::Unavailable(detail) => {
                tracing::error!(%detail, "database unavailable");
                ApiError::new(
                    503,
                    "unavailable",
                    "the database is unavailable; retry later",
                )
            }
            StoreError::Internal(detail) => {
                tracing::error!(%detail, "store error");
                ApiError::internal()
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
