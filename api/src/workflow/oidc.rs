//! From a validated OIDC token to a JITEA user.
//!
//! Sign-in (ID token): the user is found by `(source = 'oidc', external_id = sub)`, else by
//! login name (the login claim; the user is then linked to the `sub`), else created when
//! `JITEA_OIDC_CREATE_USERS` allows. The configured claims update email, department,
//! division, job title, manager and (from groups) the admin/auditor app roles. These facts
//! come from the provider, not from an admin, so no separation-of-duties check applies; each
//! change is audited as `user_updated` with before/after and actor `system:oidc`. An app-role
//! change ends the user's earlier sessions (session epoch), like an admin's change would.
//!
//! Bearer (access token): found by the login claim, or, for client-credentials tokens without
//! one, by a login equal to `client_id` or `sub`. Never created, never updated.

use jitea_shared::{User, UserCreate, UserUpdate};
use serde_json::{json, Value};

use crate::auth::oidc::Claims;
use crate::config::OidcConfig;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::{sessions, users, Db};

pub const SOURCE: &str = "oidc";

/// A sign-in that cannot finish: the stable code for the browser and the audit row.
#[derive(Debug)]
pub struct Refused {
    pub code: &'static str,
    pub reason: String,
    pub user_id: Option<i64>,
}

fn refused(code: &'static str, reason: impl Into<String>) -> Refused {
    Refused {
        code,
        reason: reason.into(),
        user_id: None,
    }
}

/// A claim as text fit for a user field: trimmed, no control characters, at most 255 chars.
fn text_claim(claims: &Claims, name: Option<&str>) -> Option<Option<String>> {
    let name = name?;
    let v = match claims.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Some(None),
    };
    let v: String = v
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(255)
        .collect();
    Some(if v.is_empty() { None } else { Some(v) })
}

/// A login name from a claim: 1–128 of `A-Z a-z 0-9 . _ @ \ -` (the users API's rule).
fn valid_login(v: &str) -> Option<String> {
    let v = v.trim();
    let ok = !v.is_empty()
        && v.chars().count() <= 128
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '\\' | '-'));
    ok.then(|| v.to_string())
}

fn groups(claims: &Claims, name: &str) -> Vec<String> {
    match claims.get(name) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => s.split(',').map(|g| g.trim().to_string()).collect(),
        _ => Vec::new(),
    }
}

/// The changes the provider's claims make to a user record.
fn claimed_update(c: &OidcConfig, claims: &Claims) -> UserUpdate {
    let mut u = UserUpdate {
        email: text_claim(claims, c.claim_email.as_deref()),
        department: text_claim(claims, c.claim_department.as_deref()),
        division: text_claim(claims, c.claim_division.as_deref()),
        job_title: text_claim(claims, c.claim_job_title.as_deref()),
        manager_login_name: text_claim(claims, c.claim_manager.as_deref())
            .map(|m| m.and_then(|m| valid_login(&m))),
        ..Default::default()
    };
    if let Some(g) = c.claim_groups.as_deref() {
        let have = groups(claims, g);
        let member = |list: &[String]| list.iter().any(|x| have.iter().any(|h| h == x));
        if !c.admin_groups.is_empty() {
            u.is_admin = Some(member(&c.admin_groups));
        }
        if !c.auditor_groups.is_empty() {
            u.is_auditor = Some(member(&c.auditor_groups));
        }
    }
    u
}

/// Keeps only the fields that would change.
fn only_changes(before: &User, mut u: UserUpdate) -> UserUpdate {
    macro_rules! keep {
        ($f:ident) => {
            if u.$f.as_ref() == Some(&before.$f) {
                u.$f = None;
            }
        };
    }
    keep!(email);
    keep!(department);
    keep!(division);
    keep!(job_title);
    keep!(manager_login_name);
    if u.is_admin == Some(before.is_admin) {
        u.is_admin = None;
    }
    if u.is_auditor == Some(before.is_auditor) {
        u.is_auditor = None;
    }
    u
}

fn is_empty(u: &UserUpdate) -> bool {
    u.email.is_none()
        && u.department.is_none()
        && u.division.is_none()
        && u.job_title.is_none()
        && u.manager_login_name.is_none()
        && u.is_admin.is_none()
        && u.is_auditor.is_none()
}

fn summary(u: &User) -> Value {
    json!({
        "department": u.department, "division": u.division, "job_title": u.job_title,
        "manager_login_name": u.manager_login_name, "is_admin": u.is_admin,
        "is_auditor": u.is_auditor, "email": u.email,
    })
}

/// Finds, links, creates and updates the user an ID token stands for, in one transaction
/// that also writes the `login_succeeded` audit row. `Err(Refused)` ends the sign-in.
pub async fn sign_in(
    st: &AppState,
    c: &OidcConfig,
    claims: &Claims,
) -> ApiResult<Result<User, Refused>> {
    let now = st.now();
    let Some(sub) = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return Ok(Err(refused(
            "oidc_claim_missing",
            "the ID token has no sub",
        )));
    };
    let sub: String = sub.chars().take(255).collect();
    let login = claims.get(&c.login_claim).and_then(Value::as_str);
    let system = Actor::system("oidc");
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let mut user = users::get_by_external(&mut db, SOURCE, &sub).await?;
    if user.is_none() {
        let Some(login) = login else {
            drop(tx);
            return Ok(Err(refused(
                "oidc_claim_missing",
                format!("the ID token has no `{}` claim", c.login_claim),
            )));
        };
        let Some(login) = valid_login(login) else {
            drop(tx);
            return Ok(Err(refused(
                "oidc_claim_invalid",
                format!("`{}` is not a valid login name", c.login_claim),
            )));
        };
        let bootstrap = st
            .config
            .bootstrap_admin
            .as_ref()
            .is_some_and(|(l, _)| l.eq_ignore_ascii_case(&login));
        match users::get_by_login(&mut db, &login).await? {
            // The bootstrap admin is the break-glass account: it stays local, whoever the
            // provider calls by that name.
            Some(u) if bootstrap => {
                drop(tx);
                return Ok(Err(Refused {
                    user_id: Some(u.id),
                    ..refused(
                        "oidc_user_conflict",
                        "the bootstrap admin cannot sign in through the provider",
                    )
                }));
            }
            Some(u) => {
                if u.source == SOURCE && u.external_id.as_deref().is_some_and(|e| e != sub) {
                    drop(tx);
                    return Ok(Err(Refused {
                        user_id: Some(u.id),
                        ..refused(
                            "oidc_user_conflict",
                            "this login belongs to another person at the provider",
                        )
                    }));
                }
                user = Some(u);
            }
            None if c.create_users => {
                let create = UserCreate {
                    login_name: login.clone(),
                    display_name: text_claim(claims, Some("name")).flatten(),
                    given_name: text_claim(claims, Some("given_name")).flatten(),
                    surname: text_claim(claims, Some("family_name")).flatten(),
                    ..Default::default()
                };
                let id = users::insert(&mut db, &create, &system.login_name, now).await?;
                users::set_source(&mut db, id, SOURCE, &sub).await?;
                let created = users::get_by_id(&mut db, id)
                    .await?
                    .ok_or_else(ApiError::internal)?;
                audit::write(
                    &mut db,
                    Event::new("user_created", &system).user(id).details(
                        json!({"source": SOURCE, "external_id": sub, "login_name": login}),
                    ),
                    now,
                )
                .await?;
                user = Some(created);
            }
            None => {
                drop(tx);
                return Ok(Err(refused(
                    "oidc_user_unknown",
                    "no JITEA user has this login and sign-in does not create users",
                )));
            }
        }
    }
    let before = user.ok_or_else(ApiError::internal)?;
    if !before.is_active {
        drop(tx);
        return Ok(Err(Refused {
            user_id: Some(before.id),
            ..refused("oidc_user_inactive", "this account is deactivated")
        }));
    }
    // A local user signing in through the provider becomes the provider's (linked by `sub`);
    // a directory or SCIM user keeps its source (their sync matches on it) and is found by
    // login name each time.
    let linkable = before.source == "local" || before.source == SOURCE;
    if linkable && (before.source != SOURCE || before.external_id.as_deref() != Some(sub.as_str()))
    {
        users::set_source(&mut db, before.id, SOURCE, &sub).await?;
    }
    let change = only_changes(&before, claimed_update(c, claims));
    let after = if is_empty(&change) {
        before.clone()
    } else {
        users::update(&mut db, before.id, &change, &system.login_name, now).await?;
        sessions::bump_epoch_if_roles_changed(&mut db, &before, &change, now).await?;
        let after = users::get_by_id(&mut db, before.id)
            .await?
            .ok_or_else(ApiError::internal)?;
        audit::write(
            &mut db,
            Event::new("user_updated", &system).user(before.id).details(
                json!({"before": summary(&before), "after": summary(&after), "source": SOURCE}),
            ),
            now,
        )
        .await?;
        after
    };
    audit::write(
        &mut db,
        Event::new("login_succeeded", &Actor::user(after.id, &after.login_name))
            .user(after.id)
            .details(json!({"method": "oidc", "sub": sub})),
        now,
    )
    .await?;
    tx.commit().await?;
    let after = {
        let mut c = st.store.conn().await?;
        users::get_by_id(&mut Db::new(&mut c, st.store.dialect()), after.id)
            .await?
            .ok_or_else(ApiError::internal)?
    };
    Ok(Ok(after))
}

/// The user a provider access token stands for (401 when none or inactive).
pub async fn bearer_user(st: &AppState, c: &OidcConfig, claims: &Claims) -> ApiResult<User> {
    let unknown = || {
        ApiError::unauthorized(
            "invalid_token",
            "the provider token does not stand for a JITEA user",
        )
    };
    let mut names: Vec<&str> = Vec::new();
    match claims.get(&c.login_claim).and_then(Value::as_str) {
        Some(l) => names.push(l),
        None => {
            for k in ["client_id", "sub"] {
                if let Some(v) = claims.get(k).and_then(Value::as_str) {
                    names.push(v);
                }
            }
        }
    }
    let mut conn = st.store.conn().await?;
    let mut db = Db::new(&mut conn, st.store.dialect());
    for n in names {
        let Some(n) = valid_login(n) else { continue };
        if let Some(u) = users::get_by_login(&mut db, &n).await? {
            if !u.is_active {
                return Err(ApiError::unauthorized(
                    "user_inactive",
                    "this account is deactivated",
                ));
            }
            return Ok(u);
        }
    }
    Err(unknown())
}

/// Audits a sign-in that ended without a session.
pub async fn audit_failure(st: &AppState, r: &Refused, client: Option<&str>) -> ApiResult<()> {
    let now = st.now();
    let system = Actor::system("oidc");
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let mut e = Event::new("oidc_login_failed", &system)
        .details(json!({"code": r.code, "reason": r.reason, "client_address": client}));
    if let Some(id) = r.user_id {
        e = e.user(id);
    }
    audit::write(&mut db, e, now).await?;
    tx.commit().await?;
    Ok(())
}
