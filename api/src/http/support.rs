//! Small input helpers shared by the handlers: paging parameters, text fields, conflicts.

use actix_web::HttpResponse;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::store::paging::{decode_cursor, PageReq, DEFAULT_LIMIT, MAX_LIMIT};
use crate::store::StoreError;

/// Turns `?limit=&cursor=` into a page request, rejecting nonsense with a 400.
pub fn page(limit: Option<i64>, cursor: Option<&str>) -> ApiResult<PageReq> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let after = match cursor {
        None | Some("") => None,
        Some(c) => Some(decode_cursor(c).ok_or_else(|| {
            ApiError::bad_request("invalid_cursor", "the cursor is not one this API returned")
        })?),
    };
    Ok(PageReq { limit, after })
}

pub fn field_error(field: &str, code: &str, message: String) -> ApiError {
    ApiError::bad_request("validation_failed", message.clone()).with_details(serde_json::json!({
        "fields": [{"field": field, "code": code, "message": message}]
    }))
}

/// An optional free-text field: bounded, no control characters (newlines and tabs allowed
/// when `multiline`), then trimmed, blank becoming None. Length and characters are checked on
/// what was sent, before trimming, exactly as the OpenAPI document states them.
pub fn opt_text(
    field: &str,
    v: Option<&str>,
    max: usize,
    multiline: bool,
) -> ApiResult<Option<String>> {
    let Some(v) = v else { return Ok(None) };
    if v.chars().count() > max {
        return Err(field_error(
            field,
            "too_long",
            format!("{field} must be at most {max} characters"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t' || c == '\r')))
    {
        return Err(field_error(
            field,
            "invalid_characters",
            format!("{field} contains control characters"),
        ));
    }
    let v = v.trim();
    Ok((!v.is_empty()).then(|| v.to_string()))
}

/// A required name: like `opt_text` but must be present.
pub fn name(field: &str, v: &str, max: usize) -> ApiResult<String> {
    opt_text(field, Some(v), max, false)?
        .ok_or_else(|| field_error(field, "required", format!("{field} is required")))
}

/// Patch of a nullable text field: keeps the tri-state, cleans the value.
pub fn patch_text(
    field: &str,
    v: &Option<Option<String>>,
    max: usize,
    multiline: bool,
) -> ApiResult<Option<Option<String>>> {
    match v {
        None => Ok(None),
        Some(None) => Ok(Some(None)),
        Some(Some(s)) => Ok(Some(opt_text(field, Some(s), max, multiline)?)),
    }
}

/// Login names: what directory and database logins allow, nothing that needs quoting games.
pub fn login_name(v: &str) -> ApiResult<String> {
    let v = v.trim();
    let ok = !v.is_empty()
        && v.len() <= 128
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '\\'));
    if !ok {
        return Err(field_error(
            "login_name",
            "invalid_login_name",
            "login_name must be 1-128 characters of letters, digits, . _ - @ \\".to_string(),
        ));
    }
    Ok(v.to_string())
}

pub fn validate_seniority(v: Option<i64>) -> ApiResult<()> {
    if let Some(s) = v {
        if !(0..=1000).contains(&s) {
            return Err(field_error(
                "seniority_level",
                "out_of_range",
                "seniority_level must be between 0 and 1000".into(),
            ));
        }
    }
    Ok(())
}

/// Maps a unique-constraint violation to a specific 409; other errors pass through.
pub fn unique(code: &'static str, message: &'static str) -> impl Fn(StoreError) -> ApiError {
    move |e| match e {
        StoreError::Conflict => ApiError::conflict(code, message),
        other => other.into(),
    }
}

pub fn created<T: Serialize>(v: &T) -> HttpResponse {
    HttpResponse::Created().json(v)
}

pub fn ok<T: Serialize>(v: &T) -> HttpResponse {
    HttpResponse::Ok().json(v)
}
