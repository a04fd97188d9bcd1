//! Live tests of the PostgreSQL and MariaDB connectors against the servers on the development
//! machine (PostgreSQL 127.0.0.1:5432, user postgres, trust auth; MariaDB 127.0.0.1:3306, root
//! without password). Override with `JITEA_LIVE_PG_URL` / `JITEA_LIVE_MYSQL_URL` (admin
//! URLs; the tests also connect as the logins they create, to the same host and port).
//!
//! Every name starts with `jtlive<pid>_`. Everything a test creates is dropped by a guard even
//! when the test fails, and leftovers of earlier runs whose process is gone are swept first.
//! Tests touching the same server take a lock, because the property tests compare the
//! server's complete role list before and after each case.

// Test scaffolding: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fmt::Display;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, Once};

use jitea::provision::{mysql, postgres, Connector, ConnectorError, Connectors, TargetRef};
use jitea_shared::TargetKind;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use sqlx_oldapi::mysql::MySqlConnection;
use sqlx_oldapi::postgres::PgConnection;
use sqlx_oldapi::{Connection, Executor, Row};

const CASES: u32 = 40;

static PG_LOCK: Mutex<()> = Mutex::new(());
static MY_LOCK: Mutex<()> = Mutex::new(());
static PG_SWEEP: Once = Once::new();
static MY_SWEEP: Once = Once::new();
static SEQ: AtomicUsize = AtomicUsize::new(0);

fn lock(m: &'static Mutex<()>) -> MutexGuard<'static, ()> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn pg_admin_url() -> String {
    std::env::var("JITEA_LIVE_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn my_admin_url() -> String {
    std::env::var("JITEA_LIVE_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// `scheme://user[:password]@rest` → the same URL for another user (percent-encoded).
fn url_as(admin_url: &str, user: &str, password: Option<&str>) -> String {
    let (scheme, rest) = admin_url.split_once("://").expect("url has a scheme");
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    match password {
        Some(p) => format!("{scheme}://{}:{}@{rest}", pct(user), pct(p)),
        None => format!("{scheme}://{}@{rest}", pct(user)),
    }
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn prefix() -> String {
    format!("jtlive{}_", std::process::id())
}

fn seq() -> usize {
    SEQ.fetch_add(1, Ordering::Relaxed)
}

/// A target whose URL is in an environment variable of its own.
fn target(kind: TargetKind, url: &str) -> TargetRef {
    let n = seq();
    let var = format!("JITEA_TARGET_LIVE_URL_{}_{n}", std::process::id());
    std::env::set_var(&var, url);
    TargetRef {
        id: 1_000_000 + n as i64,
        kind,
        url_env: Some(var),
        settings: None,
        principal_from: Default::default(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn fail(e: impl Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// Cuts `s` to at most `max_bytes` bytes (PostgreSQL) at a character boundary.
fn fit_bytes(s: &str, max_bytes: usize) -> String {
    let mut end = s.len().min(max_bytes);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// Cuts `s` to at most `max_chars` characters (MySQL) without a trailing space.
fn fit_chars(s: &str, max_chars: usize) -> String {
    let cut: String = s.chars().take(max_chars).collect();
    cut.trim_end_matches(' ').to_string()
}

/// Hostile name bodies: SQL quote characters of every dialect, statement separators,
/// comment starts, spaces, unicode, dollar quotes and backslashes.
fn hostile(extra: &'static [&'static str]) -> impl Strategy<Value = String> {
    let mut frags: Vec<&'static str> = vec![
        "\"",
        "'",
        "`",
        "[",
        "]",
        ";",
        "--",
        "/*",
        "*/",
        " ",
        "é",
        "日",
        "$$",
        "\\",
        "%",
        "_",
        "@",
        "x",
        "\"\"",
        "``",
        "]]",
        "; DROP TABLE canary; --",
        "') OR 1=1 --",
        "\"; CREATE ROLE evil; --",
        "`; CREATE USER evil; #",
    ];
    frags.extend_from_slice(extra);
    prop::collection::vec(prop::sample::select(frags), 1..12).prop_map(|v| v.concat())
}

/// Runs the given statements (errors printed, not fatal) on drop, on a thread of its own so
/// it also works while a test unwinds inside an async runtime.
struct Cleanup {
    url: String,
    statements: Vec<String>,
}

impl Cleanup {
    fn new(url: String) -> Self {
        Self {
            url,
            statements: Vec::new(),
        }
    }

    fn push(&mut self, sql: String) {
        self.statements.push(sql);
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let statements = std::mem::take(&mut self.statements);
        if statements.is_empty() {
            return;
        }
        let url = self.url.clone();
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime");
            rt.block_on(async move {
                let mut conn = match sqlx_oldapi::AnyConnection::connect(&url).await {
                    Ok(c) => c,
                    Err(e) => {
                        eprintln!("cleanup: cannot connect: {e}");
                        return;
                    }
                };
                for s in statements {
                    if let Err(e) = conn.execute(s.as_str()).await {
                        eprintln!("cleanup: {s}: {e}");
                    }
                }
                let _ = conn.close().await;
            });
        })
        .join();
        if done.is_err() {
            eprintln!("cleanup thread panicked");
        }
    }
}

/// The pid embedded in a `jtlive<pid>_...` name, if that process is gone.
fn stale(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("jtlive") else {
        return false;
    };
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    match digits.parse::<u32>() {
        Ok(pid) => {
            pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        }
        Err(_) => false,
    }
}

// ------------------------------------------------------------------------------------------
// PostgreSQL
// ------------------------------------------------------------------------------------------

async fn pg_admin() -> PgConnection {
    PgConnection::connect(&pg_admin_url())
        .await
        .expect("PostgreSQL on 127.0.0.1:5432 (see TOOLCHAIN.md to start it)")
}

fn pg_q(name: &str) -> String {
    postgres::quote_ident(name).expect("test names are valid")
}

/// Drops leftovers of earlier runs (roles, tables named `jtlive<dead pid>_...`).
fn pg_sweep(rt: &tokio::runtime::Runtime) {
    PG_SWEEP.call_once(|| {
        let mut cleanup = Cleanup::new(pg_admin_url());
        rt.block_on(async {
            let mut conn = pg_admin().await;
            let tables: Vec<String> = sqlx_oldapi::query_scalar(
                "SELECT relname::text FROM pg_class WHERE relkind = 'r' AND relname LIKE 'jtlive%'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            for t in tables.iter().filter(|t| stale(t)) {
                cleanup.push(format!("DROP TABLE IF EXISTS {}", pg_q(t)));
            }
            let roles: Vec<String> = sqlx_oldapi::query_scalar(
                "SELECT rolname::text FROM pg_roles WHERE rolname LIKE 'jtlive%'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            for r in roles.iter().filter(|r| stale(r)) {
                cleanup.push(format!("DROP OWNED BY {}", pg_q(r)));
                cleanup.push(format!("DROP ROLE IF EXISTS {}", pg_q(r)));
            }
        });
    });
}

async fn pg_exec(conn: &mut PgConnection, sql: &str) -> Result<(), TestCaseError> {
    conn.execute(sql)
        .await
        .map_err(|e| fail(format!("{sql}: {e}")))?;
    Ok(())
}

/// Everything a case could have changed by accident: every role name, the number of
/// memberships, and the canary table's row count.
/// The server's roles and memberships, and the canary's rows. Roles other test processes
/// create meanwhile on the same server (names starting `jt` without this process's prefix
/// `own`) are left out, so a concurrent test run elsewhere is not mistaken for a change.
async fn pg_snapshot(
    conn: &mut PgConnection,
    canary: &str,
    own: &str,
) -> Result<(BTreeSet<String>, i64, i64), TestCaseError> {
    const OURS: &str = "(rolname NOT LIKE 'jt%' OR left(rolname, length($1)) = $1)";
    let roles: Vec<String> =
        sqlx_oldapi::query_scalar(&format!("SELECT rolname::text FROM pg_roles WHERE {OURS}"))
            .bind(own)
            .fetch_all(&mut *conn)
            .await
            .map_err(fail)?;
    let memberships: i64 = sqlx_oldapi::query_scalar(&format!(
        "SELECT count(*) FROM pg_auth_members am \
         WHERE am.roleid IN (SELECT oid FROM pg_roles WHERE {OURS}) \
         AND am.member IN (SELECT oid FROM pg_roles WHERE {OURS})"
    ))
    .bind(own)
    .fetch_one(&mut *conn)
    .await
    .map_err(fail)?;
    let canary_rows: i64 = sqlx_oldapi::query_scalar(&format!("SELECT count(*) FROM {canary}"))
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| fail(format!("canary table is gone: {e}")))?;
    Ok((roles.into_iter().collect(), memberships, canary_rows))
}

async fn pg_roles_of(conn: &mut PgConnection, login: &str) -> Result<Vec<String>, TestCaseError> {
    sqlx_oldapi::query_scalar(
        "SELECT r.rolname::text FROM pg_auth_members am \
         JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member \
         WHERE m.rolname = $1 ORDER BY 1",
    )
    .bind(login)
    .fetch_all(conn)
    .await
    .map_err(fail)
}

async fn pg_case(
    conn: &mut PgConnection,
    c: &dyn Connector,
    t: &TargetRef,
    role: &str,
    login: &str,
) -> Result<(), TestCaseError> {
    pg_exec(conn, &format!("CREATE ROLE {} NOLOGIN", pg_q(role))).await?;
    pg_exec(conn, &format!("CREATE ROLE {} LOGIN", pg_q(login))).await?;
    prop_assert!(c.role_exists(t, role).await.map_err(fail)?);
    prop_assert!(c.members(t, role).await.map_err(fail)?.is_empty());

    c.add_member(t, role, login).await.map_err(fail)?;
    c.add_member(t, role, login).await.map_err(fail)?; // idempotent
    prop_assert_eq!(
        c.members(t, role).await.map_err(fail)?,
        vec![login.to_string()]
    );
    prop_assert_eq!(pg_roles_of(conn, login).await?, vec![role.to_string()]);

    c.drop_member(t, role, login).await.map_err(fail)?;
    c.drop_member(t, role, login).await.map_err(fail)?; // idempotent
    prop_assert!(c.members(t, role).await.map_err(fail)?.is_empty());
    prop_assert!(pg_roles_of(conn, login).await?.is_empty());
    c.end_sessions(t, login).await.map_err(fail)?;
    Ok(())
}

#[test]
fn postgres_hostile_names_add_and_drop_exactly_one_membership() {
    let _serial = lock(&PG_LOCK);
    let rt = runtime();
    pg_sweep(&rt);
    let p = prefix();
    let canary = pg_q(&format!("{p}canary"));
    let mut run_cleanup = Cleanup::new(pg_admin_url());
    run_cleanup.push(format!("DROP TABLE IF EXISTS {canary}"));
    let conn = rt.block_on(async {
        let mut conn = pg_admin().await;
        conn.execute(format!("CREATE TABLE {canary} (id int)").as_str())
            .await
            .unwrap();
        conn.execute(format!("INSERT INTO {canary} VALUES (1)").as_str())
            .await
            .unwrap();
        std::cell::RefCell::new(conn)
    });
    let connectors = Connectors::builtin(std::sync::Arc::new(jitea::clock::SystemClock));
    let c = connectors.for_kind(TargetKind::Postgres).unwrap();
    let t = target(TargetKind::Postgres, &pg_admin_url());

    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let names = (hostile(&["🦀", "\t"]), hostile(&["🦀"]));
    let result = runner.run(&names, |(role_body, login_body)| {
        let n = seq();
        let role = fit_bytes(&format!("{p}{n}r_{role_body}"), postgres::MAX_IDENT_BYTES);
        let login = fit_bytes(&format!("{p}{n}l_{login_body}"), postgres::MAX_IDENT_BYTES);
        let before = rt.block_on(pg_snapshot(&mut conn.borrow_mut(), &canary, &p))?;
        {
            let mut guard = Cleanup::new(pg_admin_url());
            guard.push(format!("DROP ROLE IF EXISTS {}", pg_q(&login)));
            guard.push(format!("DROP ROLE IF EXISTS {}", pg_q(&role)));
            rt.block_on(pg_case(
                &mut conn.borrow_mut(),
                c.as_ref(),
                &t,
                &role,
                &login,
            ))?;
        }
        let after = rt.block_on(pg_snapshot(&mut conn.borrow_mut(), &canary, &p))?;
        prop_assert_eq!(
            before,
            after,
            "the server changed beyond the case's own roles"
        );
        Ok(())
    });
    drop(run_cleanup);
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn postgres_end_sessions_removes_privileges_kept_by_set_role() {
    let _serial = lock(&PG_LOCK);
    let rt = runtime();
    pg_sweep(&rt);
    let p = prefix();
    let role = format!("{p}es_role \"x\"");
    let login = format!("{p}es_login;'é");
    let secret = format!("{p}es_secret");
    let mut cleanup = Cleanup::new(pg_admin_url());
    cleanup.push(format!("DROP TABLE IF EXISTS {}", pg_q(&secret)));
    cleanup.push(format!("DROP ROLE IF EXISTS {}", pg_q(&login)));
    cleanup.push(format!("DROP ROLE IF EXISTS {}", pg_q(&role)));
    let c = postgres::PostgresConnector::new();
    let t = target(TargetKind::Postgres, &pg_admin_url());
    rt.block_on(async {
        let mut admin = pg_admin().await;
        for sql in [
            format!("CREATE ROLE {} NOLOGIN", pg_q(&role)),
            format!("CREATE ROLE {} LOGIN", pg_q(&login)),
            format!("CREATE TABLE {} (v int)", pg_q(&secret)),
            format!("INSERT INTO {} VALUES (42)", pg_q(&secret)),
            format!("GRANT SELECT ON {} TO {}", pg_q(&secret), pg_q(&role)),
        ] {
            admin.execute(sql.as_str()).await.unwrap();
        }
        c.add_member(&t, &role, &login).await.unwrap();

        let login_url = url_as(&pg_admin_url(), &login, None);
        let mut old = PgConnection::connect(&login_url).await.unwrap();
        old.execute(format!("SET ROLE {}", pg_q(&role)).as_str())
            .await
            .unwrap();
        let read = format!("SELECT v FROM {}", pg_q(&secret));
        let v: i32 = sqlx_oldapi::query_scalar(&read)
            .fetch_one(&mut old)
            .await
            .unwrap();
        assert_eq!(v, 42);

        c.drop_member(&t, &role, &login).await.unwrap();
        // The PostgreSQL fact that makes end_sessions necessary.
        let still: i32 = sqlx_oldapi::query_scalar(&read)
            .fetch_one(&mut old)
            .await
            .expect("a session that did SET ROLE keeps the privileges after REVOKE");
        assert_eq!(still, 42);

        c.end_sessions(&t, &login).await.unwrap();
        assert!(
            sqlx_oldapi::query("SELECT 1")
                .execute(&mut old)
                .await
                .is_err(),
            "the old session must be dead"
        );
        let mut new = PgConnection::connect(&login_url).await.unwrap();
        assert!(new
            .execute(format!("SET ROLE {}", pg_q(&role)).as_str())
            .await
            .is_err());
        let err = sqlx_oldapi::query(&read)
            .execute(&mut new)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("permission denied"), "{err}");
        c.end_sessions(&t, &login).await.unwrap();
        let _ = new.close().await;
    });
}

#[test]
fn postgres_refusals_and_direct_grants() {
    let _serial = lock(&PG_LOCK);
    let rt = runtime();
    pg_sweep(&rt);
    let p = prefix();
    let role = format!("{p}dg_role");
    let login = format!("{p}dg_login");
    let table = format!("{p}dg_table");
    let mut cleanup = Cleanup::new(pg_admin_url());
    cleanup.push(format!("DROP TABLE IF EXISTS {}", pg_q(&table)));
    cleanup.push(format!("DROP ROLE IF EXISTS {}", pg_q(&login)));
    cleanup.push(format!("DROP ROLE IF EXISTS {}", pg_q(&role)));
    let c = postgres::PostgresConnector::new();
    let t = target(TargetKind::Postgres, &pg_admin_url());
    rt.block_on(async {
        c.ping(&t).await.unwrap();
        let mut admin = pg_admin().await;
        for sql in [
            format!("CREATE ROLE {} NOLOGIN", pg_q(&role)),
            format!("CREATE ROLE {} LOGIN", pg_q(&login)),
            format!("CREATE TABLE {} (v int)", pg_q(&table)),
            format!(
                "GRANT SELECT, UPDATE ON {} TO {}",
                pg_q(&table),
                pg_q(&login)
            ),
            format!("GRANT INSERT ON {} TO {}", pg_q(&table), pg_q(&role)),
        ] {
            admin.execute(sql.as_str()).await.unwrap();
        }
        let missing = format!("{p}no_such_login");
        match c.add_member(&t, &role, &missing).await {
            Err(ConnectorError::Refused(m)) => {
                assert!(m.contains("does not exist") && m.contains(&missing), "{m}")
            }
            other => panic!("expected Refused, got {other:?}"),
        }
        assert!(!c
            .role_exists(&t, &format!("{p}no_such_role"))
            .await
            .unwrap());
        assert!(matches!(
            c.add_member(&t, &"r".repeat(64), &login).await,
            Err(ConnectorError::InvalidIdentifier(_))
        ));

        let object = format!("public.{table}");
        let mine: Vec<_> = c
            .direct_grants(&t)
            .await
            .unwrap()
            .into_iter()
            .filter(|g| g.object == object)
            .map(|g| (g.login, g.privilege))
            .collect();
        // The role's grant and the owner's (postgres) own privileges are not reported.
        assert_eq!(
            mine,
            vec![
                (login.clone(), "SELECT".to_string()),
                (login.clone(), "UPDATE".to_string())
            ]
        );
    });
}

// ------------------------------------------------------------------------------------------
// MariaDB / MySQL
// ------------------------------------------------------------------------------------------

async fn my_admin() -> MySqlConnection {
    MySqlConnection::connect(&my_admin_url())
        .await
        .expect("MariaDB on 127.0.0.1:3306 (see TOOLCHAIN.md to start it)")
}

fn my_q(name: &str) -> String {
    mysql::quote_ident(name).expect("test names are valid")
}

fn my_acct(user: &str, host: &str) -> String {
    mysql::account(user, host).expect("test names are valid")
}

/// Text columns of the grant tables as strings (they are utf8mb3_bin).
async fn my_strings(
    conn: &mut MySqlConnection,
    sql: &str,
    binds: &[&str],
) -> Result<Vec<String>, TestCaseError> {
    let mut q = sqlx_oldapi::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    let rows = q.fetch_all(&mut *conn).await.map_err(fail)?;
    rows.iter()
        .map(|r| {
            (0..r.len())
                .map(|i| {
                    let b: Option<Vec<u8>> = r.try_get(i).map_err(fail)?;
                    Ok(String::from_utf8_lossy(&b.unwrap_or_default()).into_owned())
                })
                .collect::<Result<Vec<_>, TestCaseError>>()
                .map(|cols| cols.join("\u{1}"))
        })
        .collect()
}

fn my_sweep(rt: &tokio::runtime::Runtime) {
    MY_SWEEP.call_once(|| {
        let mut cleanup = Cleanup::new(my_admin_url());
        rt.block_on(async {
            let mut conn = my_admin().await;
            let tables = my_strings(
                &mut conn,
                "SELECT TABLE_NAME FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'jtlive%'",
                &[],
            )
            .await
            .unwrap();
            for t in tables.iter().filter(|t| stale(t)) {
                cleanup.push(format!("DROP TABLE IF EXISTS {}", my_q(t)));
            }
            let users = my_strings(
                &mut conn,
                "SELECT User, Host, is_role FROM mysql.user WHERE User LIKE 'jtlive%'",
                &[],
            )
            .await
            .unwrap();
            for row in users {
                let cols: Vec<&str> = row.split('\u{1}').collect();
                if !stale(cols[0]) {
                    continue;
                }
                if cols[2] == "Y" {
                    cleanup.push(format!("DROP ROLE IF EXISTS {}", my_q(cols[0])));
                } else {
                    cleanup.push(format!("DROP USER IF EXISTS {}", my_acct(cols[0], cols[1])));
                }
            }
        });
    });
}

async fn my_exec(conn: &mut MySqlConnection, sql: &str) -> Result<(), TestCaseError> {
    conn.execute(sql)
        .await
        .map_err(|e| fail(format!("{sql}: {e}")))?;
    Ok(())
}

/// Every account and role, every role mapping, and the canary table's row count; accounts and
/// roles of other test processes on the same server (`jt…` without this process's prefix
/// `own`) are left out, as in `pg_snapshot`.
async fn my_snapshot(
    conn: &mut MySqlConnection,
    canary: &str,
    own: &str,
) -> Result<(BTreeSet<String>, BTreeSet<String>, i64), TestCaseError> {
    let ours = |col: &str| format!("({col} NOT LIKE 'jt%' OR LEFT({col}, CHAR_LENGTH(?)) = ?)");
    let users = my_strings(
        conn,
        &format!(
            "SELECT User, Host, is_role FROM mysql.user WHERE {}",
            ours("User")
        ),
        &[own, own],
    )
    .await?;
    let maps = my_strings(
        conn,
        &format!(
            "SELECT Host, User, Role, Admin_option FROM mysql.roles_mapping WHERE {} AND {}",
            ours("User"),
            ours("Role")
        ),
        &[own, own, own, own],
    )
    .await?;
    let rows: i64 = sqlx_oldapi::query_scalar(&format!("SELECT COUNT(*) FROM {canary}"))
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| fail(format!("canary table is gone: {e}")))?;
    Ok((
        users.into_iter().collect(),
        maps.into_iter().collect(),
        rows,
    ))
}

/// (host, role, admin option) of every role mapping of the user, and (host, default role).
async fn my_state_of(
    conn: &mut MySqlConnection,
    login: &str,
) -> Result<(Vec<String>, Vec<String>), TestCaseError> {
    let maps = my_strings(
        conn,
        "SELECT Host, Role, Admin_option FROM mysql.roles_mapping WHERE User = ? ORDER BY 1, 2",
        &[login],
    )
    .await?;
    let defaults = my_strings(
        conn,
        "SELECT Host, default_role FROM mysql.user WHERE User = ? AND is_role = BINARY 'N' ORDER BY 1",
        &[login],
    )
    .await?;
    Ok((maps, defaults))
}

async fn my_case(
    conn: &mut MySqlConnection,
    c: &dyn Connector,
    t: &TargetRef,
    role: &str,
    login: &str,
) -> Result<(), TestCaseError> {
    my_exec(conn, &format!("CREATE ROLE {}", my_q(role))).await?;
    // Two accounts for the same login: both must get (and lose) the role.
    my_exec(conn, &format!("CREATE USER {}", my_acct(login, "%"))).await?;
    my_exec(
        conn,
        &format!("CREATE USER {}", my_acct(login, "localhost")),
    )
    .await?;
    prop_assert!(c.role_exists(t, role).await.map_err(fail)?);
    prop_assert!(!c.role_exists(t, login).await.map_err(fail)?);
    prop_assert!(c.members(t, role).await.map_err(fail)?.is_empty());

    c.add_member(t, role, login).await.map_err(fail)?;
    c.add_member(t, role, login).await.map_err(fail)?; // idempotent
    prop_assert_eq!(
        c.members(t, role).await.map_err(fail)?,
        vec![login.to_string()]
    );
    let (maps, defaults) = my_state_of(conn, login).await?;
    prop_assert_eq!(
        maps,
        vec![
            format!("%\u{1}{role}\u{1}N"),
            format!("localhost\u{1}{role}\u{1}N")
        ]
    );
    prop_assert_eq!(
        defaults,
        vec![format!("%\u{1}{role}"), format!("localhost\u{1}{role}")]
    );

    c.drop_member(t, role, login).await.map_err(fail)?;
    c.drop_member(t, role, login).await.map_err(fail)?; // idempotent
    prop_assert!(c.members(t, role).await.map_err(fail)?.is_empty());
    let (maps, defaults) = my_state_of(conn, login).await?;
    prop_assert!(maps.is_empty(), "{:?}", maps);
    prop_assert_eq!(
        defaults,
        vec!["%\u{1}".to_string(), "localhost\u{1}".to_string()]
    );
    c.end_sessions(t, login).await.map_err(fail)?;
    Ok(())
}

#[test]
fn mariadb_hostile_names_add_and_drop_exactly_one_membership() {
    let _serial = lock(&MY_LOCK);
    let rt = runtime();
    my_sweep(&rt);
    let p = prefix();
    let canary = my_q(&format!("{p}canary"));
    let mut run_cleanup = Cleanup::new(my_admin_url());
    run_cleanup.push(format!("DROP TABLE IF EXISTS {canary}"));
    let conn = rt.block_on(async {
        let mut conn = my_admin().await;
        conn.execute(format!("CREATE TABLE {canary} (id int)").as_str())
            .await
            .unwrap();
        conn.execute(format!("INSERT INTO {canary} VALUES (1)").as_str())
            .await
            .unwrap();
        std::cell::RefCell::new(conn)
    });
    let connectors = Connectors::builtin(std::sync::Arc::new(jitea::clock::SystemClock));
    let c = connectors.for_kind(TargetKind::Mysql).unwrap();
    let t = target(TargetKind::Mysql, &my_admin_url());

    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let names = (hostile(&["#"]), hostile(&["#", "ü"]));
    let result = runner.run(&names, |(role_body, login_body)| {
        let n = seq();
        let role = fit_chars(&format!("{p}{n}r_{role_body}"), mysql::MAX_IDENT_CHARS);
        let login = fit_chars(&format!("{p}{n}l_{login_body}"), mysql::MAX_IDENT_CHARS);
        let before = rt.block_on(my_snapshot(&mut conn.borrow_mut(), &canary, &p))?;
        {
            let mut guard = Cleanup::new(my_admin_url());
            guard.push(format!("DROP USER IF EXISTS {}", my_acct(&login, "%")));
            guard.push(format!(
                "DROP USER IF EXISTS {}",
                my_acct(&login, "localhost")
            ));
            guard.push(format!("DROP ROLE IF EXISTS {}", my_q(&role)));
            rt.block_on(my_case(
                &mut conn.borrow_mut(),
                c.as_ref(),
                &t,
                &role,
                &login,
            ))?;
        }
        let after = rt.block_on(my_snapshot(&mut conn.borrow_mut(), &canary, &p))?;
        prop_assert_eq!(
            before,
            after,
            "the server changed beyond the case's own names"
        );
        Ok(())
    });
    drop(run_cleanup);
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn mariadb_end_sessions_removes_role_privileges() {
    let _serial = lock(&MY_LOCK);
    let rt = runtime();
    my_sweep(&rt);
    let p = prefix();
    let role = format!("{p}es_role`x");
    let login = format!("{p}es_user'é");
    let password = "pw;'\"x";
    let secret = format!("{p}es_secret");
    let mut cleanup = Cleanup::new(my_admin_url());
    cleanup.push(format!("DROP TABLE IF EXISTS {}", my_q(&secret)));
    cleanup.push(format!("DROP USER IF EXISTS {}", my_acct(&login, "%")));
    cleanup.push(format!("DROP ROLE IF EXISTS {}", my_q(&role)));
    let c = mysql::MysqlConnector::new();
    let t = target(TargetKind::Mysql, &my_admin_url());
    rt.block_on(async {
        let mut admin = my_admin().await;
        for sql in [
            format!("CREATE ROLE {}", my_q(&role)),
            format!(
                "CREATE USER {} IDENTIFIED BY '{}'",
                my_acct(&login, "%"),
                password.replace('\\', "\\\\").replace('\'', "''")
            ),
            format!("CREATE TABLE {} (v int)", my_q(&secret)),
            format!("INSERT INTO {} VALUES (42)", my_q(&secret)),
            format!("GRANT SELECT ON {} TO {}", my_q(&secret), my_q(&role)),
        ] {
            admin.execute(sql.as_str()).await.unwrap();
        }
        c.add_member(&t, &role, &login).await.unwrap();

        // Without a default database: MariaDB checks database access at connect before the
        // default role is active, so `.../test` would be refused for a role-only user.
        let schema: String = String::from_utf8(
            sqlx_oldapi::query_scalar::<_, Vec<u8>>("SELECT DATABASE()")
                .fetch_one(&mut admin)
                .await
                .unwrap(),
        )
        .unwrap();
        let login_url = url_as(&my_admin_url(), &login, Some(password));
        let login_url = login_url[..login_url.rfind('/').unwrap()].to_string();
        let mut old = MySqlConnection::connect(&login_url).await.unwrap();
        // The default role is active from the login on; SET ROLE is explicit here.
        old.execute(format!("SET ROLE {}", my_q(&role)).as_str())
            .await
            .unwrap();
        let read = format!("SELECT v FROM {}.{}", my_q(&schema), my_q(&secret));
        let v: i32 = sqlx_oldapi::query_scalar(&read)
            .fetch_one(&mut old)
            .await
            .unwrap();
        assert_eq!(v, 42);

        c.drop_member(&t, &role, &login).await.unwrap();
        c.end_sessions(&t, &login).await.unwrap();
        assert!(
            sqlx_oldapi::query("SELECT 1")
                .execute(&mut old)
                .await
                .is_err(),
            "the old session must be dead"
        );
        let mut new = MySqlConnection::connect(&login_url).await.unwrap();
        assert!(new
            .execute(format!("SET ROLE {}", my_q(&role)).as_str())
            .await
            .is_err());
        assert!(sqlx_oldapi::query(&read).execute(&mut new).await.is_err());
        let _ = new.close().await;
        c.end_sessions(&t, &login).await.unwrap();
    });
}

async fn my_default_role(conn: &mut MySqlConnection, login: &str) -> Vec<String> {
    my_strings(
        conn,
        "SELECT default_role FROM mysql.user WHERE User = ?",
        &[login],
    )
    .await
    .unwrap()
}

#[test]
fn mariadb_single_default_role_moves_on_drop() {
    let _serial = lock(&MY_LOCK);
    let rt = runtime();
    my_sweep(&rt);
    let p = prefix();
    let (a, b) = (format!("{p}dr_a"), format!("{p}dr_b"));
    let login = format!("{p}dr_user");
    let mut cleanup = Cleanup::new(my_admin_url());
    cleanup.push(format!("DROP USER IF EXISTS {}", my_acct(&login, "%")));
    cleanup.push(format!("DROP ROLE IF EXISTS {}", my_q(&a)));
    cleanup.push(format!("DROP ROLE IF EXISTS {}", my_q(&b)));
    let c = mysql::MysqlConnector::new();
    let t = target(TargetKind::Mysql, &my_admin_url());
    rt.block_on(async {
        let mut admin = my_admin().await;
        for sql in [
            format!("CREATE ROLE {}", my_q(&a)),
            format!("CREATE ROLE {}", my_q(&b)),
            format!("CREATE USER {}", my_acct(&login, "%")),
        ] {
            admin.execute(sql.as_str()).await.unwrap();
        }
        c.add_member(&t, &a, &login).await.unwrap();
        assert_eq!(my_default_role(&mut admin, &login).await, vec![a.clone()]);
        c.add_member(&t, &b, &login).await.unwrap();
        assert_eq!(
            my_default_role(&mut admin, &login).await,
            vec![b.clone()],
            "latest grant wins"
        );
        c.drop_member(&t, &b, &login).await.unwrap();
        assert_eq!(
            my_default_role(&mut admin, &login).await,
            vec![a.clone()],
            "moves to a held role"
        );
        c.drop_member(&t, &a, &login).await.unwrap();
        assert_eq!(
            my_default_role(&mut admin, &login).await,
            vec![String::new()],
            "then NONE"
        );
        // Dropping a role that is not the default leaves the default alone.
        c.add_member(&t, &a, &login).await.unwrap();
        c.add_member(&t, &b, &login).await.unwrap();
        c.drop_member(&t, &a, &login).await.unwrap();
        assert_eq!(my_default_role(&mut admin, &login).await, vec![b.clone()]);
        c.drop_member(&t, &b, &login).await.unwrap();
    });
}

#[test]
fn mariadb_refusals_and_direct_grants() {
    let _serial = lock(&MY_LOCK);
    let rt = runtime();
    my_sweep(&rt);
    let p = prefix();
    let role = format!("{p}dg_role");
    let login = format!("{p}dg_user");
    let table = format!("{p}dg_table");
    let mut cleanup = Cleanup::new(my_admin_url());
    cleanup.push(format!("DROP TABLE IF EXISTS {}", my_q(&table)));
    cleanup.push(format!("DROP USER IF EXISTS {}", my_acct(&login, "%")));
    cleanup.push(format!("DROP ROLE IF EXISTS {}", my_q(&role)));
    let c = mysql::MysqlConnector::new();
    let t = target(TargetKind::Mysql, &my_admin_url());
    rt.block_on(async {
        c.ping(&t).await.unwrap();
        let mut admin = my_admin().await;
        for sql in [
            format!("CREATE ROLE {}", my_q(&role)),
            format!("CREATE USER {}", my_acct(&login, "%")),
            format!("CREATE TABLE {} (v int)", my_q(&table)),
            format!(
                "GRANT SELECT, UPDATE ON {} TO {}",
                my_q(&table),
                my_acct(&login, "%")
            ),
            format!("GRANT INSERT ON {} TO {}", my_q(&table), my_q(&role)),
        ] {
            admin.execute(sql.as_str()).await.unwrap();
        }
        let missing = format!("{p}no_such_user");
        match c.add_member(&t, &role, &missing).await {
            Err(ConnectorError::Refused(m)) => {
                assert_eq!(m, format!("login {missing} does not exist on the target"))
            }
            other => panic!("expected Refused, got {other:?}"),
        }
        match c.add_member(&t, &format!("{p}no_such_role"), &login).await {
            Err(ConnectorError::Refused(_)) => {}
            other => panic!("expected Refused, got {other:?}"),
        }
        assert!(!c
            .role_exists(&t, &format!("{p}no_such_role"))
            .await
            .unwrap());
        assert!(matches!(
            c.add_member(&t, "trailing ", &login).await,
            Err(ConnectorError::InvalidIdentifier(_))
        ));

        let object = format!("test.{table}");
        let mine: Vec<_> = c
            .direct_grants(&t)
            .await
            .unwrap()
            .into_iter()
            .filter(|g| g.object == object)
            .map(|g| (g.login, g.privilege))
            .collect();
        // The role's INSERT is not a direct grant to a login.
        assert_eq!(
            mine,
            vec![
                (login.clone(), "SELECT".to_string()),
                (login.clone(), "UPDATE".to_string())
            ]
        );
    });
}
