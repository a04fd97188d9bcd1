//! `Json<T>`: the body extractor every handler uses. It parses in two steps so that errors are
//! classified correctly: first the bytes as JSON (size limit, content type and syntax, through
//! actix's `JsonConfig` → 413/415/400 `invalid_json`), then the value into `T` (wrong types,
//! missing or unknown fields, anything but an object → 400 `invalid_body`). An empty body without a content type is
//! read as `{}`, so action endpoints whose fields are all optional can be called bare.
//! JSON has one number type: a number with an integral value written as a float (`12.0`,
//! `1e3`) is the same integer to JSON Schema, so it is accepted where an integer is expected.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

fn is_empty(req: &HttpRequest) -> bool {
    let h = req.headers();
    let no_length = match h.get(CONTENT_LENGTH) {
        None => !h.contains_key(actix_web::http::header::TRANSFER_ENCODING),
        Some(v) => v.as_bytes() == b"0",
    };
    no_length && !h.contains_key(CONTENT_TYPE)
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let value = if is_empty(req) {
            None
        } else {
            Some(web::Json::<Value>::from_request(req, payload))
        };
        Box::pin(async move {
            let v = match value {
                None => Value::Object(Default::default()),
                Some(f) => f.await?.into_inner(),
            };
            // Every body is an object; serde would otherwise also read a struct from an
            // array of its field values (`[null, null]`).
            if !v.is_object() {
                return Err(ApiError::bad_request(
                    "invalid_body",
                    "the request body must be a JSON object",
                )
                .into());
            }
            serde_json::from_value::<T>(integral_floats_as_integers(v))
                .map(Json)
                .map_err(|e| {
                    let msg: String = e
                        .to_string()
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(300)
                        .collect();
                    ApiError::bad_request(
                        "invalid_body",
                        format!("the request body is not valid: {msg}"),
                    )
                    .into()
                })
        })
    }
}

/// Rewrites every float with an integral value that fits an `i64` (`12.0`, `-3e2`) as that
/// integer, everywhere in `v`. No body field is a float, so nothing else changes.
fn integral_floats_as_integers(v: Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            // -2^63 <= f < 2^63: exactly the floats whose integral value fits an i64.
            Some(f)
                if f.fract() == 0.0
                    && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) =>
            {
                Value::from(f as i64)
            }
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(integral_floats_as_integers).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| (k, integral_floats_as_integers(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integral_floats_become_integers_and_others_stay() {
        let v = integral_floats_as_integers(
            json!({"a": 12.0, "b": [-3e2, 1.5], "c": {"d": 9.3e18, "e": "1.0"}, "f": 7}),
        );
        assert_eq!(v["a"], json!(12));
        assert_eq!(v["b"], json!([-300, 1.5]));
        assert_eq!(v["c"]["d"], json!(9.3e18));
        assert_eq!(v["c"]["e"], json!("1.0"));
        assert_eq!(v["f"], json!(7));
    }
}
