//! Errors raised by the domain layer itself (as opposed to per-field validation errors,
//! which are collected as [`super::FieldError`] so a form can show all of them at once).

use chrono::{DateTime, Utc};
use thiserror::Error;

/// A domain invariant the caller's input broke.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    /// A validity window whose start is not before its end would never be active, which is
    /// almost certainly a typo rather than an intent, so it is rejected when it is saved.
    #[error("valid_from ({valid_from}) must be before valid_to ({valid_to})")]
    InvalidWindow {
        valid_from: DateTime<Utc>,
        valid_to: DateTime<Utc>,
    },
}

impl DomainError {
    /// Stable machine-readable code for the API's error body.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::InvalidWindow { .. } => "invalid_window",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn invalid_window_has_code_and_message() {
        let t = Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap();
        let e = DomainError::InvalidWindow {
            valid_from: t,
            valid_to: t,
        };
        assert_eq!(e.code(), "invalid_window");
        assert!(e.to_string().contains("must be before valid_to"));
    }
}
