//! Request and response bodies of the `/api/v1` REST API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::status::*;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Tri-state for PATCH bodies: field absent = keep, `null` = clear, value = set.
/// Use with `#[serde(default, deserialize_with = "crate::dto::patch")]`.
pub fn patch<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// An optional nested object that must be a JSON object (or `null`/absent): serde's derived
/// readers would also take a struct written as an array (`[null, null]`), which the OpenAPI
/// document (`type: object`) does not allow.
pub fn object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    use serde::de::{MapAccess, Visitor};
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object or null")
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_map(self)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Some)
        }
    }
    d.deserialize_option(V(std::marker::PhantomData))
}

/// Reads an RFC 3339 timestamp (`2026-11-23T14:05:00.123Z`, `...+01:00`), as the API writes
/// them. The web app uses it for every timestamp it receives (`cfg_attr(target_arch =
/// "wasm32")`): chrono's own `Deserialize` goes through its general format parser, several KB
/// of wasm. The service keeps chrono's impl, so nothing changes for what it accepts.
pub fn rfc3339<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let s = String::deserialize(d)?;
    parse_rfc3339(&s).ok_or_else(|| serde::de::Error::custom("invalid RFC 3339 timestamp"))
}

/// [`rfc3339`] for an optional timestamp (`null` is `None`).
pub fn rfc3339_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(d)? {
        Some(s) => parse_rfc3339(&s)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("invalid RFC 3339 timestamp")),
        None => Ok(None),
    }
}

/// `YYYY-MM-DD(T|t| )HH:MM:SS[.fraction](Z|z|±HH:MM)`; a fraction past nanoseconds is cut.
pub fn parse_rfc3339(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let sep = |at: usize, ok: &[u8]| b.get(at).is_some_and(|c| ok.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let date =
        chrono::NaiveDate::from_ymd_opt(i32::try_from(num(0, 4)?).ok()?, num(5, 2)?, num(8, 2)?)?;
    let (h, mi, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let mut i = 19;
    let mut nanos = 0u32;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        nanos *= 10u32.pow(9u32.saturating_sub(u32::try_from(i - start).ok()?));
    }
    let offset_secs = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && sep(i + 3, b":") => {
            let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let secs = i64::from(oh * 3600 + om * 60);
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    // A leap second (`:60`) is chrono's 59 s + 1e9 ns, as chrono's own parser reads it.
    let (sec, nanos) = if sec == 60 {
        (59, nanos + 1_000_000_000)
    } else {
        (sec, nanos)
    };
    let local = date.and_hms_nano_opt(h, mi, sec, nanos)?;
    let utc = local.checked_sub_signed(chrono::TimeDelta::seconds(offset_secs))?;
    Some(DateTime::from_naive_utc_and_offset(utc, Utc))
}

#[cfg(test)]
mod object_tests {
    use super::*;

    #[test]
    fn nested_objects_must_be_objects() {
        let ok: TargetCreate = serde_json::from_str(
            r#"{"name":"a","kind":"aws_sso","settings":{"region":"eu-west-1"}}"#,
        )
        .unwrap();
        assert_eq!(
            ok.settings.and_then(|s| s.region).as_deref(),
            Some("eu-west-1")
        );
        let none: TargetCreate =
            serde_json::from_str(r#"{"name":"a","kind":"noop","settings":null}"#).unwrap();
        assert!(none.settings.is_none());
        let absent: DbRoleCreate =
            serde_json::from_str(r#"{"target_id":1,"db_role_name":"r"}"#).unwrap();
        assert!(absent.r#ref.is_none());
        assert!(serde_json::from_str::<TargetCreate>(
            r#"{"name":"a","kind":"noop","settings":[null,null]}"#
        )
        .is_err());
        assert!(
            serde_json::from_str::<DbRoleCreate>(r#"{"target_id":1,"ref":[null,null]}"#).is_err()
        );
        assert!(serde_json::from_str::<TargetUpdate>(r#"{"settings":["eu-west-1"]}"#).is_err());
    }
}

#[cfg(test)]
mod rfc3339_tests {
    use super::*;

    #[test]
    fn reads_what_chrono_reads() {
        for s in [
            "2026-11-23T14:05:00Z",
            "2026-11-23T14:05:00.123Z",
            "2026-11-23T14:05:00.123456789Z",
            "2026-11-23T14:05:00.1234567891Z",
            "2026-11-23t14:05:00z",
            "2026-11-23 14:05:00+01:30",
            "2026-01-01T00:30:00-02:00",
            "2016-12-31T23:59:60Z",
            "0001-01-01T00:00:00Z",
        ] {
            let ours = parse_rfc3339(s);
            let chrono = DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.with_timezone(&Utc));
            assert_eq!(ours, chrono, "{s}");
            assert!(ours.is_some(), "{s}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_timestamp() {
        for s in [
            "",
            "2026-11-23",
            "2026-11-23T14:05:00",
            "2026-02-30T14:05:00Z",
            "2026-11-23T24:05:00Z",
            "2026-11-23T14:05:00.Z",
            "2026-11-23T14:05:00+0100",
            "2026-11-23T14:05:00+01:00x",
            "2026-11-23T14:05:00+24:00",
            "2026-11-23X14:05:00Z",
            "2026-1a-23T14:05:00Z",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{s}");
        }
    }

    #[test]
    fn reads_timestamps_in_dtos() {
        #[derive(Deserialize)]
        struct T {
            #[serde(deserialize_with = "rfc3339")]
            at: DateTime<Utc>,
            #[serde(default, deserialize_with = "rfc3339_opt")]
            until: Option<DateTime<Utc>>,
        }
        let t: T = serde_json::from_str(r#"{"at":"2026-11-23T14:05:00+01:00"}"#).expect("t");
        assert_eq!(t.at.to_rfc3339(), "2026-11-23T13:05:00+00:00");
        assert_eq!(t.until, None);
        let t: T =
            serde_json::from_str(r#"{"at":"2026-11-23T14:05:00Z","until":null}"#).expect("t");
        assert_eq!(t.until, None);
        assert!(serde_json::from_str::<T>(r#"{"at":"yesterday"}"#).is_err());
    }
}

/// The body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorBody {
    pub error: ErrorInfo,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorInfo {
    /// Stable machine-readable code, e.g. `not_eligible`, `validation_failed`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// Structured context (field errors, the conflicting object's id, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// A page of a list. Pass `next_cursor` back as `?cursor=` for the next page; it is null on
/// the last page.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

// ---------------------------------------------------------------- auth

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[cfg_attr(feature = "openapi", schema(pattern = r#"^[^\u0000]*$"#))]
    pub login_name: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LoginResponse {
    /// Bearer token for the `Authorization` header.
    pub token: String,
    pub token_type: String,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub expires_utc: DateTime<Utc>,
    pub user: User,
}

// ---------------------------------------------------------------- users

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct User {
    pub id: i64,
    pub login_name: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub division: Option<String>,
    pub department: Option<String>,
    pub job_title: Option<String>,
    /// 1 = most junior; higher is more senior. Drives seniority-bypass auto-approval.
    pub seniority_level: Option<i64>,
    pub manager_login_name: Option<String>,
    pub is_active: bool,
    pub is_admin: bool,
    pub is_auditor: bool,
    /// Whether the user can sign in with a built-in password.
    pub has_password: bool,
    /// Where the user comes from: `local`, `oidc`, `directory` or `scim`.
    #[serde(default = "default_source")]
    pub source: String,
    /// The source's stable id for the person (OIDC `sub`, directory entry id, SCIM
    /// `externalId`); none for local users.
    #[serde(default)]
    pub external_id: Option<String>,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub last_ad_sync_utc: Option<DateTime<Utc>>,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub created_utc: DateTime<Utc>,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub updated_utc: DateTime<Utc>,
    pub created_by: String,
    pub updated_by: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r#"^[\t\n\u000b\u000c\r\u0085 \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[A-Za-z0-9._@\\-]{1,128}[\t\n\u000b\u000c\r\u0085 \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"#
        )
    )]
    pub login_name: String,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#)
    )]
    pub given_name: Option<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#)
    )]
    pub surname: Option<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#)
    )]
    pub display_name: Option<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#)
    )]
    pub email: Option<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#)
    )]
    pub division: Option<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#)
    )]
    pub department: Option<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#)
    )]
    pub job_title: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000))]
    pub seniority_level: Option<i64>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r#"^[\t\n\u000b\u000c\r\u0085 \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*([A-Za-z0-9._@\\-]{1,128}[\t\n\u000b\u000c\r\u0085 \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*)?$"#
        )
    )]
    pub manager_login_name: Option<String>,
    #[serde(default)]
    pub is_admin: Option<bool>,
    #[serde(default)]
    pub is_auditor: Option<bool>,
    /// Initial password for the built-in login (at least 12 characters). Never returned.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 12, max_length = 1024))]
    pub password: Option<String>,
}

/// Fields to change; absent fields stay, `null` clears a nullable field.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#))]
    pub given_name: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#))]
    pub surname: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#))]
    pub display_name: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#))]
    pub email: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#))]
    pub division: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#))]
    pub department: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#))]
    pub job_title: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>, minimum = 0, maximum = 1000))]
    pub seniority_level: Option<Option<i64>>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = r#"^[\t\n\u000b\u000c\r\u0085 \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*([A-Za-z0-9._@\\-]{1,128}[\t\n\u000b\u000c\r\u0085 \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*)?$"#))]
    pub manager_login_name: Option<Option<String>>,
    #[serde(default)]
    pub is_admin: Option<bool>,
    #[serde(default)]
    pub is_auditor: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordSet {
    /// New password (at least 12 characters).
    #[cfg_attr(feature = "openapi", schema(min_length = 12, max_length = 1024))]
    pub password: String,
}

// ---------------------------------------------------------------- teams

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Team {
    pub id: i64,
    pub team_name: String,
    pub description: Option<String>,
    pub division: Option<String>,
    pub department: Option<String>,
    pub is_active: bool,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub created_utc: DateTime<Utc>,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub updated_utc: DateTime<Utc>,
    pub created_by: String,
    pub updated_by: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TeamCreate {
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 255,
            pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u001f\u007f-\u009f \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$"#
        )
    )]
    pub team_name: String,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 4000,
            pattern = r#"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"#
        )
    )]
    pub description: Option<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#)
    )]
    pub division: Option<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#)
    )]
    pub department: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TeamUpdate {
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 255,
            pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u001f\u007f-\u009f \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$"#
        )
    )]
    pub team_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 4000, pattern = r#"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"#))]
    pub description: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#))]
    pub division: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#))]
    pub department: Option<Option<String>>,
    #[serde(default)]
    pub is_active: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TeamMember {
    pub team_id: i64,
    pub user_id: i64,
    pub login_name: String,
    pub display_name: Option<String>,
    pub is_active: bool,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub assigned_utc: DateTime<Utc>,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub removed_utc: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TeamMemberAdd {
    pub user_id: i64,
}

// ---------------------------------------------------------------- targets and db roles

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Target {
    pub id: i64,
    pub name: String,
    pub kind: TargetKind,
    pub description: Option<String>,
    /// Name of the environment variable holding the connection URL. The URL itself is never
    /// stored or returned.
    pub connection_url_env: Option<String>,
    /// `report` (only show drift) or `repair` (also fix it).
    pub drift_policy: String,
    /// Kind-specific, non-secret settings (`aws_sso`: `region`, `instance_arn`,
    /// `identity_store_id`). Secrets stay in environment variables.
    pub settings: Option<TargetSettings>,
    /// Which attribute of a JITEA user names them on this target.
    pub principal_from: PrincipalFrom,
    pub is_enabled: bool,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub created_utc: DateTime<Utc>,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub updated_utc: DateTime<Utc>,
    pub created_by: String,
    pub updated_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TargetCreate {
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 255,
            pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u001f\u007f-\u009f \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$"#
        )
    )]
    pub name: String,
    pub kind: TargetKind,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 4000,
            pattern = r#"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"#
        )
    )]
    pub description: Option<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r#"^[\t\n\u000b\u000c\r\u0085 \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(JITEA_TARGET_[A-Z0-9_]{1,115}[\t\n\u000b\u000c\r\u0085 \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*)?$"#
        )
    )]
    pub connection_url_env: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = r#"^(report|repair)$"#))]
    pub drift_policy: Option<String>,
    /// Required for `aws_sso` (`region`, `instance_arn`, `identity_store_id`); not taken by
    /// the other kinds.
    #[serde(default, deserialize_with = "object")]
    pub settings: Option<TargetSettings>,
    /// Default `login`.
    #[serde(default)]
    pub principal_from: Option<PrincipalFrom>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TargetUpdate {
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 255,
            pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u001f\u007f-\u009f \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$"#
        )
    )]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 4000, pattern = r#"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"#))]
    pub description: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = r#"^[\t\n\u000b\u000c\r\u0085 \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(JITEA_TARGET_[A-Z0-9_]{1,115}[\t\n\u000b\u000c\r\u0085 \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*)?$"#))]
    pub connection_url_env: Option<Option<String>>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = r#"^(report|repair)$"#))]
    pub drift_policy: Option<String>,
    #[serde(default)]
    pub is_enabled: Option<bool>,
    /// Replaces the settings (checked as on create).
    #[serde(default, deserialize_with = "object")]
    pub settings: Option<TargetSettings>,
    #[serde(default)]
    pub principal_from: Option<PrincipalFrom>,
}

/// Who a JITEA user is on a target whose `principal_from` is `external_id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TargetPrincipal {
    pub target_id: i64,
    pub user_id: i64,
    pub login_name: String,
    /// Their name on the target (on `aws_sso`, the Identity Store user id).
    pub principal: String,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub created_utc: DateTime<Utc>,
    pub created_by: String,
}

/// Sets a user's principal on a target.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TargetPrincipalSet {
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 256,
            pattern = r#"^[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$"#
        )
    )]
    pub principal: String,
}

/// A target's kind-specific, non-secret settings. Each kind takes only its own fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TargetSettings {
    /// `aws_sso`: the AWS region of the IAM Identity Center instance (`eu-west-1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 32, pattern = r#"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$"#)
    )]
    pub region: Option<String>,
    /// `aws_sso`: the instance, `arn:aws:sso:::instance/ssoins-…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 1224,
            pattern = r#"^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance/(sso)?ins-[a-zA-Z0-9.-]{16}$"#
        )
    )]
    pub instance_arn: Option<String>,
    /// `aws_sso`: the instance's identity store (`d-…`), where users are looked up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 64, pattern = r#"^[A-Za-z0-9-]{1,64}$"#)
    )]
    pub identity_store_id: Option<String>,
}

/// What an entitlement is on its target, for kinds whose entitlements are not a plain name.
/// Each kind takes only its own fields; the entitlement's `db_role_name` is derived from it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EntitlementRef {
    /// `aws_sso`: the AWS account (12 digits) the permission set is assigned in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = r#"^[0-9]{12}$"#))]
    pub account_id: Option<String>,
    /// `aws_sso`: the permission set,
    /// `arn:aws:sso:::permissionSet/ssoins-…/ps-…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 1224,
            pattern = r#"^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::permissionSet/(sso)?ins-[a-zA-Z0-9.-]{16}/ps-[a-zA-Z0-9.-]{16}$"#
        )
    )]
    pub permission_set_arn: Option<String>,
}

impl EntitlementRef {
    /// The catalogue key (`db_role_name`) of an `aws_sso` entitlement:
    /// `<account_id>:<permission_set_arn>`. The one definition of that format, shared by the
    /// rules that check it (`domain::entitlements`) and the connector that uses it.
    pub fn aws_sso_key(account_id: &str, permission_set_arn: &str) -> String {
        format!("{account_id}:{permission_set_arn}")
    }

    /// `(account_id, permission_set_arn)` of an `aws_sso` key, unchecked (an account id has no
    /// `:`; the ARN does).
    pub fn aws_sso_key_parts(key: &str) -> Option<(&str, &str)> {
        key.split_once(':')
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DbRole {
    pub id: i64,
    pub target_id: i64,
    pub target_name: String,
    /// Must match the role's name on the target exactly. For kinds with a `ref`, the
    /// entitlement's key derived from it (`aws_sso`: `<account_id>:<permission_set_arn>`).
    pub db_role_name: String,
    /// What the entitlement is on kinds whose entitlements are not a plain name (`aws_sso`).
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub r#ref: Option<EntitlementRef>,
    pub role_type: Option<String>,
    pub description: Option<String>,
    /// Whitelist flag: only JIT-managed roles are ever granted or revoked by JITEA.
    pub is_jit_managed: bool,
    pub has_unmask: bool,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub created_utc: DateTime<Utc>,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub updated_utc: DateTime<Utc>,
    pub created_by: String,
    pub updated_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DbRoleCreate {
    pub target_id: i64,
    /// The role's name on the target. May be left out when `ref` is given: it is derived
    /// from it.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 128,
            pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u001f\u007f-\u009f \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$"#
        )
    )]
    pub db_role_name: String,
    /// Required for `aws_sso` targets (`account_id`, `permission_set_arn`).
    #[serde(rename = "ref", default, deserialize_with = "object")]
    pub r#ref: Option<EntitlementRef>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 50, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#)
    )]
    pub role_type: Option<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 4000,
            pattern = r#"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"#
        )
    )]
    pub description: Option<String>,
    #[serde(default)]
    pub is_jit_managed: Option<bool>,
    #[serde(default)]
    pub has_unmask: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DbRoleUpdate {
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 50, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#))]
    pub role_type: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 4000, pattern = r#"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"#))]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub is_jit_managed: Option<bool>,
    #[serde(default)]
    pub has_unmask: Option<bool>,
}

// ---------------------------------------------------------------- roles

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Role {
    pub id: i64,
    pub role_name: String,
    pub description: Option<String>,
    pub max_duration_minutes: i64,
    pub requires_ticket: bool,
    /// The whole ticket reference must match this pattern.
    pub ticket_regex: Option<String>,
    pub requires_justification: bool,
    /// false = pre-approved: eligible users are granted at once.
    pub requires_approval: bool,
    /// Users with at least this seniority skip approval.
    pub auto_approve_min_seniority: Option<i64>,
    pub is_enabled: bool,
    /// A pending request (or extension) not decided within this many minutes expires.
    #[serde(default = "default_approval_window")]
    pub approval_window_minutes: i64,
    /// Longest single extension; null = the role's `max_duration_minutes`.
    #[serde(default)]
    pub max_extension_minutes: Option<i64>,
    /// Most extensions one grant may get (0 = none).
    #[serde(default = "default_max_extensions")]
    pub max_extensions: i64,
    /// Longest a grant may last with its extensions; null = 3 × `max_duration_minutes`.
    #[serde(default)]
    pub max_total_minutes: Option<i64>,
    /// Distinct approvals a request needs (1..=5).
    #[serde(default = "default_required_approvals")]
    pub required_approvals: i64,
    /// Approvals are collected in stages: the approver entries grouped by `priority`, lowest
    /// first; a stage opens when the one before has approved, each stage approves once and
    /// the last gives the rest (so at least one approval per stage).
    #[serde(default)]
    pub approval_stages: bool,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub created_utc: DateTime<Utc>,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub updated_utc: DateTime<Utc>,
    pub created_by: String,
    pub updated_by: String,
    /// Break-glass: eligible users are granted at once with a mandatory justification,
    /// bypassing approvers; every approver of the role and every admin is told, and the grant
    /// needs an after-the-fact review by an approver within `review_window_minutes`.
    #[serde(default)]
    pub break_glass: bool,
    /// How long after a break-glass grant its review is due.
    #[serde(default = "default_review_window")]
    pub review_window_minutes: i64,
    /// The team chat channel this role's calls to act and alerts go to instead of the global
    /// one: `KEY` names `JITEA_SLACK_WEBHOOK_URL_KEY` / `JITEA_TEAMS_WEBHOOK_URL_KEY` (upper
    /// case) in the server's environment. null: the global channel.
    #[serde(default)]
    pub chat_channel: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RoleCreate {
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 255,
            pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u001f\u007f-\u009f \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$"#
        )
    )]
    pub role_name: String,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 4000,
            pattern = r#"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"#
        )
    )]
    pub description: Option<String>,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 525600))]
    pub max_duration_minutes: i64,
    #[serde(default)]
    pub requires_ticket: Option<bool>,
    #[serde(default)]
    pub ticket_regex: Option<String>,
    /// Default true.
    #[serde(default)]
    pub requires_justification: Option<bool>,
    /// Default true.
    #[serde(default)]
    pub requires_approval: Option<bool>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub auto_approve_min_seniority: Option<i64>,
    /// Default true.
    #[serde(default)]
    pub is_enabled: Option<bool>,
    /// Default 1440 (one day).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 43200))]
    pub approval_window_minutes: Option<i64>,
    /// Default: the role's `max_duration_minutes`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 525600))]
    pub max_extension_minutes: Option<i64>,
    /// Default 3.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100))]
    pub max_extensions: Option<i64>,
    /// Default: 3 × `max_duration_minutes`; at least `max_duration_minutes`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1576800))]
    pub max_total_minutes: Option<i64>,
    /// Distinct approvals a request needs; default 1.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5))]
    pub required_approvals: Option<i64>,
    /// Collect approvals in stages by approver `priority`; default false.
    #[serde(default)]
    pub approval_stages: Option<bool>,
    /// Default false. A break-glass role grants at once (justification required), bypassing
    /// approvers, and each grant needs an after-the-fact review.
    #[serde(default)]
    pub break_glass: Option<bool>,
    /// Default 1440 (one day): how long after a break-glass grant its review is due.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 43200))]
    pub review_window_minutes: Option<i64>,
    /// The role's own chat channel: `KEY` of `JITEA_SLACK_WEBHOOK_URL_KEY` /
    /// `JITEA_TEAMS_WEBHOOK_URL_KEY` (one of them must be set on the server); default: the
    /// global channel.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = r#"^[a-z0-9_]{1,32}$"#))]
    pub chat_channel: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RoleUpdate {
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 255,
            pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u001f\u007f-\u009f \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$"#
        )
    )]
    pub role_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 4000, pattern = r#"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"#))]
    pub description: Option<Option<String>>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 525600))]
    pub max_duration_minutes: Option<i64>,
    #[serde(default)]
    pub requires_ticket: Option<bool>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub ticket_regex: Option<Option<String>>,
    #[serde(default)]
    pub requires_justification: Option<bool>,
    #[serde(default)]
    pub requires_approval: Option<bool>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>, minimum = 0))]
    pub auto_approve_min_seniority: Option<Option<i64>>,
    #[serde(default)]
    pub is_enabled: Option<bool>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 43200))]
    pub approval_window_minutes: Option<i64>,
    /// null = the role's `max_duration_minutes`.
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>, minimum = 1, maximum = 525600))]
    pub max_extension_minutes: Option<Option<i64>>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100))]
    pub max_extensions: Option<i64>,
    /// null = 3 × `max_duration_minutes`.
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>, minimum = 1, maximum = 1576800))]
    pub max_total_minutes: Option<Option<i64>>,
    /// Applies to requests made from now on (a pending request keeps its rule).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5))]
    pub required_approvals: Option<i64>,
    #[serde(default)]
    pub approval_stages: Option<bool>,
    #[serde(default)]
    pub break_glass: Option<bool>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 43200))]
    pub review_window_minutes: Option<i64>,
    /// null: back to the global chat channel.
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = r#"^[a-z0-9_]{1,32}$"#))]
    pub chat_channel: Option<Option<String>>,
}

/// A db role that a business role grants.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RoleDbRole {
    pub role_id: i64,
    pub db_role_id: i64,
    pub db_role_name: String,
    pub target_id: i64,
    pub target_name: String,
    pub is_required: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RoleDbRoleSet {
    /// Default true.
    #[serde(default)]
    pub is_required: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RoleApprover {
    pub id: i64,
    pub role_id: i64,
    pub approver_type: ApproverType,
    pub approver_user_id: Option<i64>,
    pub approver_team_id: Option<i64>,
    pub approver_department: Option<String>,
    pub approver_login_name: Option<String>,
    pub priority: i64,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub created_utc: DateTime<Utc>,
    pub created_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RoleApproverCreate {
    pub approver_type: ApproverType,
    /// Required for `user`.
    #[serde(default)]
    pub approver_user_id: Option<i64>,
    /// Required for `team`.
    #[serde(default)]
    pub approver_team_id: Option<i64>,
    /// Required for `department`.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#)
    )]
    pub approver_department: Option<String>,
    #[serde(default)]
    pub priority: Option<i64>,
}

// ---------------------------------------------------------------- eligibility

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EligibilityRule {
    pub id: i64,
    pub role_id: i64,
    pub scope_type: ScopeType,
    /// User id (`user`), team id (`team`), department or division name; null for `all`.
    pub scope_value: Option<String>,
    /// true = may request; false = explicitly denied.
    pub can_request: bool,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub valid_from_utc: Option<DateTime<Utc>>,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub valid_to_utc: Option<DateTime<Utc>>,
    pub priority: i64,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub created_utc: DateTime<Utc>,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub updated_utc: DateTime<Utc>,
    pub created_by: String,
    pub updated_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EligibilityRuleCreate {
    pub role_id: i64,
    pub scope_type: ScopeType,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#)
    )]
    pub scope_value: Option<String>,
    /// Default true.
    #[serde(default)]
    pub can_request: Option<bool>,
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339_opt"))]
    pub valid_from_utc: Option<DateTime<Utc>>,
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339_opt"))]
    pub valid_to_utc: Option<DateTime<Utc>>,
    #[serde(default)]
    pub priority: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EligibilityRuleUpdate {
    #[serde(default)]
    pub scope_type: Option<ScopeType>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 255, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#))]
    pub scope_value: Option<Option<String>>,
    #[serde(default)]
    pub can_request: Option<bool>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<DateTime<Utc>>))]
    pub valid_from_utc: Option<Option<DateTime<Utc>>>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<DateTime<Utc>>))]
    pub valid_to_utc: Option<Option<DateTime<Utc>>>,
    #[serde(default)]
    pub priority: Option<i64>,
}

/// A per-user exception that takes precedence over every rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EligibilityOverride {
    pub user_id: i64,
    pub role_id: i64,
    pub role_name: String,
    pub can_request: bool,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub valid_from_utc: Option<DateTime<Utc>>,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub valid_to_utc: Option<DateTime<Utc>>,
    pub priority: i64,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub created_utc: DateTime<Utc>,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub updated_utc: DateTime<Utc>,
    pub created_by: String,
    pub updated_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EligibilityOverrideSet {
    pub can_request: bool,
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339_opt"))]
    pub valid_from_utc: Option<DateTime<Utc>>,
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339_opt"))]
    pub valid_to_utc: Option<DateTime<Utc>>,
    #[serde(default)]
    pub priority: Option<i64>,
}

/// The outcome of the eligibility rules for one user and role, with what decided it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EligibilityCheck {
    pub user_id: i64,
    pub role_id: i64,
    pub eligible: bool,
    /// Machine-readable decision: `{"kind": "rule", "rule_id": 3, ...}`, `{"kind": "override", ...}`,
    /// `{"kind": "no_matching_rule"}`, `{"kind": "user_inactive"}`, `{"kind": "role_disabled"}`.
    pub reason: serde_json::Value,
    /// One sentence for people.
    pub explanation: String,
    /// What would happen to a request now: auto-approved (and why) or pending (null).
    pub auto_approval_reason: Option<AutoApprovalReason>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RequestableRole {
    pub role: Role,
    pub db_roles: Vec<RoleDbRole>,
    /// Whether a request would be granted at once, without an approver.
    pub would_auto_approve: bool,
    pub auto_approval_reason: Option<AutoApprovalReason>,
}

// ---------------------------------------------------------------- requests and approvals

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AccessRequest {
    pub id: i64,
    pub user_id: i64,
    pub user_login_name: String,
    pub role_id: i64,
    pub role_name: String,
    pub requested_duration_minutes: i64,
    pub justification: Option<String>,
    pub ticket_ref: Option<String>,
    pub status: RequestStatus,
    /// Set when the request was approved without a human decision.
    pub auto_approval_reason: Option<AutoApprovalReason>,
    pub user_dept_snapshot: Option<String>,
    pub user_title_snapshot: Option<String>,
    pub user_division_snapshot: Option<String>,
    pub user_seniority_snapshot: Option<i64>,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub created_utc: DateTime<Utc>,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub updated_utc: DateTime<Utc>,
    pub created_by: String,
    pub updated_by: String,
    pub approvals: Vec<Approval>,
    /// The grant issued for this request, once approved (for an extension: the grant it
    /// extends).
    pub grant_id: Option<i64>,
    /// `access` (a new grant) or `extension` (more time on a live grant).
    #[serde(default)]
    pub kind: RequestKind,
    /// For an extension: the grant it extends and what the approver should know about it.
    #[serde(default)]
    pub extension: Option<ExtensionOf>,
    /// A pending request not decided by then expires (the role's approval window).
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub decide_by_utc: Option<DateTime<Utc>>,
    /// Scheduled access: when the grant is to start (null: as soon as approved).
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub start_utc: Option<DateTime<Utc>>,
    /// Distinct approvals this request needs (its role's rule when it was made).
    #[serde(default = "default_required_approvals")]
    pub required_approvals: i64,
    /// Whether its approvals are collected in stages (see `Role::approval_stages`).
    #[serde(default)]
    pub approval_stages: bool,
    /// While pending: how many approvals it has and needs, the open stage and who may
    /// approve now. Null once decided.
    #[serde(default)]
    pub approval_progress: Option<ApprovalProgress>,
}

/// Where a pending request's approvals stand.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApprovalProgress {
    /// Distinct approvals so far.
    pub approved: i64,
    /// Approvals needed in all (with stages, at least one per stage).
    pub required: i64,
    /// The open stage, 1-based; null without stages.
    pub stage: Option<i64>,
    /// Number of stages (1 without stages).
    pub stages: i64,
    /// The role's approver entries whose approval counts now (the open stage's, or all);
    /// anyone who may decide the request may deny it at any stage. Whoever has approved
    /// already does not count again.
    pub waiting_for: Vec<RoleApprover>,
}

/// The live grant an extension request is for.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExtensionOf {
    pub grant_id: i64,
    pub grant_status: GrantStatus,
    /// When the person got the access (how long they have held it).
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub grant_valid_from_utc: DateTime<Utc>,
    /// When the access ends now (before this extension, while it is pending).
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub grant_valid_to_utc: DateTime<Utc>,
    /// Extensions the grant had already got when this one was asked for.
    pub previous_extensions: i64,
}

/// More time on a live grant: `POST /grants/{id}/extend`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GrantExtend {
    /// Minutes added to the grant's end; at most the role's `max_extension_minutes`.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 525600))]
    pub extra_minutes: i64,
    /// Why more time is needed; required when the role requires a justification; at most
    /// 4000 characters after trimming.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = r#"^[^\u0000]*$"#))]
    pub justification: Option<String>,
    /// Required when the role requires a ticket, matched in full by its `ticket_regex`.
    #[serde(default)]
    pub ticket_ref: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RequestCreate {
    pub role_id: i64,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 525600))]
    pub requested_duration_minutes: i64,
    /// Why access is needed; required when the role says so; at most 4000 characters after
    /// trimming.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = r#"^[^\u0000]*$"#))]
    pub justification: Option<String>,
    /// The change or incident ticket; required when the role says so, matched in full by the
    /// role's `ticket_regex`; at most 255 characters after trimming, no control characters.
    #[serde(default)]
    pub ticket_ref: Option<String>,
    /// Scheduled access: when the grant should start (RFC 3339, at most 7 days ahead). Once
    /// approved, the access is added at that instant and lasts the requested duration from
    /// then; approved later, it starts at the approval. Absent: as soon as approved.
    #[serde(default)]
    pub start_utc: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Optional comment, at most 4000 characters after trimming.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = r#"^[^\u0000]*$"#))]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Approval {
    pub id: i64,
    pub request_id: i64,
    pub approver_user_id: Option<i64>,
    pub approver_login_name: String,
    pub decision: Decision,
    pub decision_comment: Option<String>,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub decision_utc: DateTime<Utc>,
}

// ---------------------------------------------------------------- grants

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Grant {
    pub id: i64,
    pub request_id: Option<i64>,
    pub user_id: i64,
    pub user_login_name: String,
    pub role_id: i64,
    pub role_name: String,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub valid_from_utc: DateTime<Utc>,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub valid_to_utc: DateTime<Utc>,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub revoked_utc: Option<DateTime<Utc>>,
    pub revoke_reason: Option<String>,
    pub revoked_by_user_id: Option<i64>,
    pub issued_by_user_id: Option<i64>,
    pub status: GrantStatus,
    /// Why a grant is failed or still provisioning, when known.
    pub status_detail: Option<String>,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub created_utc: DateTime<Utc>,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub updated_utc: DateTime<Utc>,
    /// Failed provisioning or revocation attempts so far.
    pub attempts: i64,
    /// When the next retry is due, if one is scheduled.
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub next_attempt_utc: Option<DateTime<Utc>>,
    /// Removing this access keeps failing on a target: it is still being retried and the
    /// grant is not shown as ended until the target confirms.
    pub revoke_failed: bool,
    /// An early end decided but not yet confirmed by every target: `revoke` or `fail`.
    pub pending_end: Option<String>,
    /// Extensions approved so far.
    #[serde(default)]
    pub extensions: i64,
    /// The extension request waiting for a decision, if any.
    #[serde(default)]
    pub pending_extension_id: Option<i64>,
    /// Per db role: what was added and dropped on the target, and any error.
    pub assignments: Vec<GrantAssignment>,
    /// Granted through a break-glass role, bypassing approvers: needs an after-the-fact review.
    #[serde(default)]
    pub break_glass: bool,
    /// When the review of a break-glass grant is due (null otherwise).
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub review_due_utc: Option<DateTime<Utc>>,
    /// The after-the-fact review of a break-glass grant, once made.
    pub review: Option<GrantReview>,
}

/// The after-the-fact review of a break-glass grant.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GrantReview {
    pub outcome: ReviewOutcome,
    pub comment: String,
    pub reviewer_user_id: Option<i64>,
    pub reviewer_login_name: String,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub reviewed_utc: DateTime<Utc>,
}

/// `POST /grants/{id}/review`: the after-the-fact review of a break-glass grant.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GrantReviewBody {
    pub outcome: ReviewOutcome,
    /// Required: 1-4000 characters after trimming.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            pattern = r#"^[^\u0000]*[^\u0000\t\n\u000b\u000c\r\u0085 \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"#
        )
    )]
    pub comment: String,
    /// With `flag`: also revoke the grant now (through the same path as an admin revoke).
    /// Refused with `accept`.
    #[serde(default)]
    pub revoke: bool,
}

/// One break-glass grant in `GET /reports/break-glass`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BreakGlassEntry {
    pub grant_id: i64,
    pub request_id: Option<i64>,
    pub user_id: i64,
    pub user_login_name: String,
    pub role_id: i64,
    pub role_name: String,
    pub justification: Option<String>,
    pub ticket_ref: Option<String>,
    pub grant_status: GrantStatus,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub valid_from_utc: DateTime<Utc>,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub valid_to_utc: DateTime<Utc>,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub revoked_utc: Option<DateTime<Utc>>,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub review_due_utc: Option<DateTime<Utc>>,
    /// `unreviewed`, `overdue` (unreviewed past `review_due_utc`), `accepted`, `flagged`.
    pub review_status: BreakGlassStatus,
    pub review: Option<GrantReview>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GrantAssignment {
    pub db_role_id: i64,
    pub db_role_name: String,
    pub target_id: i64,
    pub target_name: String,
    /// Whether the role's mapping requires this db role. An optional one that fails to be
    /// added does not hold the grant back: the grant becomes active with this assignment in
    /// `add_failed`, and the engine keeps retrying it.
    #[serde(default = "default_true")]
    pub required: bool,
    /// `pending`, `added`, `add_failed`, `dropped`, `drop_failed`.
    pub state: String,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub add_attempt_utc: Option<DateTime<Utc>>,
    pub add_succeeded: Option<bool>,
    pub add_error: Option<String>,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub drop_attempt_utc: Option<DateTime<Utc>>,
    pub drop_succeeded: Option<bool>,
    pub drop_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    /// Why access is taken away early (required, at most 4000 characters after trimming,
    /// recorded in the audit log).
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r#"^[^\u0000]*[^\u0000\t\n\u000b\u000c\r\u0085 \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"#
        )
    )]
    pub reason: String,
}

// ---------------------------------------------------------------- audit and ops

/// One step in the life of a piece of access (`GET /requests/{id}/timeline`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TimelineEntry {
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub at: DateTime<Utc>,
    /// The audit event type: `request_created`, `request_approved`, `role_added`,
    /// `extension_requested`, `grant_extended`, `grant_expired`, ...
    pub step: String,
    /// Who did it (a person's login, or `system:<job>`).
    pub actor_login_name: String,
    pub request_id: Option<i64>,
    pub grant_id: Option<i64>,
    /// The db role a provisioning step is about.
    pub db_role_name: Option<String>,
    /// The step in a sentence.
    pub summary: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub event_utc: DateTime<Utc>,
    pub event_type: String,
    pub actor_user_id: Option<i64>,
    pub actor_login_name: String,
    pub target_user_id: Option<i64>,
    pub request_id: Option<i64>,
    pub grant_id: Option<i64>,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Health {
    pub status: String,
}

/// What a run of a background job did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct JobRun {
    pub job: String,
    pub processed: i64,
    pub failed: i64,
}

// ---------------------------------------------------------------- reconciliation

/// One reconciliation pass over every enabled target.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReconcileRun {
    pub id: i64,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub started_utc: DateTime<Utc>,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub finished_utc: Option<DateTime<Utc>>,
    /// `schedule`, `api`, `cli` or `startup`.
    pub trigger_source: String,
    pub actor_login_name: String,
    /// `running`, `succeeded`, `failed`.
    pub status: String,
    pub targets_checked: i64,
    pub findings: i64,
    pub repaired: i64,
    pub errors: i64,
}

/// A difference between JITEA's records and a target.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DriftFinding {
    pub id: i64,
    pub run_id: i64,
    pub target_id: i64,
    pub target_name: String,
    pub db_role_id: Option<i64>,
    pub db_role_name: Option<String>,
    pub login_name: Option<String>,
    /// `missing` (grant active, member absent), `unexpected` (member without an active grant),
    /// `direct_grant` (object permission granted to a login directly), `target_error`.
    pub kind: String,
    pub grant_id: Option<i64>,
    pub object_name: Option<String>,
    pub privilege: Option<String>,
    /// `re_added`, `re_add_failed`, `removed`, `remove_failed`, `reported`.
    pub action: String,
    pub error: Option<String>,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub detected_utc: DateTime<Utc>,
}

/// Findings of one run (the latest unless a run id is given).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DriftReport {
    pub run: Option<ReconcileRun>,
    pub findings: Vec<DriftFinding>,
}

/// The result of checking a target: can JITEA reach it, and does each mapped db role exist.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TargetTest {
    pub target_id: i64,
    pub reachable: bool,
    pub error: Option<String>,
    pub db_roles: Vec<TargetTestRole>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TargetTestRole {
    pub db_role_id: i64,
    pub db_role_name: String,
    /// Null when the target could not be asked.
    pub exists: Option<bool>,
    pub error: Option<String>,
    /// What the target says of the entitlement that an admin should know (`aws_sso`: how
    /// long sessions outlive a removal, from the permission set's session duration).
    #[serde(default)]
    pub note: Option<String>,
}

// ---------------------------------------------------------------- browser session and live view

/// A browser session (the token itself stays in an HttpOnly cookie).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SessionInfo {
    pub user: User,
    /// Send as the `X-CSRF-Token` header on every state-changing request of this session.
    pub csrf_token: String,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub expires_utc: DateTime<Utc>,
}

/// Which sign-in options the sign-in page shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuthProviders {
    /// Password sign-in is open to everyone (`JITEA_LOCAL_LOGIN`); when false only the
    /// bootstrap admin's break-glass password works.
    pub local: bool,
    /// Single sign-on through the configured OpenID Connect provider, if any.
    pub oidc: Option<OidcProviderInfo>,
}

/// The OpenID Connect sign-in button.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OidcProviderInfo {
    /// Label for the button.
    pub name: String,
    /// Send the browser here (add `?return_to=/path` to come back to a page of the app).
    pub login_url: String,
}

/// Numbers for the admin overview.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Overview {
    pub pending_requests: i64,
    pub active_grants: i64,
    /// Active grants ending within the next hour.
    pub expiring_next_hour: i64,
    pub provisioning_grants: i64,
    pub failed_grants: i64,
    /// Live grants whose removal keeps failing on a target.
    pub revoke_failed_grants: i64,
    /// Break-glass grants not reviewed yet (overdue ones included).
    #[serde(default)]
    pub break_glass_unreviewed: i64,
    /// Break-glass grants not reviewed by their review's due time.
    #[serde(default)]
    pub break_glass_overdue: i64,
}

/// One server-sent event on `/api/v1/events` (its `data`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LiveEvent {
    /// e.g. `request.created`, `request.approved`, `grant.active`, `grant.expired`.
    pub topic: String,
    pub request_id: Option<i64>,
    pub grant_id: Option<i64>,
    pub user_id: Option<i64>,
}

fn default_true() -> bool {
    true
}

fn default_source() -> String {
    "local".into()
}

/// Body of `POST /jobs/directory-sync` (every field optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DirectorySyncRequest {
    /// Compute and return the plan without changing anything.
    #[serde(default)]
    pub dry_run: Option<bool>,
    /// Apply even when more users would be deactivated than `JITEA_LDAP_MAX_DEACTIVATE_PERCENT` allows.
    #[serde(default)]
    pub force: Option<bool>,
}

/// One change a directory sync makes (or, in a dry run, would make).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DirectoryChange {
    /// `create`, `update` or `deactivate`.
    pub action: String,
    pub login_name: String,
    /// The JITEA user (absent for a user still to be created).
    pub user_id: Option<i64>,
    /// The directory entry (absent when the user is no longer in the directory).
    pub dn: Option<String>,
    /// Fields that change (`department`, `teams`, `active`, ...).
    pub fields: Vec<String>,
    /// Why a user is deactivated: `disabled` or `not_found`.
    pub reason: Option<String>,
}

/// A directory entry the sync skipped.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DirectoryEntryError {
    pub dn: String,
    pub message: String,
}

/// One directory sync run with its counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DirectorySyncRun {
    pub id: i64,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub started_utc: DateTime<Utc>,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub finished_utc: Option<DateTime<Utc>>,
    /// `schedule`, `api` or `cli`.
    pub trigger_source: String,
    pub actor_login_name: String,
    pub dry_run: bool,
    pub forced: bool,
    /// `running`, `succeeded`, `failed` (directory unreachable or refused), `refused` (the
    /// mass-deactivation guard stopped it; nothing was changed).
    pub status: String,
    pub message: Option<String>,
    /// User entries read from the directory.
    pub entries_seen: i64,
    pub created: i64,
    pub updated: i64,
    pub deactivated: i64,
    pub unchanged: i64,
    pub errors: i64,
    /// The changes of this run (planned ones in a dry run or a refused run); only in the
    /// response of the run itself.
    #[serde(default)]
    pub changes: Vec<DirectoryChange>,
    /// Entries skipped as invalid; only in the response of the run itself.
    #[serde(default)]
    pub entry_errors: Vec<DirectoryEntryError>,
}

/// Create a bearer token for an identity provider's SCIM client (`/scim/v2`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScimTokenCreate {
    /// What the token is for (e.g. the identity provider's name): 1-100 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 100,
            pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u001f\u007f-\u009f \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$"#
        )
    )]
    pub name: String,
}

/// A SCIM token as created: the only response that contains the token itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ScimTokenCreated {
    pub id: i64,
    pub name: String,
    /// `jitea_scim_<base64url>`: give it to the identity provider now; JITEA keeps only its
    /// SHA-256 and cannot show it again.
    pub token: String,
    /// The token's first characters, to recognise it in lists.
    pub token_prefix: String,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub created_utc: DateTime<Utc>,
    pub created_by: String,
}

/// A SCIM token as listed (never the token itself).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ScimToken {
    pub id: i64,
    pub name: String,
    pub token_prefix: String,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub created_utc: DateTime<Utc>,
    pub created_by: String,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub last_used_utc: Option<DateTime<Utc>>,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub revoked_utc: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

fn default_approval_window() -> i64 {
    1440
}

fn default_required_approvals() -> i64 {
    1
}

fn default_max_extensions() -> i64 {
    3
}

fn default_review_window() -> i64 {
    1440
}

/// The caller's own notification settings (`/me/notification-settings`): which optional
/// notices they do not want. Security alerts (access revoked or failed, break-glass uses) and
/// calls to act (a request waiting for you) are always sent.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotificationSettings {
    /// No reminder before a grant ends.
    pub mute_reminders: bool,
    /// No message about decisions on your requests or access given or extended.
    pub mute_decisions: bool,
}

/// One notification delivery (admins): an event told to one recipient over one channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NotificationDelivery {
    pub id: i64,
    /// The outbox event it tells about.
    pub outbox_id: i64,
    /// The event's topic, e.g. `request.created`.
    pub event_type: String,
    pub channel: NotificationChannel,
    pub recipient_user_id: Option<i64>,
    /// Where it goes: an email address, `slack` or `teams` (the configured chat channel), or
    /// the subscription's URL.
    pub address: String,
    pub subject: String,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i64,
    /// When the next attempt is due (pending deliveries).
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub next_attempt_utc: DateTime<Utc>,
    /// The last attempt's error, if it failed.
    pub last_error: Option<String>,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub created_utc: DateTime<Utc>,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, deserialize_with = "rfc3339_opt")
    )]
    pub sent_utc: Option<DateTime<Utc>>,
    /// The webhook subscription it goes to (channel `webhook`).
    #[serde(default)]
    pub subscription_id: Option<i64>,
}

/// A webhook subscription (admins): JITEA POSTs each event it names to `url`, signed per the
/// Standard Webhooks specification with the subscription's secret (shown once, at creation).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookSubscription {
    pub id: i64,
    pub url: String,
    /// The event types it receives (`*`: all).
    pub events: Vec<WebhookEventType>,
    pub description: Option<String>,
    /// Disabled subscriptions receive nothing new.
    pub is_enabled: bool,
    pub created_by: String,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub created_utc: DateTime<Utc>,
    #[cfg_attr(target_arch = "wasm32", serde(deserialize_with = "rfc3339"))]
    pub updated_utc: DateTime<Utc>,
}

/// A new webhook subscription.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookCreate {
    /// Where events are POSTed: `https://` (plain `http://` only where the server allows it,
    /// `JITEA_WEBHOOK_ALLOW_HTTP`), no user name or password in it.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 300, pattern = r#"^https?://[^\s]+$"#)
    )]
    pub url: String,
    /// The event types to receive (`*`: all).
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 32))]
    pub events: Vec<WebhookEventType>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 400, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#)
    )]
    pub description: Option<String>,
}

/// A created subscription with its signing secret: the only time the secret is shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookCreated {
    #[serde(flatten)]
    pub subscription: WebhookSubscription,
    /// `whsec_` + base64 of 32 random bytes: the HMAC-SHA256 key of the `webhook-signature`
    /// header (Standard Webhooks). Store it now; it cannot be shown again.
    pub secret: String,
}

/// Changes to a subscription; absent fields keep their value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookUpdate {
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 300, pattern = r#"^https?://[^\s]+$"#)
    )]
    pub url: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 32))]
    pub events: Option<Vec<WebhookEventType>>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 400, pattern = r#"^[^\u0000-\u001f\u007f-\u009f]*$"#)
    )]
    pub description: Option<String>,
    #[serde(default)]
    pub is_enabled: Option<bool>,
}

/// The body of every webhook POST (Standard Webhooks payload structure). Headers:
/// `webhook-id` (the same on every retry of one delivery: drop duplicates by it),
/// `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature`
/// (`v1,` + base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` keyed with the
/// base64-decoded part of the secret after `whsec_`). Answer 2xx within 10 seconds; anything
/// else is retried with backoff, in order per subscription.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookEvent {
    /// The event type, e.g. `request.created`.
    #[serde(rename = "type")]
    pub event_type: WebhookEventType,
    /// When the event happened.
    pub timestamp: DateTime<Utc>,
    /// The event's facts: ids (`request_id`, `grant_id`, `user_id`, `role_id`, `run_id`)
    /// and, per type, `status`, `reason`, `valid_to_utc`, counts. Look the objects up through
    /// the API for more.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

/// The body JITEA POSTs to a `webhook` target (the contract such a target implements), signed
/// per the Standard Webhooks specification: headers `webhook-id` (a fresh key per operation),
/// `webhook-timestamp` and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` under the secret in `<connection_url_env>_SECRET`). Answer within
/// 15 seconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TargetWebhookCall {
    pub op: TargetWebhookOp,
    /// The entitlement (the db role's name in JITEA's catalogue), for every op but `ping` and
    /// `end_sessions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entitlement: Option<String>,
    /// The person's login name, for `add`, `drop` and `end_sessions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
}

/// A `webhook` target's answer (an empty body is an empty answer).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TargetWebhookAnswer {
    /// For `entitlement_exists`.
    #[serde(default)]
    pub exists: Option<bool>,
    /// For `members`: login names.
    #[serde(default)]
    pub members: Option<Vec<String>>,
    /// A short reason, with a non-2xx status.
    #[serde(default)]
    pub error: Option<String>,
}

impl TargetWebhookAnswer {
    /// The answer as far as JITEA keeps it when the status was not 2xx.
    pub fn refused(text: String) -> Self {
        let error = serde_json::from_str::<TargetWebhookAnswer>(&text)
            .ok()
            .and_then(|a| a.error)
            .unwrap_or(text);
        Self {
            error: Some(error),
            ..Self::default()
        }
    }
}
