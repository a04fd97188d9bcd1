//! Sign-in with a built-in password, throttled per login name and per client address.
//!
//! Order of a sign-in: refuse at once (429 `too_many_attempts`, `Retry-After`) while either key
//! is locked, whatever the password, so guessing during a lockout gains nothing; then verify
//! the password in a bounded argon2 slot; a failure counts against both keys (the lockout
//! grows with each failure past the limit), a success clears the login's counter. Attempts
//! refused during a lockout are audited once per burst, with their count (`login_throttled`),
//! not once each. The counters live in the database, so several processes share them.

use chrono::{DateTime, Duration, Utc};
use jitea_shared::User;
use serde_json::json;

use crate::auth::password;
use crate::domain::throttle::{self, Counter, Policy};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::{credentials, sessions, users, Db, StoreError};

/// Client addresses are shared (NAT, proxies): they get this many times the login's limit.
const ADDRESS_FACTOR: i64 = 4;

struct Key {
    key: String,
    kind: &'static str,
    policy: Policy,
}

fn keys(st: &AppState, login_name: &str, client: Option<&str>) -> Vec<Key> {
    let p = Policy::new(st.config.login_max_failures, st.config.login_lockout_secs);
    let mut out = vec![Key {
        key: format!("login:{}", login_name.to_lowercase()),
        kind: "login",
        policy: p,
    }];
    if let Some(a) = client {
        out.push(Key {
            key: format!("addr:{}", address_key(a)),
            kind: "address",
            policy: p.scaled(ADDRESS_FACTOR),
        });
    }
    out
}

/// IPv4 addresses count one by one; IPv6 ones by their /64 (one host usually has a whole /64).
fn address_key(a: &str) -> String {
    match a.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map(|v4| v4.to_string())
            .unwrap_or_default(),
        _ => a.to_string(),
    }
}

fn too_many(secs: i64) -> ApiError {
    ApiError::new(
        429,
        "too_many_attempts",
        format!("too many failed sign-ins; try again in {secs} s"),
    )
    .with_details(json!({"retry_after_secs": secs}))
}

fn invalid() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "wrong login name or password")
}

/// Writes the audit row for a finished burst of refused attempts and forgets its count.
async fn flush_burst(
    db: &mut Db<'_>,
    k: &Key,
    c: &mut Counter,
    login_name: &str,
    client: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if c.refused == 0 {
        return Ok(());
    }
    let actor = Actor {
        user_id: None,
        login_name: login_name.chars().take(255).collect(),
    };
    audit::write(
        db,
        Event::new("login_throttled", &actor).details(json!({
            "key": k.kind, "login_name": actor.login_name, "client_address": client,
            "refused_attempts": c.refused, "failures": c.failures,
            "locked_until_utc": c.locked_until,
        })),
        now,
    )
    .await?;
    c.refused = 0;
    Ok(())
}

/// Refuses the attempt if a key is locked (counting the refusal); flushes finished bursts.
async fn check_locks(
    st: &AppState,
    ks: &[Key],
    login_name: &str,
    client: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let rows: Vec<Option<Counter>> = {
        let mut c = st.store.conn().await?;
        let mut db = Db::new(&mut c, st.store.dialect());
        let mut v = Vec::new();
        for k in ks {
            v.push(sessions::throttle_get(&mut db, &k.key).await?);
        }
        v
    };
    let locked = ks
        .iter()
        .zip(&rows)
        .filter_map(|(k, r)| Some((k, throttle::locked_for(r.as_ref()?, now)?)))
        .collect::<Vec<_>>();
    let finished = ks.iter().zip(&rows).any(
        |(_, r)| matches!(r, Some(c) if c.refused > 0 && throttle::locked_for(c, now).is_none()),
    );
    if locked.is_empty() && !finished {
        return Ok(());
    }
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let mut wait = 0;
    for k in ks {
        let Some(mut c) = sessions::throttle_get(&mut db, &k.key).await? else {
            continue;
        };
        match throttle::locked_for(&c, now) {
            Some(secs) => {
                wait = wait.max(secs);
                sessions::throttle_count_refused(&mut db, &k.key, now).await?;
            }
            None if c.refused > 0 => {
                flush_burst(&mut db, k, &mut c, login_name, client, now).await?;
                sessions::throttle_put(&mut db, &k.key, &c).await?;
            }
            None => {}
        }
    }
    tx.commit().await?;
    if wait > 0 {
        return Err(too_many(wait));
    }
    Ok(())
}

/// Checks a login and password (throttled, audited); the user on success.
pub async fn check_credentials(
    st: &AppState,
    login_name: &str,
    pw: &str,
    client: Option<&str>,
) -> ApiResult<User> {
    let now = st.now();
    let login_name = login_name.trim();
    if login_name.is_empty()
        || login_name.len() > 255
        || login_name.contains('\0')
        || pw.len() > password::MAX_PASSWORD_LEN * 4
    {
        return Err(invalid());
    }
    let break_glass = !st.config.local_login;
    if break_glass && !is_bootstrap_admin(st, login_name) {
        refuse_local(st, login_name, client, now).await?;
        return Err(ApiError::forbidden(
            "local_login_disabled",
            "password sign-in is switched off; sign in with single sign-on",
        ));
    }
    let ks = keys(st, login_name, client);
    check_locks(st, &ks, login_name, client, now).await?;

    let (user, hash) = {
        let mut c = st.store.conn().await?;
        let mut db = Db::new(&mut c, st.store.dialect());
        let user = users::get_by_login(&mut db, login_name).await?;
        let hash = match &user {
            Some(u) => credentials::password_hash(&mut db, u.id).await?,
            None => None,
        };
        (user, hash)
    };
    let verified = {
        let _slot = st.limits.argon2_slot().await?;
        let pw = pw.to_string();
        match hash {
            Some(h) => tokio::task::spawn_blocking(move || password::verify(&pw, &h))
                .await
                .unwrap_or(false),
            None => {
                let _ = tokio::task::spawn_blocking(move || password::verify_dummy(&pw)).await;
                false
            }
        }
    };
    let ok_user = match user {
        Some(u) if verified && u.is_active => Some(u),
        _ => None,
    };
    if ok_user.is_none() {
        // Counter rows exist before the transaction locks them (a concurrent insert is fine).
        let mut c = st.store.conn().await?;
        let mut db = Db::new(&mut c, st.store.dialect());
        for k in &ks {
            sessions::throttle_ensure(&mut db, &k.key, now).await?;
        }
        if rand::random::<u8>() == 0 {
            sessions::throttle_prune(&mut db, now - Duration::days(1)).await?;
        }
    }
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    match ok_user {
        Some(u) => {
            // A correct password during a lockout that started meanwhile is still refused.
            let mut wait = 0;
            for k in &ks {
                if let Some(c) = sessions::throttle_get(&mut db, &k.key).await? {
                    if let Some(s) = throttle::locked_for(&c, now) {
                        wait = wait.max(s);
                    }
                }
            }
            if wait > 0 {
                drop(tx);
                return Err(too_many(wait));
            }
            sessions::throttle_clear(&mut db, &ks[0].key).await?;
            audit::write(
                &mut db,
                Event::new("login_succeeded", &Actor::user(u.id, &u.login_name)).user(u.id),
                now,
            )
            .await?;
            if break_glass {
                // Password sign-in is off: the bootstrap admin's password is the break-glass.
                audit::write(
                    &mut db,
                    Event::new("break_glass_login", &Actor::user(u.id, &u.login_name))
                        .user(u.id)
                        .details(
                            json!({"client_address": client, "reason": "local_login_disabled"}),
                        ),
                    now,
                )
                .await?;
            }
            tx.commit().await?;
            Ok(u)
        }
        None => {
            let actor = Actor {
                user_id: None,
                login_name: login_name.chars().take(255).collect(),
            };
            let mut locked = Vec::new();
            for k in &ks {
                let mut c = sessions::throttle_get(&mut db, &k.key)
                    .await?
                    .unwrap_or_else(|| Counter::zero(now));
                flush_burst(&mut db, k, &mut c, login_name, client, now).await?;
                let (n, started) = throttle::after_failure(&k.policy, &c, now);
                if started {
                    locked.push(json!({"key": k.kind, "failures": n.failures, "locked_until_utc": n.locked_until}));
                }
                sessions::throttle_put(&mut db, &k.key, &n).await?;
            }
            audit::write(
                &mut db,
                Event::new("login_failed", &actor).details(json!({
                    "login_name": actor.login_name, "client_address": client,
                    "lockouts_started": locked,
                })),
                now,
            )
            .await?;
            tx.commit().await?;
            Err(invalid())
        }
    }
}

fn is_bootstrap_admin(st: &AppState, login_name: &str) -> bool {
    st.config
        .bootstrap_admin
        .as_ref()
        .is_some_and(|(l, _)| l.eq_ignore_ascii_case(login_name))
}

/// Audits a password sign-in refused because local sign-in is switched off.
async fn refuse_local(
    st: &AppState,
    login_name: &str,
    client: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let actor = Actor {
        user_id: None,
        login_name: login_name.chars().take(255).collect(),
    };
    let mut tx = st.store.begin_write().await?;
    audit::write(
        &mut tx.db(),
        Event::new("login_failed", &actor).details(json!({
            "login_name": actor.login_name, "client_address": client,
            "reason": "local_login_disabled",
        })),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The user's current session epoch (carried by the tokens issued now).
pub async fn current_epoch(st: &AppState, user_id: i64) -> ApiResult<i64> {
    let mut c = st.store.conn().await?;
    sessions::epoch(&mut Db::new(&mut c, st.store.dialect()), user_id)
        .await?
        .ok_or_else(invalid)
}

/// Signs the user out everywhere: every token issued so far stops working.
pub async fn logout(st: &AppState, user: &User) -> ApiResult<()> {
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    sessions::bump_epoch(&mut db, user.id, now).await?;
    audit::write(
        &mut db,
        Event::new("logout", &Actor::user(user.id, &user.login_name)).user(user.id),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::address_key;

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(address_key("203.0.113.7"), "203.0.113.7");
        assert_eq!(address_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            address_key("2001:db8:1:2:bbbb::9"),
            address_key("2001:db8:1:2:aaaa::1")
        );
        assert_eq!(address_key("::ffff:198.51.100.4"), "198.51.100.4");
    }
}
