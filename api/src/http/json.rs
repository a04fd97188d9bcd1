//! `Json<T>`: the body extractor every handler uses. It parses in two steps so that errors are
//! classified correctly: first the bytes as JSON (size limit, content type and syntax, through
//! actix's `JsonConfig` → 413/415/400 `invalid_json`), then the value into `T` (wrong types,
//! missing or unknown fields → 400 `invalid_body`). An empty body without a content type is
//! read as `{}`, so action endpoints whose fields are all optional can be called bare.

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
            serde_json::from_value::<T>(v).map(Json).map_err(|e| {
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
