//! Black-box test harness: starts the real `jitea` binary on a free port against a fresh
//! database (a SQLite file in a temp dir, or a new PostgreSQL database) and talks HTTP to it.
//!
//! The binary is found next to the test executable's `deps/` folder (build it first with
//! `cargo build -p jitea-api`, as the test script does) or at `$JITEA_BIN`.
//! PostgreSQL comes from `$JITEA_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each server gets its own database, dropped
//! afterwards. SQL Server works the same way from `$JITEA_TEST_MSSQL_URL` (e.g.
//! `mssql://sa:Secret@host:1433/master`, a login that may create databases); its tests are
//! ignored by default (`cargo test -p jitea-tests -- --ignored mssql` runs them).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub use serde_json::{json, Value};

pub mod aws;
pub mod bench;
pub mod catalog;
pub mod ldap;
pub mod oidc;
pub mod samba;
pub mod smtp;
pub mod targets;
pub mod webhook;

pub const ADMIN_LOGIN: &str = "root";
pub const ADMIN_PASSWORD: &str = "root-password-123";
/// The key-encryption key every test server gets (`JITEA_SECRET_KEY`).
pub const TEST_SECRET_KEY: &str = "jitea-test-secret-key-0123456789abcdef";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    /// A SQL Server of the user's own, from `$JITEA_TEST_MSSQL_URL` (never in CI here).
    Mssql,
}

/// Declares one test per backend from a function taking `Backend`.
#[macro_export]
macro_rules! on_each_backend {
    ($name:ident) => {
        mod $name {
            #[test]
            fn sqlite() {
                super::$name($crate::Backend::Sqlite);
            }
            #[test]
            fn postgres() {
                super::$name($crate::Backend::Postgres);
            }
            #[test]
            #[ignore = "needs JITEA_TEST_MSSQL_URL"]
            fn mssql() {
                super::$name($crate::Backend::Mssql);
            }
        }
    };
}

pub fn jitea_bin() -> PathBuf {
    if let Ok(p) = std::env::var("JITEA_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = dir.join(if cfg!(windows) { "jitea.exe" } else { "jitea" });
    assert!(
        bin.exists(),
        "{} not found: run `cargo build -p jitea-api` first (the test script does)",
        bin.display()
    );
    bin
}

fn pg_admin_url() -> String {
    std::env::var("JITEA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn pg_exec(sql: &str) {
    use sqlx_oldapi::{Connection, Executor};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = pg_admin_url();
    rt.block_on(async move {
        let mut c = sqlx_oldapi::PgConnection::connect(&url)
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL is required for the postgres tests ({url}): {e}")
            });
        c.execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    });
}

fn mssql_admin_url() -> String {
    std::env::var("JITEA_TEST_MSSQL_URL").unwrap_or_else(|_| {
        panic!(
            "the mssql tests need JITEA_TEST_MSSQL_URL, e.g. mssql://sa:Secret@127.0.0.1:1433/master \
             (SQL Server 2017 or later, a login that may create databases)"
        )
    })
}

fn mssql_exec(sql: &str) {
    use sqlx_oldapi::{Connection, Executor};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = mssql_admin_url();
    rt.block_on(async move {
        let mut c = sqlx_oldapi::MssqlConnection::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to JITEA_TEST_MSSQL_URL: {e}"));
        c.execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    });
}

/// `url` with its path (the database) replaced by `/name`, keeping any `?query`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|j| start + j))
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database for one test: created on construction, removed on drop.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    dir: PathBuf,
    /// The server database this handle created and drops (PostgreSQL, SQL Server).
    server_db: Option<String>,
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let tag = format!("{}_{}_{}", std::process::id(), n, rand::random::<u32>());
        let dir = std::env::temp_dir().join(format!("jitea-test-{tag}"));
        std::fs::create_dir_all(&dir).unwrap();
        match backend {
            Backend::Sqlite => Self {
                url: format!("sqlite://{}", dir.join("jitea.db").display()),
                backend,
                dir,
                server_db: None,
            },
            Backend::Postgres => {
                let name = format!("jitea_t_{tag}");
                pg_exec(&format!("CREATE DATABASE {name}"));
                let base = pg_admin_url();
                let root = base
                    .rsplit_once('/')
                    .map(|(r, _)| r.to_string())
                    .unwrap_or(base);
                Self {
                    url: format!("{root}/{name}"),
                    backend,
                    dir,
                    server_db: Some(name),
                }
            }
            Backend::Mssql => {
                let name = format!("jitea_t_{tag}");
                mssql_exec(&format!("CREATE DATABASE [{name}]"));
                Self {
                    url: with_database(&mssql_admin_url(), &name),
                    backend,
                    dir,
                    server_db: Some(name),
                }
            }
        }
    }
}

impl TestDb {
    /// A stand-in that owns nothing (used when moving the real one out of a `Server`).
    fn placeholder() -> Self {
        Self {
            url: String::new(),
            backend: Backend::Sqlite,
            dir: PathBuf::new(),
            server_db: None,
        }
    }

    /// Runs one SQL statement directly against this database (to simulate tampering or
    /// crashes that the API would never allow).
    pub fn exec(&self, sql: &str) {
        if let Err(e) = self.try_exec(sql) {
            panic!("{sql}: {e}");
        }
    }

    /// Like `exec`, but returns the database's error instead of panicking (to prove that a
    /// statement is refused).
    pub fn try_exec(&self, sql: &str) -> Result<u64, String> {
        use sqlx_oldapi::{Connection, Executor};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let url = self.url.clone();
        rt.block_on(async move {
            let mut c = sqlx_oldapi::AnyConnection::connect(&url)
                .await
                .expect("connect to test database");
            c.execute(sql)
                .await
                .map(|r| r.rows_affected())
                .map_err(|e| e.to_string())
        })
    }

    /// Runs a query returning one integer column named `n` in one row (e.g. a `COUNT(*) AS n`).
    pub fn scalar(&self, sql: &str) -> i64 {
        use sqlx_oldapi::{Connection, Row};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let url = self.url.clone();
        rt.block_on(async move {
            let mut c = sqlx_oldapi::AnyConnection::connect(&url)
                .await
                .expect("connect to test database");
            let row = sqlx_oldapi::query(sql)
                .fetch_one(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            // COUNT(*) is INT on SQL Server.
            row.try_get::<i64, _>("n")
                .or_else(|_| row.try_get::<i32, _>("n").map(i64::from))
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        })
    }

    /// Moves a grant's end to `secs` seconds from now (database clock), as if it had been issued
    /// for that long: lets tests watch real expiry without waiting whole minutes.
    pub fn set_grant_ends_in(&self, grant_id: i64, secs: f64) {
        let sql = match self.backend {
            Backend::Sqlite => format!(
                "UPDATE grants SET valid_to_utc = strftime('%Y-%m-%d %H:%M:%f', 'now', '+{secs} seconds') || '+00:00' WHERE id = {grant_id}"
            ),
            Backend::Postgres => format!("UPDATE grants SET valid_to_utc = now() + interval '{secs} seconds' WHERE id = {grant_id}"),
            Backend::Mssql => format!(
                "UPDATE grants SET valid_to_utc = DATEADD(millisecond, {}, SYSDATETIMEOFFSET()) WHERE id = {grant_id}",
                (secs * 1000.0).round() as i64
            ),
        };
        self.exec(&sql);
    }

    /// A handle on the same database that does not own it (for a second server process).
    pub fn shared(&self) -> TestDb {
        Self {
            url: self.url.clone(),
            backend: self.backend,
            dir: PathBuf::new(),
            server_db: None,
        }
    }

    /// A `jitea` command with this database configured.
    pub fn command(&self) -> Command {
        base_command(self, &[])
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(n) = &self.server_db {
            let _ = std::panic::catch_unwind(|| match self.backend {
                Backend::Mssql => mssql_exec(&format!(
                    "IF DB_ID(N'{n}') IS NOT NULL BEGIN \
                     ALTER DATABASE [{n}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; \
                     DROP DATABASE [{n}]; END"
                )),
                _ => pg_exec(&format!("DROP DATABASE IF EXISTS {n} WITH (FORCE)")),
            });
        }
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A running `jitea serve`.
pub struct Server {
    pub base: String,
    pub db: TestDb,
    child: Child,
    agent: ureq::Agent,
    extra_env: Vec<(String, String)>,
}

impl Server {
    pub fn start(backend: Backend) -> Self {
        Self::start_with(backend, &[])
    }

    pub fn start_with(backend: Backend, env: &[(&str, &str)]) -> Self {
        Self::start_on_with(TestDb::new(backend), env)
    }

    /// Starts a server on an existing database.
    pub fn start_on(db: TestDb) -> Self {
        Self::start_on_with(db, &[])
    }

    /// Stops this server (SIGKILL) and starts a new one on the same database, with extra env.
    pub fn restart_with(mut self, env: &[(&str, &str)]) -> Self {
        self.kill();
        let db = std::mem::replace(&mut self.db, TestDb::placeholder());
        Self::start_on_with(db, env)
    }

    pub fn start_on_with(db: TestDb, env: &[(&str, &str)]) -> Self {
        let extra_env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (child, base) = spawn_server(&db, &extra_env);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let s = Self {
            base,
            db,
            child,
            agent,
            extra_env,
        };
        s.wait_ready();
        s
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = self.agent.get(format!("{}/readyz", self.base)).call() {
                if r.status().as_u16() == 200 {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "server did not become ready at {}",
                self.base
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs a `jitea` CLI command against the same database; returns stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = base_command(&self.db, &self.extra_env)
            .args(args)
            .output()
            .expect("run jitea");
        assert!(
            out.status.success(),
            "jitea {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn finish(resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Resp {
        let mut r = resp.expect("HTTP transport error");
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, body, text }
    }

    /// Sends `method path` with an optional bearer token and JSON body.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        let url = self.url(path);
        let auth = token.map(|t| format!("Bearer {t}"));
        macro_rules! with_auth {
            ($b:expr) => {{
                let b = $b;
                match &auth {
                    Some(a) => b.header("Authorization", a),
                    None => b,
                }
            }};
        }
        let r = match method {
            "GET" => with_auth!(self.agent.get(&url)).call(),
            "DELETE" => with_auth!(self.agent.delete(&url)).call(),
            "POST" | "PUT" | "PATCH" => {
                let b = match method {
                    "POST" => self.agent.post(&url),
                    "PUT" => self.agent.put(&url),
                    _ => self.agent.patch(&url),
                };
                let b = with_auth!(b);
                match body {
                    Some(v) => b.send_json(v),
                    None => b.send_empty(),
                }
            }
            m => panic!("unsupported method {m}"),
        };
        Self::finish(r)
    }

    /// Like `call`, but a transport failure (server gone) gives `None` instead of a panic.
    pub fn try_call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Option<Resp> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.call(method, path, token, body)
        }))
        .ok()
    }

    /// Sends raw bytes with a given content type (for malformed-input tests).
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: &[u8],
    ) -> Resp {
        let url = self.url(path);
        let b = match method {
            "POST" => self.agent.post(&url),
            "PUT" => self.agent.put(&url),
            _ => self.agent.patch(&url),
        };
        let b = b.content_type(content_type);
        let b = match token {
            Some(t) => b.header("Authorization", format!("Bearer {t}")),
            None => b,
        };
        Self::finish(b.send(body))
    }

    /// Sends a request with arbitrary headers; returns status, response headers (lower-case
    /// names, every value) and body text.
    pub fn with_headers(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> RawResp {
        let url = self.url(path);
        let r = match method {
            "GET" | "DELETE" => {
                let mut b = if method == "GET" {
                    self.agent.get(&url)
                } else {
                    self.agent.delete(&url)
                };
                for (k, v) in headers {
                    b = b.header(*k, *v);
                }
                b.call()
            }
            _ => {
                let mut b = match method {
                    "POST" => self.agent.post(&url),
                    "PUT" => self.agent.put(&url),
                    _ => self.agent.patch(&url),
                };
                for (k, v) in headers {
                    b = b.header(*k, *v);
                }
                match body {
                    Some(v) => b.send_json(v),
                    None => b.send_empty(),
                }
            }
        };
        let mut r = r.expect("HTTP transport error");
        let status = r.status().as_u16();
        let mut hs: Vec<(String, String)> = Vec::new();
        for (k, v) in r.headers() {
            hs.push((
                k.as_str().to_lowercase(),
                v.to_str().unwrap_or("").to_string(),
            ));
        }
        let text = r.body_mut().read_to_string().unwrap_or_default();
        RawResp {
            status,
            headers: hs,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    /// Opens a streaming GET (server-sent events) and forwards each line to the returned
    /// channel from a background thread until the stream ends.
    pub fn stream_lines(&self, path: &str, token: &str) -> std::sync::mpsc::Receiver<String> {
        use std::io::BufRead;
        let (tx, rx) = std::sync::mpsc::channel();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let resp = agent
            .get(self.url(path))
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .expect("open stream");
        assert_eq!(resp.status().as_u16(), 200, "stream {path}");
        std::thread::spawn(move || {
            let reader = std::io::BufReader::new(resp.into_body().into_reader());
            for line in reader.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        rx
    }

    /// A GET with an arbitrary Authorization header value.
    pub fn get_with_auth_header(&self, path: &str, header: &str) -> Resp {
        Self::finish(
            self.agent
                .get(self.url(path))
                .header("Authorization", header)
                .call(),
        )
    }

    pub fn get(&self, path: &str, token: &str) -> Resp {
        self.call("GET", path, Some(token), None)
    }

    pub fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call("POST", path, Some(token), Some(&body))
    }

    pub fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call("PATCH", path, Some(token), Some(&body))
    }

    pub fn put(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call("PUT", path, Some(token), Some(&body))
    }

    pub fn login(&self, login: &str, password: &str) -> String {
        let r = self.call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(&json!({"login_name": login, "password": password})),
        );
        assert_eq!(r.status, 200, "login {login}: {}", r.text);
        r.body["token"].as_str().unwrap().to_string()
    }

    pub fn admin_token(&self) -> String {
        self.login(ADMIN_LOGIN, ADMIN_PASSWORD)
    }

    /// Creates a user with a password; returns its id.
    pub fn create_user(&self, admin: &str, body: Value) -> i64 {
        let r = self.post("/api/v1/users", admin, body);
        assert_eq!(r.status, 201, "create user: {}", r.text);
        r.id()
    }

    /// Every audit entry matching the query string (follows cursors).
    pub fn audit(&self, token: &str, query: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut q = format!("/api/v1/audit?limit=500&{query}");
            if let Some(c) = &cursor {
                q.push_str(&format!("&cursor={c}"));
            }
            let r = self.get(&q, token);
            assert_eq!(r.status, 200, "audit: {}", r.text);
            out.extend(r.body["items"].as_array().unwrap().iter().cloned());
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return out,
            }
        }
    }

    /// Polls `f` every 20 ms until it returns true or `secs` pass; returns whether it did.
    pub fn eventually(&self, secs: f64, mut f: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs_f64(secs);
        loop {
            if f() {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server with SIGKILL (no graceful shutdown).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn base_command(db: &TestDb, extra: &[(String, String)]) -> Command {
    let mut c = Command::new(jitea_bin());
    c.env("JITEA_DATABASE_URL", &db.url)
        .env(
            "JITEA_BOOTSTRAP_ADMIN",
            format!("{ADMIN_LOGIN}:{ADMIN_PASSWORD}"),
        )
        .env("JITEA_LOG", "warn")
        .env("JITEA_EXPIRY_INTERVAL_SECS", "1")
        .env_remove("JITEA_CONFIG")
        .env_remove("JITEA_JWT_SECRET")
        .env_remove("JITEA_JWT_SECRET_FILE")
        .env_remove("JITEA_SECRET_KEY_FILE")
        .env_remove("JITEA_PUBLIC_URL")
        .env_remove("JITEA_TRUST_PROXY")
        .env_remove("JITEA_OIDC_ISSUER")
        .env_remove("JITEA_OIDC_AUDIENCE")
        .env_remove("JITEA_LOCAL_LOGIN")
        .env_remove("JITEA_SMTP_HOST")
        // Stored signing keys are sealed under this (a test value); every process a test
        // starts on one database shares it. Set it to "" to test the generated key file.
        .env("JITEA_SECRET_KEY", TEST_SECRET_KEY);
    for (k, v) in extra {
        c.env(k, v);
    }
    c
}

fn spawn_server(db: &TestDb, extra: &[(String, String)]) -> (Child, String) {
    // A test that must know the address in advance (OIDC redirect URIs) passes JITEA_BIND;
    // otherwise the server binds port 0 and says which port it got. (Picking a free port here
    // and handing it over raced: two servers could be given the same port, and the loser's
    // test then talked to the winner's server, finding its users already there.)
    let bind = extra
        .iter()
        .find(|(k, _)| k == "JITEA_BIND")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "127.0.0.1:0".to_string());
    let mut child = base_command(db, extra)
        .env("JITEA_BIND", &bind)
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn jitea serve");
    let stdout = child.stdout.take().expect("server stdout");
    let addr = read_listening_address(stdout)
        .unwrap_or_else(|| panic!("jitea serve exited before listening on {bind}"));
    (child, format!("http://{addr}"))
}

/// Reads the server's stdout until its "JITEA listening on http://ADDR" line and returns
/// ADDR; the rest of the output is drained in the background so the server never blocks on
/// a full pipe. `None` when the server exits first (e.g. the address was taken).
fn read_listening_address(stdout: std::process::ChildStdout) -> Option<String> {
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(stdout).lines();
    let addr = lines.by_ref().map_while(Result::ok).find_map(|line| {
        line.strip_prefix("JITEA listening on http://")
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_string)
    })?;
    std::thread::spawn(move || lines.for_each(drop));
    Some(addr)
}

/// A response with its headers.
#[derive(Debug, Clone)]
pub struct RawResp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub text: String,
}

impl RawResp {
    /// All values of a header (lower-case name).
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).into_iter().next()
    }
}

/// An HTTP response: status, parsed JSON body (Null if not JSON), raw text.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn id(&self) -> i64 {
        self.body["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no id in {}", self.text))
    }

    /// The stable error code of an error response.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts the status and returns self for chaining.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts an error response with this status and code.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(
            self.code(),
            code,
            "unexpected error code; body: {}",
            self.text
        );
        assert!(
            self.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "error without message: {}",
            self.text
        );
        self
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn mssql_test_databases_keep_the_server_part_of_the_url() {
        assert_eq!(
            with_database("mssql://sa:Pa%2Fss@db.example:1433/master", "jitea_t_1"),
            "mssql://sa:Pa%2Fss@db.example:1433/jitea_t_1"
        );
        assert_eq!(
            with_database(
                "mssql://sa:p@127.0.0.1/master?encrypt=false&trust_server_certificate=true",
                "x"
            ),
            "mssql://sa:p@127.0.0.1/x?encrypt=false&trust_server_certificate=true"
        );
        assert_eq!(
            with_database("mssql://sa:p@host", "x"),
            "mssql://sa:p@host/x"
        );
        assert_eq!(
            with_database("mssql://sa:p@host?instance=SQLEXPRESS", "x"),
            "mssql://sa:p@host/x?instance=SQLEXPRESS"
        );
    }
}
