//! Revocation lag benchmark: N grants (default 1,000) on a PostgreSQL target, all ending in
//! the same instant. Prints p50/p99/max of (membership gone − valid_to) and of (grant's
//! `expired` status committed − valid_to), both observed by polling every ~2 ms, and where
//! the engine's time went (its per-phase milliseconds from the `expiry_job_run` audit events).
//! Then the same people ask for access scheduled to start in one instant, and it prints the
//! scheduled-start lag: p50/p99/max of (membership present − `start_utc`).
//!
//! Run: `scripts/bench_revocation.sh [N]` (builds the release binary first). Uses the local
//! PostgreSQL both as JITEA's database and as the target; everything it creates is removed.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jitea_tests::bench::{percentile, token_for, BENCH_SECRET};
use jitea_tests::targets::{PgTarget, PG_ADMIN_URL};
use jitea_tests::*;

/// A connection for the observer's counts (JITEA's database, or the target).
struct Store {
    rt: tokio::runtime::Runtime,
    conn: std::cell::RefCell<sqlx_oldapi::PgConnection>,
}

impl Store {
    fn connect(url: &str) -> Self {
        use sqlx_oldapi::Connection;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let conn = rt
            .block_on(sqlx_oldapi::PgConnection::connect(url))
            .unwrap();
        Self {
            rt,
            conn: std::cell::RefCell::new(conn),
        }
    }

    /// The single `count(*)` that `sql` returns.
    fn count(&self, sql: &str) -> i64 {
        let mut c = self.conn.borrow_mut();
        self.rt
            .block_on(sqlx_oldapi::query_scalar(sql).fetch_one(&mut *c))
            .unwrap()
    }
}

fn report(label: &str, mut lags: Vec<i64>) {
    lags.sort_unstable();
    println!(
        "{label:<34} n={:<5} p50={:>5} ms  p99={:>5} ms  max={:>5} ms",
        lags.len(),
        percentile(&lags, 50.0),
        percentile(&lags, 99.0),
        lags.last().copied().unwrap_or(0)
    );
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    println!("revocation lag benchmark: {n} grants on a PostgreSQL target, all ending in the same instant");

    let mut pg = PgTarget::new();
    let reader = pg.name("reader");
    pg.exec(&format!("CREATE ROLE \"{reader}\" NOLOGIN"));
    let logins: Vec<String> = (0..n).map(|i| pg.name(&format!("u{i}"))).collect();
    for chunk in logins.chunks(200) {
        let sql: String = chunk
            .iter()
            .map(|l| format!("CREATE ROLE \"{l}\" LOGIN;"))
            .collect();
        pg.exec(&sql);
    }

    let s = Arc::new(Server::start_with(
        Backend::Postgres,
        &[
            ("JITEA_TARGET_PG_URL", PG_ADMIN_URL),
            ("JITEA_JWT_SECRET", BENCH_SECRET),
            ("JITEA_LOG", "error"),
        ],
    ));
    let admin = s.admin_token();
    let target = s.make_target(
        &admin,
        json!({"name": "bench", "kind": "postgres", "connection_url_env": "JITEA_TARGET_PG_URL"}),
    );
    let dbr = s.make_db_role(&admin, target, &reader);
    let role = s.open_role(&admin, "Bench", 600, &[dbr]);

    let started = Instant::now();
    let workers = 8;
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let (s, admin, logins) = (s.clone(), admin.clone(), logins.clone());
            thread::spawn(move || {
                let mut uids = Vec::new();
                for l in logins.iter().skip(w).step_by(workers) {
                    let uid = s.create_user(&admin, json!({"login_name": l}));
                    let r = s
                        .post(
                            "/api/v1/requests",
                            &token_for(BENCH_SECRET, uid),
                            json!({"role_id": role, "requested_duration_minutes": 600}),
                        )
                        .expect(201);
                    assert_eq!(r.body["status"], "auto_approved");
                    uids.push(uid);
                }
                uids
            })
        })
        .collect();
    let uids: Vec<i64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let members = pg.members(&reader);
    assert_eq!(members.len(), n, "every grant provisioned");
    println!(
        "issued {n} grants in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Everyone's access ends at the same instant, a few seconds from now.
    let valid_to: DateTime<Utc> = Utc::now() + chrono::Duration::seconds(4);
    s.db.exec(&format!(
        "UPDATE grants SET valid_to_utc = '{}'",
        valid_to.to_rfc3339()
    ));

    // Polls two counts every ~2 ms: the role's members on the target, and JITEA's grants
    // whose `expired` status is committed (visible to another connection). Each drop of a
    // count by k at time t is k grants gone (or marked) at t; counting keeps the observer
    // cheap, where listing 10,000 names every 2 ms would compete with the engine for the CPU.
    let target = Store::connect(PG_ADMIN_URL);
    let store = Store::connect(&s.db.url);
    let members_sql = format!(
        "SELECT count(*) FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.roleid WHERE r.rolname = '{reader}'"
    );
    let expired_sql = "SELECT count(*) FROM grants WHERE status = 'expired'";
    let mut gone: Vec<DateTime<Utc>> = Vec::new();
    let mut marked: Vec<DateTime<Utc>> = Vec::new();
    let (mut members, mut expired) = (n as i64, 0i64);
    let deadline = Instant::now() + Duration::from_secs(180);
    while (gone.len() < n || marked.len() < n) && Instant::now() < deadline {
        let now = Utc::now();
        let m = target.count(&members_sql);
        let e = store.count(expired_sql);
        gone.extend(std::iter::repeat_n(now, (members - m).max(0) as usize));
        marked.extend(std::iter::repeat_n(now, (e - expired).max(0) as usize));
        (members, expired) = (m.min(members), e.max(expired));
        thread::sleep(Duration::from_millis(2));
    }
    let early = gone.iter().filter(|t| **t < valid_to).count();
    let member_lags: Vec<i64> = gone
        .iter()
        .map(|t| (*t - valid_to).num_milliseconds())
        .collect();

    let done = s.eventually(60.0, || {
        s.get("/api/v1/grants?status=active&limit=1", &admin).body["items"]
            .as_array()
            .is_some_and(|a| a.is_empty())
    });
    assert!(done, "grants still active after 60 s");
    let marked_lags: Vec<i64> = marked
        .iter()
        .map(|t| (*t - valid_to).num_milliseconds())
        .collect();

    println!(
        "memberships removed: {} of {n} (removed before valid_to: {early})",
        gone.len()
    );
    report("membership gone - valid_to", member_lags);
    report("grant marked expired - valid_to", marked_lags);
    phases(&s, &admin, valid_to, n);
    scheduled_starts(&s, &uids, role, &target, &members_sql);
}

/// Scheduled access: the same people ask again, each for access starting later; all the
/// starts are then moved to one instant a few seconds ahead. Prints p50/p99/max of
/// (membership present − start), observed like the removals.
fn scheduled_starts(s: &Arc<Server>, uids: &[i64], role: i64, target: &Store, members_sql: &str) {
    let n = uids.len();
    let later = (Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let workers = 8;
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let (s, uids, later) = (s.clone(), uids.to_vec(), later.clone());
            thread::spawn(move || {
                for uid in uids.iter().skip(w).step_by(workers) {
                    s.post(
                        "/api/v1/requests",
                        &token_for(BENCH_SECRET, *uid),
                        json!({"role_id": role, "requested_duration_minutes": 600, "start_utc": later}),
                    )
                    .expect(201);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(
        target.count(members_sql),
        0,
        "nothing added before the start"
    );
    let start: DateTime<Utc> = Utc::now() + chrono::Duration::seconds(4);
    s.db.exec(&format!(
        "UPDATE grants SET valid_from_utc = '{}', valid_to_utc = '{}' WHERE status = 'provisioning'",
        start.to_rfc3339(),
        (start + chrono::Duration::minutes(600)).to_rfc3339()
    ));
    let mut present: Vec<DateTime<Utc>> = Vec::new();
    let mut members = 0i64;
    let deadline = Instant::now() + Duration::from_secs(180);
    while present.len() < n && Instant::now() < deadline {
        let now = Utc::now();
        let m = target.count(members_sql);
        present.extend(std::iter::repeat_n(now, (m - members).max(0) as usize));
        members = m.max(members);
        thread::sleep(Duration::from_millis(2));
    }
    let early = present.iter().filter(|t| **t < start).count();
    println!(
        "scheduled grants started: {} of {n} (present before the start: {early})",
        present.len()
    );
    report(
        "membership present - start_utc",
        present
            .iter()
            .map(|t| (*t - start).num_milliseconds())
            .collect(),
    );
}

/// Where the engine's time went: the per-phase milliseconds of the expiry passes that ended
/// grants, from their `expiry_job_run` audit events.
fn phases(s: &Server, admin: &str, valid_to: DateTime<Utc>, n: usize) {
    let since = valid_to - chrono::Duration::seconds(1);
    let load = || -> Vec<Value> {
        s.audit(admin, "event_type=expiry_job_run")
            .into_iter()
            .filter(|e| {
                DateTime::parse_from_rfc3339(e["event_utc"].as_str().unwrap_or(""))
                    .is_ok_and(|t| t >= since)
            })
            .collect()
    };
    // A pass writes its event after its last batch: wait for the passes that ended all `n`.
    s.eventually(10.0, || {
        load()
            .iter()
            .map(|r| r["details"]["ended"].as_i64().unwrap_or(0))
            .sum::<i64>()
            >= n as i64
    });
    let runs = load();
    // Summed per phase over the passes, in the order the engine reports them.
    let mut sums: Vec<(String, i64)> = Vec::new();
    let mut ended = 0;
    for r in &runs {
        let d = &r["details"];
        ended += d["ended"].as_i64().unwrap_or(0);
        for (k, v) in d["phases"].as_object().into_iter().flatten() {
            let v = v.as_i64().unwrap_or(0);
            match sums.iter_mut().find(|(name, _)| name == k) {
                Some((_, sum)) => *sum += v,
                None => sums.push((k.clone(), v)),
            }
        }
    }
    let parts: Vec<String> = sums.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!(
        "engine phases ({} passes, {ended} grants ended): {}",
        runs.len(),
        parts.join(" ")
    );
}
