//! How errors leave the service: one JSON shape, stable codes, no internals. Also the
//! extractor error handlers, so malformed JSON, wrong types, unknown fields, oversized bodies
//! and bad query/path values get a 4xx in the same shape instead of actix's plain text.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use jitea_shared::{ErrorBody, ErrorInfo};
use utoipa::IntoResponses;

use crate::error::ApiError;

/// Largest accepted JSON body.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut b = HttpResponse::build(self.status_code());
        // Throttling and overload answers say when to come back.
        if let Some(secs) = self
            .details
            .as_ref()
            .and_then(|d| d.get("retry_after_secs"))
            .and_then(|v| v.as_u64())
        {
            b.insert_header(("Retry-After", secs.to_string()));
        }
        b.json(ErrorBody {
            error: ErrorInfo {
                code: self.code.to_string(),
                message: self.message.clone(),
                details: self.details.clone(),
            },
        })
    }
}

pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let e = match &err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::new(
                413,
                "payload_too_large",
                format!(
                    "the request body is larger than {} KiB",
                    MAX_JSON_BYTES / 1024
                ),
            )
        }
        JsonPayloadError::ContentType => ApiError::new(
            415,
            "unsupported_media_type",
            "send the body as application/json",
        ),
        JsonPayloadError::Deserialize(de) => {
            let what = if de.is_data() {
                "invalid_body"
            } else {
                "invalid_json"
            };
            ApiError::bad_request(
                what,
                format!("the request body is not valid: {}", clean(&de.to_string())),
            )
        }
        _ => ApiError::bad_request("invalid_json", "the request body could not be read as JSON"),
    };
    e.into()
}

pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let msg = match &err {
        QueryPayloadError::Deserialize(de) => clean(&de.to_string()),
        _ => "the query string could not be read".to_string(),
    };
    ApiError::bad_request("invalid_query", format!("invalid query parameter: {msg}")).into()
}

pub fn path_error(_err: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request(
        "invalid_path",
        "a path parameter is not valid (ids are positive integers)",
    )
    .into()
}

/// Serde messages are safe (they name fields and types) but can echo long input; keep them short.
fn clean(s: &str) -> String {
    let s: String = s.chars().filter(|c| !c.is_control()).collect();
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s
    }
}

/// Unknown routes under the API answer in the API's error shape.
pub async fn not_found() -> HttpResponse {
    ApiError::new(404, "route_not_found", "no such route").error_response()
}

/// The error responses every authenticated route may give, for the OpenAPI document.
#[allow(dead_code)]
#[derive(IntoResponses)]
pub enum CommonErrors {
    /// Bad input: malformed JSON, wrong types, unknown fields, failed validation.
    #[response(status = 400)]
    BadRequest(#[to_schema] ErrorBody),
    /// No token, or an invalid/expired one.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Signed in but not allowed.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Not found, or not visible to the caller.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The object's state does not allow this (already decided, duplicate, ...).
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// Body larger than 64 KiB.
    #[response(status = 413)]
    PayloadTooLarge(ErrorBody),
    /// A body sent as something other than `application/json`.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
}

/// The answers of sign-in and the live stream when they are flooded, for the OpenAPI document.
#[allow(dead_code)]
#[derive(IntoResponses)]
pub enum ThrottleErrors {
    /// Too many attempts or open streams; `Retry-After` says when to come back
    /// (`too_many_attempts`, `too_many_streams`).
    #[response(status = 429)]
    TooManyRequests(#[to_schema] ErrorBody),
    /// Too many sign-ins being checked at once (`auth_busy`); retry after `Retry-After`.
    #[response(status = 503)]
    Busy(ErrorBody),
}
