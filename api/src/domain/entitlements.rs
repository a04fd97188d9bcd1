//! What a target kind grants and how it is named: the one place that knows each kind's
//! settings and entitlement references. A database role is a plain name; an `aws_sso`
//! entitlement is a permission set on an account, kept in the catalogue's `db_role_name` as
//! the key `<account_id>:<permission_set_arn>` and shown as a `ref` object. The checks follow
//! the constraints AWS publishes for these identifiers (IAM Identity Center API reference:
//! `InstanceArn`, `PermissionSetArn`, `TargetId`; Identity Store: `IdentityStoreId`), and
//! are also stated as patterns in the OpenAPI document.

use jitea_shared::{EntitlementRef, TargetKind, TargetSettings};

/// A field of a request body and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: &'static str,
    pub message: String,
}

fn problem(field: &'static str, message: impl Into<String>) -> Problem {
    Problem {
        field,
        message: message.into(),
    }
}

const PARTITIONS: [&str; 5] = ["aws", "aws-us-gov", "aws-cn", "aws-iso", "aws-iso-b"];

fn id_chars(s: &str, n: usize) -> bool {
    s.len() == n
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// `ssoins-<16>` or `ins-<16>`.
fn instance_id(s: &str) -> bool {
    s.strip_prefix("ssoins-")
        .or_else(|| s.strip_prefix("ins-"))
        .is_some_and(|rest| id_chars(rest, 16))
}

/// The part after `arn:<partition>:sso:::`, if `arn` starts so.
fn sso_arn_rest(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    PARTITIONS
        .contains(&partition)
        .then_some(())
        .and_then(|_| rest.strip_prefix("sso:::"))
}

/// Whether `arn` is an IAM Identity Center instance ARN.
pub fn is_instance_arn(arn: &str) -> bool {
    sso_arn_rest(arn)
        .and_then(|r| r.strip_prefix("instance/"))
        .is_some_and(instance_id)
}

/// Whether `arn` is a permission set ARN.
pub fn is_permission_set_arn(arn: &str) -> bool {
    let Some(r) = sso_arn_rest(arn).and_then(|r| r.strip_prefix("permissionSet/")) else {
        return false;
    };
    match r.split_once('/') {
        Some((ins, ps)) => {
            instance_id(ins) && ps.strip_prefix("ps-").is_some_and(|p| id_chars(p, 16))
        }
        None => false,
    }
}

fn is_region(s: &str) -> bool {
    // `eu-west-1`, `us-gov-west-1`: letters in dash-separated parts ending in a number.
    let parts: Vec<&str> = s.split('-').collect();
    s.len() <= 32
        && parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|n| (1..=2).contains(&n.len()) && n.chars().all(|c| c.is_ascii_digit()))
}

fn is_identity_store_id(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.chars().all(|c| c.is_ascii_digit())
}

fn required<'a>(
    v: &'a Option<String>,
    field: &'static str,
    kind: TargetKind,
) -> Result<&'a str, Problem> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| problem(field, format!("{field} is required for a {kind} target")))
}

/// Checks a target's settings for its kind: `aws_sso` needs all three of its fields, the
/// other kinds take none.
pub fn check_settings(kind: TargetKind, s: Option<&TargetSettings>) -> Result<(), Problem> {
    match kind {
        TargetKind::AwsSso => {
            let s = s.ok_or_else(|| {
                problem(
                    "settings",
                    "an aws_sso target needs settings: region, instance_arn, identity_store_id",
                )
            })?;
            if !is_region(required(&s.region, "settings.region", kind)?) {
                return Err(problem(
                    "settings.region",
                    "settings.region must be an AWS region such as eu-west-1",
                ));
            }
            if !is_instance_arn(required(&s.instance_arn, "settings.instance_arn", kind)?) {
                return Err(problem(
                    "settings.instance_arn",
                    "settings.instance_arn must be an IAM Identity Center instance ARN (arn:aws:sso:::instance/ssoins-…)",
                ));
            }
            if !is_identity_store_id(required(
                &s.identity_store_id,
                "settings.identity_store_id",
                kind,
            )?) {
                return Err(problem(
                    "settings.identity_store_id",
                    "settings.identity_store_id must be an identity store id such as d-1234567890",
                ));
            }
            Ok(())
        }
        _ if s.is_some_and(|s| *s != TargetSettings::default()) => Err(problem(
            "settings",
            format!("a {kind} target takes no settings"),
        )),
        _ => Ok(()),
    }
}

/// Whether a kind names its entitlements with a `ref` object rather than a plain name.
pub fn uses_ref(kind: TargetKind) -> bool {
    matches!(kind, TargetKind::AwsSso)
}

/// The catalogue key (`db_role_name`) of an entitlement of a `kind` target, from its `ref`
/// or, for kinds without one, its name. A name given beside a `ref` must be the same key.
pub fn entitlement_key(
    kind: TargetKind,
    name: &str,
    r: Option<&EntitlementRef>,
) -> Result<String, Problem> {
    if !uses_ref(kind) {
        return match r {
            Some(r) if *r != EntitlementRef::default() => Err(problem(
                "ref",
                format!("a {kind} target's db roles are named by db_role_name; it takes no ref"),
            )),
            _ if name.trim().is_empty() => Err(problem("db_role_name", "db_role_name is required")),
            _ => Ok(name.to_string()),
        };
    }
    let key = match r {
        Some(r) => {
            let account = required(&r.account_id, "ref.account_id", kind)?;
            if !is_account_id(account) {
                return Err(problem(
                    "ref.account_id",
                    "ref.account_id must be a 12-digit AWS account id",
                ));
            }
            let ps = required(&r.permission_set_arn, "ref.permission_set_arn", kind)?;
            if !is_permission_set_arn(ps) {
                return Err(problem(
                    "ref.permission_set_arn",
                    "ref.permission_set_arn must be a permission set ARN (arn:aws:sso:::permissionSet/ssoins-…/ps-…)",
                ));
            }
            EntitlementRef::aws_sso_key(account, ps)
        }
        None if aws_sso_ref(name).is_some() => name.to_string(),
        None => {
            return Err(problem(
                "ref",
                "an aws_sso entitlement needs ref: account_id and permission_set_arn",
            ))
        }
    };
    if !name.trim().is_empty() && name != key {
        return Err(problem(
            "db_role_name",
            "db_role_name must be left out (or equal <account_id>:<permission_set_arn>) when ref is given",
        ));
    }
    Ok(key)
}

/// The `ref` an entitlement key stands for, on kinds that use one.
pub fn entitlement_ref(kind: TargetKind, key: &str) -> Option<EntitlementRef> {
    match kind {
        TargetKind::AwsSso => aws_sso_ref(key),
        _ => None,
    }
}

/// `(account_id, permission_set_arn)` of an `aws_sso` key.
pub fn aws_sso_parts(key: &str) -> Option<(&str, &str)> {
    let (account, ps) = EntitlementRef::aws_sso_key_parts(key)?;
    (is_account_id(account) && is_permission_set_arn(ps)).then_some((account, ps))
}

fn aws_sso_ref(key: &str) -> Option<EntitlementRef> {
    aws_sso_parts(key).map(|(a, p)| EntitlementRef {
        account_id: Some(a.to_string()),
        permission_set_arn: Some(p.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PS: &str = "arn:aws:sso:::permissionSet/ssoins-yhx4s55buhcsx74i/ps-svggvnauraynov7r";
    const INS: &str = "arn:aws:sso:::instance/ssoins-yhx4s55buhcsx74i";

    fn aws(region: &str, ins: &str, store: &str) -> TargetSettings {
        TargetSettings {
            region: Some(region.into()),
            instance_arn: Some(ins.into()),
            identity_store_id: Some(store.into()),
        }
    }

    #[test]
    fn aws_sso_settings_are_checked_field_by_field() {
        let ok = aws("eu-west-1", INS, "d-1234567890");
        assert_eq!(check_settings(TargetKind::AwsSso, Some(&ok)), Ok(()));
        assert_eq!(
            check_settings(
                TargetKind::AwsSso,
                Some(&aws("us-gov-west-1", INS, "d-gg9g5i7wlg"))
            ),
            Ok(())
        );
        let field = |s: TargetSettings| {
            check_settings(TargetKind::AwsSso, Some(&s))
                .unwrap_err()
                .field
        };
        assert_eq!(field(aws("Europe", INS, "d-1")), "settings.region");
        assert_eq!(
            field(aws("eu-west-1", "arn:aws:iam::1:role/x", "d-1")),
            "settings.instance_arn"
        );
        assert_eq!(
            field(aws(
                "eu-west-1",
                "arn:aws:sso:::instance/ssoins-short",
                "d-1"
            )),
            "settings.instance_arn"
        );
        assert_eq!(
            field(aws("eu-west-1", INS, "d 1")),
            "settings.identity_store_id"
        );
        assert_eq!(field(TargetSettings::default()), "settings.region");
        assert_eq!(
            check_settings(TargetKind::AwsSso, None).unwrap_err().field,
            "settings"
        );
        // Other kinds take none (an empty object is the same as none).
        assert_eq!(
            check_settings(TargetKind::Postgres, Some(&TargetSettings::default())),
            Ok(())
        );
        assert_eq!(
            check_settings(TargetKind::Postgres, Some(&ok))
                .unwrap_err()
                .field,
            "settings"
        );
    }

    #[test]
    fn an_aws_sso_key_round_trips_through_its_ref() {
        let r = EntitlementRef {
            account_id: Some("957533278996".into()),
            permission_set_arn: Some(PS.into()),
        };
        let key = entitlement_key(TargetKind::AwsSso, "", Some(&r)).unwrap();
        assert_eq!(key, format!("957533278996:{PS}"));
        assert_eq!(entitlement_ref(TargetKind::AwsSso, &key), Some(r.clone()));
        assert_eq!(aws_sso_parts(&key), Some(("957533278996", PS)));
        // The key itself is accepted as a name, and a matching name beside the ref too.
        assert_eq!(
            entitlement_key(TargetKind::AwsSso, &key, None).unwrap(),
            key
        );
        assert_eq!(
            entitlement_key(TargetKind::AwsSso, &key, Some(&r)).unwrap(),
            key
        );
        assert_eq!(
            entitlement_key(TargetKind::AwsSso, "other", Some(&r))
                .unwrap_err()
                .field,
            "db_role_name"
        );
        assert_eq!(
            entitlement_key(TargetKind::AwsSso, "ReadOnly", None)
                .unwrap_err()
                .field,
            "ref"
        );
    }

    #[test]
    fn bad_aws_sso_refs_name_the_field() {
        let bad = |a: &str, p: &str| {
            entitlement_key(
                TargetKind::AwsSso,
                "",
                Some(&EntitlementRef {
                    account_id: Some(a.into()),
                    permission_set_arn: Some(p.into()),
                }),
            )
            .unwrap_err()
            .field
        };
        assert_eq!(bad("12345678901", PS), "ref.account_id");
        assert_eq!(bad("12345678901a", PS), "ref.account_id");
        assert_eq!(bad("957533278996", INS), "ref.permission_set_arn");
        assert_eq!(
            bad(
                "957533278996",
                "arn:aws:sso:::permissionSet/ssoins-yhx4s55buhcsx74i/ps-x"
            ),
            "ref.permission_set_arn"
        );
        assert_eq!(
            bad("957533278996", &PS.replace("arn:aws:", "arn:azure:")),
            "ref.permission_set_arn"
        );
    }

    #[test]
    fn sql_kinds_take_a_name_and_no_ref() {
        assert_eq!(
            entitlement_key(TargetKind::Postgres, "app_read", None).unwrap(),
            "app_read"
        );
        assert_eq!(
            entitlement_key(TargetKind::Postgres, "", None)
                .unwrap_err()
                .field,
            "db_role_name"
        );
        let r = EntitlementRef {
            account_id: Some("957533278996".into()),
            ..Default::default()
        };
        assert_eq!(
            entitlement_key(TargetKind::Mssql, "x", Some(&r))
                .unwrap_err()
                .field,
            "ref"
        );
        assert_eq!(
            entitlement_ref(TargetKind::Postgres, "957533278996:x"),
            None
        );
    }
}
