//! The request path: auto-approved request → active grant on a noop target, driven by `wrk`
//! (Debian's HTTP load generator, not our code) with 32 connections. Every request is a new
//! (user, role) pair, so each one is a whole flow: the request, its auto-approval, the grant,
//! the add on the target and the activation, answered only when the grant is active.
//!
//! Prints wrk's own report, the flows completed (counted in JITEA's database afterwards: active
//! grants), flows per second, and beside it the raw durable single-row commit rate of the same
//! store on the same machine, measured right after the load: one connection committing
//! single-row INSERTs for SQLite (it has one writer), 32 concurrent connections for PostgreSQL
//! (as `pgbench` would), with the server's own durability settings.
//!
//! Run: `scripts/bench_flow.sh [sqlite|postgres] [SECONDS] [CONNECTIONS]` (installs wrk,
//! builds the release binary first). The users are generated straight into the database.

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use jitea_tests::bench::{token_for, BENCH_SECRET};
use jitea_tests::*;
use sqlx_oldapi::{AnyConnection, Connection, Executor};

/// Users × roles is the number of distinct flows available; more than a run can use.
const USERS: i64 = 4_000;
const ROLES: i64 = 10;
const BASE: i64 = 1_000;
const RAW_SECONDS: f64 = 3.0;

fn generate_users(url: &str, pg: bool) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut c = AnyConnection::connect(url).await.expect("connect");
        let t = if pg { "TRUE" } else { "1" };
        let audit = "'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00', 'bench', 'bench'";
        c.execute("BEGIN").await.expect("begin");
        let ids: Vec<i64> = (BASE..BASE + USERS).collect();
        for chunk in ids.chunks(1000) {
            let rows: Vec<String> = chunk
                .iter()
                .map(|id| format!("({id}, 'u{id}', 'User {id}', 'Engineering', 'Tech', 2, {t}, {audit})"))
                .collect();
            let sql = format!("INSERT INTO users (id, login_name, display_name, department, division, seniority_level, is_active, created_utc, updated_utc, created_by, updated_by) VALUES {}", rows.join(", "));
            c.execute(sql.as_str()).await.expect("insert users");
        }
        if pg {
            c.execute("SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT MAX(id) FROM users))")
                .await
                .expect("setval");
        }
        c.execute("COMMIT").await.expect("commit");
    });
}

/// The wrk script: thread k of n sends flows k, k+n, k+2n, …; flow i is user i mod USERS
/// asking for role i div USERS.
fn lua_script(tokens: &[String], roles: &[i64]) -> String {
    let mut s = String::from("local tokens = {\n");
    for t in tokens {
        s.push_str(&format!("  \"{t}\",\n"));
    }
    s.push_str("}\nlocal roles = {");
    s.push_str(
        &roles
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    );
    s.push_str(
        r#"}
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
function init(args)
  i = tid
  step = tonumber(args[1])
end
function request()
  local u = (i % #tokens) + 1
  local r = (math.floor(i / #tokens) % #roles) + 1
  i = i + step
  return wrk.format("POST", "/api/v1/requests",
    {["Authorization"] = "Bearer " .. tokens[u], ["Content-Type"] = "application/json"},
    '{"role_id":' .. roles[r] .. ',"requested_duration_minutes":60}')
end
"#,
    );
    s
}

/// Single-row durable commits per second against the same kind of store.
fn raw_commit_rate(backend: Backend, db_url: &str, connections: usize) -> f64 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("jitea-raw-{}", std::process::id()));
                std::fs::create_dir_all(&dir).expect("dir");
                (
                    format!("sqlite://{}?mode=rwc", dir.join("raw.db").display()),
                    Some(dir),
                )
            }
            // The benchmark runs on SQLite or PostgreSQL only (see `main`).
            _ => (db_url.to_string(), None),
        };
        let mut setup = AnyConnection::connect(&url).await.expect("connect");
        if backend == Backend::Sqlite {
            // The server's own settings (store/mod.rs): WAL, synchronous = FULL.
            setup.execute("PRAGMA journal_mode = WAL").await.expect("wal");
        }
        setup
            .execute(if backend == Backend::Sqlite {
                "CREATE TABLE raw_commits (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"
            } else {
                "CREATE TABLE raw_commits (id BIGSERIAL PRIMARY KEY, v TEXT NOT NULL)"
            })
            .await
            .expect("create");
        let workers = if backend == Backend::Sqlite {
            1
        } else {
            connections
        };
        let deadline = Instant::now() + Duration::from_secs_f64(RAW_SECONDS);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..workers {
            let url = url.clone();
            tasks.push(tokio::spawn(async move {
                let mut c = AnyConnection::connect(&url).await.expect("connect");
                if backend == Backend::Sqlite {
                    c.execute("PRAGMA synchronous = FULL").await.expect("sync");
                }
                let mut n = 0u64;
                while Instant::now() < deadline {
                    if backend == Backend::Sqlite {
                        c.execute("BEGIN IMMEDIATE").await.expect("begin");
                        c.execute("INSERT INTO raw_commits (v) VALUES ('a single row of about forty bytes of text')")
                            .await
                            .expect("insert");
                        c.execute("COMMIT").await.expect("commit");
                    } else {
                        c.execute("INSERT INTO raw_commits (v) VALUES ('a single row of about forty bytes of text')")
                            .await
                            .expect("insert");
                    }
                    n += 1;
                }
                n
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.expect("join");
        }
        let rate = total as f64 / started.elapsed().as_secs_f64();
        setup
            .execute("DROP TABLE raw_commits")
            .await
            .expect("drop");
        if let Some(dir) = cleanup {
            let _ = std::fs::remove_dir_all(dir);
        }
        rate
    })
}

/// A line of wrk's `--latency` report, e.g. `99%  45.12ms`, in milliseconds.
fn wrk_percentile(report: &str, label: &str) -> Option<f64> {
    let line = report
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(label))?;
    let v = line.split_whitespace().nth(1)?;
    let (num, mult) = if let Some(x) = v.strip_suffix("us") {
        (x, 0.001)
    } else if let Some(x) = v.strip_suffix("ms") {
        (x, 1.0)
    } else if let Some(x) = v.strip_suffix('s') {
        (x, 1000.0)
    } else {
        (v, 1.0)
    };
    num.parse::<f64>().ok().map(|n| n * mult)
}

fn main() {
    let (backend, args) = jitea_tests::bench::args();
    let seconds: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(10);
    let connections: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(32);
    let env = [("JITEA_JWT_SECRET", BENCH_SECRET), ("JITEA_LOG", "error")];

    let s = Server::start_with(backend, &env);
    let admin = s.admin_token();
    let target = s.noop_target(&admin, "bench");
    let roles: Vec<i64> = (0..ROLES)
        .map(|i| {
            let dbr = s.make_db_role(&admin, target, &format!("bench_role_{i}"));
            s.open_role(&admin, &format!("bench-{i}"), 480, &[dbr])
        })
        .collect();
    generate_users(&s.db.url, backend == Backend::Postgres);
    let tokens: Vec<String> = (BASE..BASE + USERS)
        .map(|id| token_for(BENCH_SECRET, id))
        .collect();

    // Warm-up outside the measured run: a few flows by a user wrk never uses.
    let warm = s.create_user(
        &admin,
        json!({"login_name": "warmup", "display_name": "Warm-up", "password": "warm-up-password-123"}),
    );
    let warm_token = token_for(BENCH_SECRET, warm);
    for r in &roles {
        s.post(
            "/api/v1/requests",
            &warm_token,
            json!({"role_id": r, "requested_duration_minutes": 60}),
        )
        .expect(201);
    }
    let count_active = || {
        s.db.scalar("SELECT COUNT(*) AS n FROM grants WHERE status = 'active'")
    };
    let before = count_active();

    let script = std::env::temp_dir().join(format!("jitea-flow-{}.lua", std::process::id()));
    std::fs::File::create(&script)
        .and_then(|mut f| f.write_all(lua_script(&tokens, &roles).as_bytes()))
        .expect("write wrk script");
    let threads = 2;
    println!(
        "request-flow benchmark ({backend:?} store, noop target): wrk -t{threads} -c{connections} -d{seconds}s, {USERS} users × {ROLES} roles"
    );
    let started = Instant::now();
    let out = Command::new("wrk")
        .args([
            &format!("-t{threads}"),
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--timeout",
            "10s",
            "--latency",
            "-s",
        ])
        .arg(&script)
        .arg(&s.base)
        .arg("--")
        .arg(threads.to_string())
        .output()
        .expect("run wrk (scripts/ensure_wrk.sh installs it)");
    let wall = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&script);
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "wrk failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{report}");
    // Requests still in flight when wrk stops finish on the server; count after they settle.
    std::thread::sleep(Duration::from_secs(2));
    let flows = count_active() - before;
    let non_2xx = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| "0".into());

    let raw = raw_commit_rate(backend, &s.db.url, connections);
    let rate = flows as f64 / seconds as f64;
    println!(
        "flows completed: {flows} in {seconds} s (wrk wall {wall:.1} s) = {rate:.0} flows/s; non-2xx responses: {non_2xx}"
    );
    println!(
        "latency (wrk): p50={:.1} ms  p90={:.1} ms  p99={:.1} ms",
        wrk_percentile(&report, "50%").unwrap_or(f64::NAN),
        wrk_percentile(&report, "90%").unwrap_or(f64::NAN),
        wrk_percentile(&report, "99%").unwrap_or(f64::NAN),
    );
    println!(
        "raw durable single-row commits, same store, same machine, right after: {raw:.0} commits/s ({} connection{}); flows/commit-rate = {:.2}",
        if backend == Backend::Sqlite { 1 } else { connections },
        if backend == Backend::Sqlite { "" } else { "s" },
        rate / raw
    );
}
