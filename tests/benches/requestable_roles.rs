//! Eligibility at scale: `GET /api/v1/me/requestable-roles` in a generated organisation of
//! 100,000 users, 2,000 roles, 50,000 eligibility rules, 500 teams and 5,000 per-user
//! overrides. Prints p50/p90/p99/max over sequential requests by distinct users, and the
//! server's memory (VmHWM/VmRSS).
//!
//! Run: `scripts/bench_eligibility.sh [sqlite|postgres] [REQUESTS]` (builds the release binary
//! first). The organisation is written straight into a fresh database (multi-row INSERTs in
//! one transaction), then the server is restarted on it so it starts cold. Everything is
//! removed afterwards.

use std::collections::HashSet;
use std::time::Instant;

use jitea_tests::bench::{memory_mb, percentile, token_for, BENCH_SECRET};
use jitea_tests::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx_oldapi::{AnyConnection, Connection, Executor};

const USERS: i64 = 100_000;
const TEAMS: i64 = 500;
const ROLES: i64 = 2_000;
const DB_ROLES: i64 = 400;
const DEPARTMENTS: i64 = 100;
const DIVISIONS: i64 = 10;
const OVERRIDES: usize = 5_000;
/// 50,000 rules by scope: most are per-user exceptions; few say "everyone".
const RULES: [(&str, usize); 5] = [
    ("user", 43_900),
    ("team", 5_000),
    ("department", 1_000),
    ("division", 90),
    ("all", 10),
];
/// Ids of generated rows start here (the bootstrap admin and the target come first).
const BASE: i64 = 1_000;
const T0: &str = "'2026-01-01 00:00:00+00:00'";
const PAST: &str = "'2020-01-01 00:00:00+00:00'";
const FUTURE: &str = "'2099-01-01 00:00:00+00:00'";

struct Gen {
    conn: AnyConnection,
    rt: tokio::runtime::Runtime,
    pg: bool,
}

impl Gen {
    fn exec(&mut self, sql: &str) {
        let conn = &mut self.conn;
        self.rt
            .block_on(async { conn.execute(sql).await })
            .unwrap_or_else(|e| panic!("{}…: {e}", &sql[..sql.len().min(200)]));
    }

    fn b(&self, v: bool) -> &'static str {
        match (self.pg, v) {
            (true, true) => "TRUE",
            (true, false) => "FALSE",
            (false, true) => "1",
            (false, false) => "0",
        }
    }

    /// Multi-row INSERTs, 1,000 rows a statement.
    fn insert(&mut self, table: &str, cols: &str, rows: &[String]) {
        for chunk in rows.chunks(1000) {
            let sql = format!("INSERT INTO {table} ({cols}) VALUES {}", chunk.join(", "));
            self.exec(&sql);
        }
    }
}

fn dept(i: i64) -> String {
    format!("Department {i:03}")
}

fn div(i: i64) -> String {
    format!("Division {i:02}")
}

/// The organisation; returns the ids of the active users.
fn generate(g: &mut Gen, target_id: i64, rng: &mut StdRng) -> Vec<i64> {
    let audit = format!("{T0}, {T0}, 'bench', 'bench'");
    g.exec("BEGIN");

    let mut active = Vec::new();
    let mut rows = Vec::with_capacity(USERS as usize);
    for i in 0..USERS {
        let id = BASE + i;
        let is_active = rng.gen_bool(0.98);
        if is_active {
            active.push(id);
        }
        let d = rng.gen_range(0..DEPARTMENTS);
        let (dept, div) = if rng.gen_bool(0.02) {
            ("NULL".to_string(), "NULL".to_string())
        } else {
            (
                format!("'{}'", dept(d)),
                format!("'{}'", div(d % DIVISIONS)),
            )
        };
        rows.push(format!(
            "({id}, 'u{id}', 'User {id}', {dept}, {div}, {}, {}, {audit})",
            rng.gen_range(0..6),
            g.b(is_active)
        ));
    }
    g.insert("users", "id, login_name, display_name, department, division, seniority_level, is_active, created_utc, updated_utc, created_by, updated_by", &rows);

    let rows: Vec<String> = (0..TEAMS)
        .map(|i| {
            let id = BASE + i;
            format!("({id}, 'team-{id}', {}, {audit})", g.b(!rng.gen_bool(0.02)))
        })
        .collect();
    g.insert(
        "teams",
        "id, team_name, is_active, created_utc, updated_utc, created_by, updated_by",
        &rows,
    );

    let mut rows = Vec::new();
    for i in 0..USERS {
        let mut teams = HashSet::new();
        for _ in 0..rng.gen_range(1..=3) {
            teams.insert(BASE + rng.gen_range(0..TEAMS));
        }
        for t in teams {
            rows.push(format!(
                "({}, {t}, {}, {T0})",
                BASE + i,
                g.b(!rng.gen_bool(0.05))
            ));
        }
    }
    g.insert(
        "user_teams",
        "user_id, team_id, is_active, assigned_utc",
        &rows,
    );

    let rows: Vec<String> = (0..ROLES)
        .map(|i| {
            let id = BASE + i;
            let min_seniority = if rng.gen_bool(0.2) { "3" } else { "NULL" };
            format!(
                "({id}, 'role-{id}', 'Generated role {id}', {}, {}, {}, {min_seniority}, {}, {audit})",
                rng.gen_range(1..=8) * 60,
                g.b(true),
                g.b(rng.gen_bool(0.8)),
                g.b(!rng.gen_bool(0.05)),
            )
        })
        .collect();
    g.insert("roles", "id, role_name, description, max_duration_minutes, requires_justification, requires_approval, auto_approve_min_seniority, is_enabled, created_utc, updated_utc, created_by, updated_by", &rows);

    let rows: Vec<String> = (0..DB_ROLES)
        .map(|i| format!("({}, {target_id}, 'dbrole_{i:03}', {audit})", BASE + i))
        .collect();
    g.insert(
        "db_roles",
        "id, target_id, db_role_name, created_utc, updated_utc, created_by, updated_by",
        &rows,
    );
    let mut rows = Vec::new();
    for i in 0..ROLES {
        let mut m = HashSet::new();
        for _ in 0..rng.gen_range(1..=3) {
            m.insert(BASE + rng.gen_range(0..DB_ROLES));
        }
        for d in m {
            rows.push(format!("({}, {d}, {})", BASE + i, g.b(true)));
        }
    }
    g.insert("role_db_roles", "role_id, db_role_id, is_required", &rows);

    let mut rows = Vec::new();
    let mut id = BASE;
    for (scope, n) in RULES {
        for _ in 0..n {
            let value = match scope {
                "user" => format!("'{}'", BASE + rng.gen_range(0..USERS)),
                "team" => format!("'{}'", BASE + rng.gen_range(0..TEAMS)),
                // Some rules spell the name in another case: eligibility ignores case.
                "department" => {
                    let d = dept(rng.gen_range(0..DEPARTMENTS));
                    let d = if rng.gen_bool(0.1) {
                        d.to_lowercase()
                    } else {
                        d
                    };
                    format!("'{d}'")
                }
                "division" => format!("'{}'", div(rng.gen_range(0..DIVISIONS))),
                _ => "NULL".into(),
            };
            let (from, to) = match rng.gen_range(0..20) {
                0 => ("NULL", PAST),
                1 => (FUTURE, "NULL"),
                _ => ("NULL", "NULL"),
            };
            rows.push(format!(
                "({id}, {}, '{scope}', {value}, {}, {from}, {to}, {}, {audit})",
                BASE + rng.gen_range(0..ROLES),
                g.b(rng.gen_bool(0.85)),
                rng.gen_range(0..4),
            ));
            id += 1;
        }
    }
    g.insert("role_eligibility_rules", "id, role_id, scope_type, scope_value, can_request, valid_from_utc, valid_to_utc, priority, created_utc, updated_utc, created_by, updated_by", &rows);

    let mut seen = HashSet::new();
    let mut rows = Vec::new();
    while rows.len() < OVERRIDES {
        let (u, r) = (
            BASE + rng.gen_range(0..USERS),
            BASE + rng.gen_range(0..ROLES),
        );
        if seen.insert((u, r)) {
            let to = if rng.gen_bool(0.1) { PAST } else { "NULL" };
            rows.push(format!(
                "({u}, {r}, {}, NULL, {to}, 0, {audit})",
                g.b(rng.gen_bool(0.7))
            ));
        }
    }
    g.insert("user_role_eligibility", "user_id, role_id, can_request, valid_from_utc, valid_to_utc, priority, created_utc, updated_utc, created_by, updated_by", &rows);

    if g.pg {
        for t in [
            "users",
            "teams",
            "roles",
            "db_roles",
            "role_eligibility_rules",
        ] {
            g.exec(&format!(
                "SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t}))"
            ));
        }
    }
    g.exec("COMMIT");
    g.exec("ANALYZE");
    active
}

fn main() {
    let (backend, args) = jitea_tests::bench::args();
    let requests: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(500);
    let env = [("JITEA_JWT_SECRET", BENCH_SECRET), ("JITEA_LOG", "error")];
    println!(
        "requestable-roles benchmark ({backend:?}): {USERS} users, {ROLES} roles, {} rules, {TEAMS} teams, {OVERRIDES} overrides",
        RULES.iter().map(|(_, n)| n).sum::<usize>()
    );

    let s = Server::start_with(backend, &env);
    let admin = s.admin_token();
    let target = s
        .post(
            "/api/v1/targets",
            &admin,
            json!({"name": "bench", "kind": "noop"}),
        )
        .expect(201)
        .id();

    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let conn = rt
        .block_on(AnyConnection::connect(&s.db.url))
        .expect("connect");
    let mut g = Gen {
        conn,
        rt,
        pg: backend == Backend::Postgres,
    };
    let mut rng = StdRng::seed_from_u64(9);
    let active = generate(&mut g, target, &mut rng);
    drop(g);
    println!(
        "generated the organisation in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // A cold server on the generated data.
    let s = s.restart_with(&env);
    let sample: Vec<i64> = (0..requests + 20)
        .map(|_| active[rng.gen_range(0..active.len())])
        .collect();
    let mut lat_us = Vec::new();
    let (mut roles, mut bytes) = (0usize, 0usize);
    let first = Instant::now();
    let r = s
        .get(
            "/api/v1/me/requestable-roles",
            &token_for(BENCH_SECRET, sample[0]),
        )
        .expect(200);
    println!("first request (cold): {} ms", first.elapsed().as_millis());
    drop(r);
    for (i, uid) in sample.iter().enumerate() {
        let token = token_for(BENCH_SECRET, *uid);
        let t = Instant::now();
        let r = s.get("/api/v1/me/requestable-roles", &token).expect(200);
        let us = t.elapsed().as_micros() as u64;
        if i >= 20 {
            lat_us.push(us);
            roles += r.body.as_array().map_or(0, Vec::len);
            bytes += r.text.len();
        }
    }
    lat_us.sort_unstable();
    let ms = |us: u64| us as f64 / 1000.0;
    println!(
        "GET /me/requestable-roles  n={}  p50={:.1} ms  p90={:.1} ms  p99={:.1} ms  max={:.1} ms  (mean {:.1} roles, {:.1} KB a response)",
        lat_us.len(),
        ms(percentile(&lat_us, 50.0)),
        ms(percentile(&lat_us, 90.0)),
        ms(percentile(&lat_us, 99.0)),
        ms(lat_us.last().copied().unwrap_or(0)),
        roles as f64 / lat_us.len() as f64,
        bytes as f64 / lat_us.len() as f64 / 1024.0,
    );
    let (hwm, rss) = memory_mb(s.pid());
    println!("server memory: VmHWM {hwm:.0} MB, VmRSS {rss:.0} MB");
}
