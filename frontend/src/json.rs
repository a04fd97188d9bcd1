//! Reads API answers into DTOs with less compiled code than `serde_json::from_str::<T>`.
//!
//! The text is parsed once into a [`Value`] (one parser for the whole app), and each DTO is
//! then read from that tree by [`Tree`], a small deserializer that only offers what the API
//! sends: a struct is always a JSON object here, so the derived `visit_seq` (the "struct as
//! array" form serde generates for every DTO) is never reached and the compiler drops it.
//! Most of the gain (7.5 of 8 KB gzipped, BENCHMARKS.md) is the error type: it never formats
//! the unexpected value, whose `Display` pulled float formatting into the wasm. A struct sent
//! as an array is an error here; the API never sends one.

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

/// Reads each element of a JSON array into a `T`.
pub fn items<T: DeserializeOwned>(values: Vec<Value>) -> Result<Vec<T>, String> {
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        out.push(T::deserialize(Tree(v)).map_err(|e| e.0)?);
    }
    Ok(out)
}

/// Splits a page answer (`{"items": [...], "next_cursor": ...}`) into its items and cursor.
/// Not generic: the envelope is read once for every item type (the derived `Page<T>` reader
/// was compiled once per `T`).
pub fn page_parts(text: &str) -> Result<(Vec<Value>, Option<String>), String> {
    let Value::Object(mut o) = serde_json::from_str(text).map_err(|e| e.to_string())? else {
        return Err("expected a page object".into());
    };
    let items = match o.remove("items") {
        Some(Value::Array(a)) => a,
        _ => return Err("expected the page's items".into()),
    };
    let cursor = match o.remove("next_cursor") {
        Some(Value::String(c)) => Some(c),
        _ => None,
    };
    Ok((items, cursor))
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
