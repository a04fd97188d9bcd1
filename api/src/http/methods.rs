//! 405 for a known path asked with a method it does not have: a request whose path matches
//! a documented operation's path, but whose method no operation on that path uses, gets
//! `405 method_not_allowed` in the API's error shape with an `Allow` header listing the
//! documented methods, instead of falling through to a 404. The paths come from the OpenAPI
//! document itself, so a new route is covered the moment it is documented.

use std::sync::OnceLock;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, ALLOW};
use actix_web::middleware::Next;
use actix_web::ResponseError;

use crate::error::ApiError;

/// One documented path: its segments (`None` for a `{parameter}`) and its methods.
struct KnownPath {
    segments: Vec<Option<String>>,
    methods: Vec<&'static str>,
}

fn known_paths() -> &'static [KnownPath] {
    static PATHS: OnceLock<Vec<KnownPath>> = OnceLock::new();
    PATHS.get_or_init(|| {
        super::app::openapi_document()
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let ops = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("OPTIONS", item.options.is_some()),
                    ("HEAD", item.head.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("TRACE", item.trace.is_some()),
                ];
                KnownPath {
                    segments: path
                        .split('/')
                        .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_string()))
                        .collect(),
                    methods: ops.iter().filter(|(_, on)| *on).map(|(m, _)| *m).collect(),
                }
            })
            .collect()
    })
}

/// The `Allow` value when `path` is documented but not for `method`; None otherwise (unknown
/// paths and allowed methods go on to routing).
pub fn not_allowed(method: &str, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    let mut allowed: Vec<&'static str> = Vec::new();
    for known in known_paths() {
        let matches = known.segments.len() == segments.len()
            && known.segments.iter().zip(&segments).all(|(k, s)| match k {
                Some(lit) => lit == s,
                None => !s.is_empty(),
            });
        if matches {
            allowed.extend(known.methods.iter().copied());
        }
    }
    if allowed.is_empty() || allowed.contains(&method) {
        return None;
    }
    allowed.sort_unstable();
    allowed.dedup();
    Some(allowed.join(", "))
}

/// Middleware: answers 405 (see the module documentation) before routing.
pub async fn method_not_allowed(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Some(allow) = not_allowed(req.method().as_str(), req.path()) {
        let mut resp = ApiError::new(
            405,
            "method_not_allowed",
            format!(
                "{} is not allowed on this path; allowed: {allow}",
                req.method()
            ),
        )
        .error_response();
        if let Ok(v) = HeaderValue::from_str(&allow) {
            resp.headers_mut().insert(ALLOW, v);
        }
        return Ok(req.into_response(resp).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::not_allowed;

    #[test]
    fn known_paths_refuse_other_methods_and_unknown_paths_pass() {
        assert_eq!(not_allowed("TRACE", "/healthz").as_deref(), Some("GET"));
        let allow = not_allowed("TRACE", "/api/v1/users/7").expect("405");
        assert!(allow.contains("GET") && allow.contains("PATCH"), "{allow}");
        assert_eq!(not_allowed("GET", "/api/v1/users/7"), None);
        // A bad id is still the route's business (400), not a method problem.
        assert_eq!(not_allowed("GET", "/api/v1/users/abc"), None);
        assert_eq!(not_allowed("TRACE", "/api/v1/no-such-thing"), None);
        assert_eq!(not_allowed("TRACE", "/api/v1/users/"), None);
    }
}
