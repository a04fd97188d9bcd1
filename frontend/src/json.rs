//! Reads API answers into DTOs with less compiled code than `serde_json::from_str::<T>`.
//!
//! The text is parsed once into a [`Value`] (one parser for the whole app), and each DTO is
//! then read from that tree field by field ([`Fields`], `crate::read`). Serde's derived
//! readers are not used at all in the app: compiled once per struct, they cost about 400 bytes
//! of wasm per field (BENCHMARKS.md), and their error paths pulled float formatting in.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde_json::Value;

/// Why an answer could not be read.
#[derive(Debug)]
pub struct Error(String);

/// The error for a value of the wrong JSON type; one copy for every type read.
#[inline(never)]
fn mismatch(expected: &'static str, v: &Value) -> Error {
    Error(format!("expected {expected}, found {}", kind(v)))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What an API answer can be read into. The DTOs the app reads most are read field by field
/// through [`Fields`] (`crate::read`): serde's derived reader, compiled once per struct, was
/// about 400 bytes of wasm per field (its state machine and error paths), by far the largest
/// share of the reading code.
pub trait FromJson: Sized {
    fn from_json(v: Value) -> Result<Self, String>;
}

/// Parses `text` as JSON and reads a `T` from it.
pub fn parse<T: FromJson>(text: &str) -> Result<T, String> {
    T::from_json(serde_json::from_str(text).map_err(|e| e.to_string())?)
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(v: Value) -> Result<Self, String> {
        match v {
            Value::Array(a) => a.into_iter().map(T::from_json).collect(),
            v => Err(mismatch("an array", &v).0),
        }
    }
}

impl<T: FromJson> FromJson for jitea_shared::Page<T> {
    fn from_json(v: Value) -> Result<Self, String> {
        let (items, next_cursor) = page_parts(v)?;
        Ok(jitea_shared::Page {
            items: Vec::from_json(Value::Array(items))?,
            next_cursor,
        })
    }
}

/// Splits a page (`{"items": [...], "next_cursor": ...}`) into its items and cursor; not
/// generic, so the envelope is read by one copy for every item type.
fn page_parts(v: Value) -> Result<(Vec<Value>, Option<String>), String> {
    let mut f = Fields::new(v)?;
    let items = match f.take("items") {
        Value::Array(a) => a,
        v => return Err(mismatch("the page's items", &v).0),
    };
    let cursor = f.opt_string("next_cursor");
    f.done(())?;
    Ok((items, cursor))
}
impl FromJson for Value {
    fn from_json(v: Value) -> Result<Self, String> {
        Ok(v)
    }
}

/// A JSON object being read field by field. Every accessor is non-generic (one compiled copy
/// for all DTOs); the first missing or mistyped field is remembered and [`Fields::done`]
/// turns it into the error of the whole read. Absent and `null` are the same to optional
/// fields, as they are to serde's `Option`.
pub struct Fields {
    map: serde_json::Map<String, Value>,
    err: Option<String>,
}

impl Fields {
    pub fn new(v: Value) -> Result<Fields, String> {
        match v {
            Value::Object(map) => Ok(Fields { map, err: None }),
            v => Err(mismatch("an object", &v).0),
        }
    }

    /// The read value, or the first problem found while reading it.
    pub fn done<T>(self, t: T) -> Result<T, String> {
        match self.err {
            None => Ok(t),
            Some(e) => Err(e),
        }
    }

    #[inline(never)]
    fn take(&mut self, k: &str) -> Value {
        self.map.remove(k).unwrap_or(Value::Null)
    }

    #[inline(never)]
    fn fail(&mut self, k: &str, v: &Value) {
        if self.err.is_none() {
            self.err = Some(format!("field `{k}`: {}", mismatch("another type", v).0));
        }
    }

    /// `Some` for a present value of the right type, `None` for absent or `null`; the wrong
    /// type is remembered as the error.
    fn opt<T>(&mut self, k: &str, get: fn(&Value) -> Option<T>) -> Option<T> {
        let v = self.take(k);
        if v.is_null() {
            return None;
        }
        let t = get(&v);
        if t.is_none() {
            self.fail(k, &v);
        }
        t
    }

    /// A required field: absent or `null` is an error too.
    fn req<T: Default>(&mut self, k: &str, get: fn(&Value) -> Option<T>) -> T {
        let v = self.take(k);
        match get(&v) {
            Some(t) => t,
            None => {
                self.fail(k, &v);
                T::default()
            }
        }
    }

    pub fn i64(&mut self, k: &str) -> i64 {
        self.req(k, Value::as_i64)
    }

    pub fn opt_i64(&mut self, k: &str) -> Option<i64> {
        self.opt(k, Value::as_i64)
    }

    pub fn bool(&mut self, k: &str) -> bool {
        self.req(k, Value::as_bool)
    }

    pub fn opt_bool(&mut self, k: &str) -> Option<bool> {
        self.opt(k, Value::as_bool)
    }

    pub fn string(&mut self, k: &str) -> String {
        self.req(k, string)
    }

    pub fn opt_string(&mut self, k: &str) -> Option<String> {
        self.opt(k, string)
    }

    pub fn time(&mut self, k: &str) -> DateTime<Utc> {
        self.req(k, time)
    }

    pub fn opt_time(&mut self, k: &str) -> Option<DateTime<Utc>> {
        self.opt(k, time)
    }

    /// A string-valued enum (`"pending"`), through its `FromStr`; `fallback` only stands in
    /// for a value that is then reported as an error.
    pub fn parse<E: FromStr>(&mut self, k: &str, fallback: E) -> E {
        let v = self.take(k);
        match v.as_str().and_then(|s| s.parse().ok()) {
            Some(e) => e,
            None => {
                self.fail(k, &v);
                fallback
            }
        }
    }

    pub fn opt_parse<E: FromStr>(&mut self, k: &str) -> Option<E> {
        self.opt(k, |v| v.as_str()?.parse().ok())
    }

    /// Any JSON, as is.
    pub fn value(&mut self, k: &str) -> Value {
        self.take(k)
    }

    /// An array of `T` (absent or `null`: empty).
    pub fn list<T: FromJson>(&mut self, k: &str) -> Vec<T> {
        self.nested(k).unwrap_or_default()
    }

    /// An optional nested `T`.
    pub fn nested<T: FromJson>(&mut self, k: &str) -> Option<T> {
        let v = self.take(k);
        if v.is_null() {
            return None;
        }
        match T::from_json(v) {
            Ok(t) => Some(t),
            Err(e) => {
                self.nested_failed(k, e);
                None
            }
        }
    }

    #[inline(never)]
    fn nested_failed(&mut self, k: &str, e: String) {
        if self.err.is_none() {
            self.err = Some(format!("field `{k}`: {e}"));
        }
    }

    /// A required nested `T`.
    pub fn one<T: FromJson>(&mut self, k: &str) -> Result<T, String> {
        T::from_json(self.take(k)).map_err(|e| format!("field `{k}`: {e}"))
    }
}

fn string(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    jitea_shared::parse_rfc3339(v.as_str()?)
}
