//! Reads API answers into DTOs with less compiled code than `serde_json::from_str::<T>`.
//!
//! The text is parsed once into a [`Value`] (one parser for the whole app), and each DTO is
//! then read from that tree by [`Tree`], a small deserializer that only offers what the API
//! sends: a struct is always a JSON object here, so the derived `visit_seq` (the "struct as
//! array" form serde generates for every DTO) is never reached and the compiler drops it.
//! Most of the gain (7.5 of 8 KB gzipped, BENCHMARKS.md) is the error type: it never formats
//! the unexpected value, whose `Display` pulled float formatting into the wasm. A struct sent
//! as an array is an error here; the API never sends one.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde_json::Value;

/// Why an answer could not be read. Unlike serde's own error types it never formats the
/// unexpected value itself (`de::Unexpected`), whose `Display` would pull the float
/// formatting machinery into the wasm for a message nobody reads.
#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }

    fn invalid_type(_: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Error(format!("invalid type, expected {expected}"))
    }

    fn invalid_value(_: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Error(format!("invalid value, expected {expected}"))
    }
}

/// Parses `text` as JSON and reads a `T` from it.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    T::deserialize(Tree(value)).map_err(|e| e.to_string())
}

/// The error for a value of the wrong JSON type; one copy for every type read.
#[inline(never)]
fn mismatch(expected: &'static str, v: &Value) -> Error {
    Error(format!("expected {expected}, found {}", kind(v)))
}

/// A parsed JSON value being read into a Rust type.
pub struct Tree(pub Value);

impl<'de> IntoDeserializer<'de, Error> for Tree {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
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

impl<'de> de::Deserializer<'de> for Tree {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_string(s),
            Value::Array(a) => visitor.visit_seq(Arr(a.into_iter())),
            Value::Object(o) => visitor.visit_map(Obj(o.into_iter(), Value::Null)),
        }
    }

    // The leaf types are read directly rather than through `deserialize_any`, whose eight
    // branches were compiled for every visitor and mostly only built errors.
    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Bool(b) => visitor.visit_bool(b),
            v => Err(mismatch("a boolean", &v)),
        }
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Number(n) => match n.as_i64() {
                Some(i) => visitor.visit_i64(i),
                None => visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN)),
            },
            v => Err(mismatch("a number", &v)),
        }
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Number(n) => match n.as_u64() {
                Some(u) => visitor.visit_u64(u),
                None => visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN)),
            },
            v => Err(mismatch("a number", &v)),
        }
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_u64(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::String(s) => visitor.visit_string(s),
            v => Err(mismatch("a string", &v)),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            v => visitor.visit_some(Tree(v)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    /// Structs are objects: only `visit_map` is called, so `visit_seq` is never compiled.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(o) => visitor.visit_map(Obj(o.into_iter(), Value::Null)),
            v => Err(de::Error::invalid_type(
                de::Unexpected::Other(kind(&v)),
                &visitor,
            )),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(a) => visitor.visit_seq(Arr(a.into_iter())),
            v => Err(de::Error::invalid_type(
                de::Unexpected::Other(kind(&v)),
                &visitor,
            )),
        }
    }

    /// The API's enums are plain strings (`"pending"`, `"admin"`).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::String(s) => visitor.visit_enum(s.into_deserializer()),
            v => Err(de::Error::invalid_type(
                de::Unexpected::Other(kind(&v)),
                &visitor,
            )),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i128 u8 u16 u128 f32 f64 char
        bytes byte_buf unit unit_struct tuple tuple_struct identifier
    }
}

/// The entries of an object, read key then value.
struct Obj(serde_json::map::IntoIter, Value);

impl Obj {
    /// The next key, keeping its value for `next_value_seed` (one compiled copy for all DTOs).
    #[inline(never)]
    fn next_key(&mut self) -> Option<String> {
        let (k, v) = self.0.next()?;
        self.1 = v;
        Some(k)
    }
}

impl<'de> de::MapAccess<'de> for Obj {
    type Error = Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.next_key() {
            Some(k) => seed.deserialize(Key(k)).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(Tree(std::mem::take(&mut self.1)))
    }
}

/// The elements of an array.
struct Arr(std::vec::IntoIter<Value>);

impl<'de> de::SeqAccess<'de> for Arr {
    type Error = Error;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.0.next() {
            Some(v) => seed.deserialize(Tree(v)).map(Some),
            None => Ok(None),
        }
    }
}

/// An object key, read as a field name (or a map key).
struct Key(String);

impl<'de> de::Deserializer<'de> for Key {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_str(&self.0)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// What an API answer can be read into. The DTOs the app reads most are read field by field
/// through [`Fields`] (`crate::read`): serde's derived reader, compiled once per struct, was
/// about 400 bytes of wasm per field (its state machine and error paths), by far the largest
/// share of the reading code. The rest go through serde and [`Tree`] ([`via_serde!`]).
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

/// Reads these types through serde (their derived `Deserialize`) and [`Tree`].
#[macro_export]
macro_rules! via_serde {
    ($($t:ty),* $(,)?) => {
        $(impl $crate::json::FromJson for $t {
            fn from_json(v: serde_json::Value) -> Result<Self, String> {
                <$t as serde::Deserialize>::deserialize($crate::json::Tree(v)).map_err(|e| e.to_string())
            }
        })*
    };
}

via_serde!(Value);

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

#[cfg(test)]
mod tests {
    use super::*;
    use jitea_shared::{Page, RequestStatus, User};
    use std::collections::BTreeMap;

    #[test]
    fn reads_what_the_api_sends() {
        let user: User = from_str(
            r#"{"id":7,"login_name":"ana","given_name":"Ana","surname":null,"display_name":null,
            "email":null,"division":null,"department":"IT","job_title":null,"seniority_level":3,
            "manager_login_name":null,"is_active":true,"is_admin":false,"is_auditor":false,
            "has_password":true,"last_ad_sync_utc":null,"created_utc":"2026-01-02T03:04:05Z",
            "updated_utc":"2026-01-02T03:04:05.123Z","created_by":"system","updated_by":"system",
            "extra":[1,{"x":2}]}"#,
        )
        .expect("a user");
        assert_eq!(user.login_name, "ana");
        assert_eq!(user.email, None);
        assert_eq!(user.seniority_level, Some(3));
        assert_eq!(user.source, "local", "the serde default applies");
        assert_eq!(user.updated_utc.timestamp_subsec_millis(), 123);
        let page: Page<u64> = from_str(r#"{"items":[1,2,3],"next_cursor":null}"#).expect("page");
        assert_eq!(page.items, vec![1, 2, 3]);
        let status: RequestStatus = from_str(r#""pending""#).expect("status");
        assert_eq!(status, RequestStatus::Pending);
        let map: BTreeMap<String, f64> = from_str(r#"{"a":-1,"b":2.5}"#).expect("map");
        assert_eq!(map["a"], -1.0);
    }

    #[test]
    fn refuses_what_does_not_fit() {
        assert!(from_str::<User>(r#"[7,"ana"]"#).is_err());
        assert!(from_str::<User>(r#"{"id":"seven","login_name":"ana"}"#).is_err());
        assert!(from_str::<RequestStatus>(r#""nonsense""#).is_err());
        assert!(from_str::<u64>("{").is_err());
    }
}
