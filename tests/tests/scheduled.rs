//! Scheduled access, black-box: a request may name when its grant starts (at most 7 days
//! ahead); once approved the grant waits, holds nothing on the target before its start, is
//! provisioned by the engine at that instant, and lasts the requested duration from then.

use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use jitea_tests::targets::{PgTarget, PG_ADMIN_URL};
use jitea_tests::*;

const PW: &str = "a-long-test-password";

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

fn start_in(d: TimeDelta) -> String {
    (Utc::now() + d).to_rfc3339()
}

on_each_backend!(a_scheduled_grant_starts_at_its_time_and_not_before);
fn a_scheduled_grant_starts_at_its_time_and_not_before(backend: Backend) {
    let s = Server::start(backend);
    let admin = s.admin_token();
    let target = s.noop_target(&admin, "t");
    let dbr = s.make_db_role(&admin, target, "reader");
    let role = s.open_role(&admin, "Later", 60, &[dbr]);
    s.create_user(&admin, json!({"login_name": "ivy", "password": PW}));
    let token = s.login("ivy", PW);

    // Refused: too far ahead, or in the past.
    for (start, code) in [
        (start_in(TimeDelta::days(8)), "start_too_far_ahead"),
        (start_in(TimeDelta::minutes(-10)), "start_in_past"),
    ] {
        let e = s
            .post(
                "/api/v1/requests",
                &token,
                json!({"role_id": role, "requested_duration_minutes": 30, "start_utc": start}),
            )
            .expect_error(400, "validation_failed");
        assert_eq!(
            e.body["error"]["details"]["fields"][0]["field"],
            "start_utc"
        );
        assert_eq!(e.body["error"]["details"]["fields"][0]["code"], code);
    }

    // Microseconds: what every store keeps.
    let start = (Utc::now() + TimeDelta::milliseconds(2500)).trunc_subsecs(6);
    let r = s
        .post(
            "/api/v1/requests",
            &token,
            json!({"role_id": role, "requested_duration_minutes": 30, "start_utc": start.to_rfc3339()}),
        )
        .expect(201)
        .body;
    assert_eq!(r["status"], "auto_approved");
    assert_eq!(at(&r["start_utc"]), start);
    let gid = r["grant_id"].as_i64().unwrap();
    let g = s
        .get(&format!("/api/v1/grants/{gid}"), &token)
        .expect(200)
        .body;
    assert_eq!(at(&g["valid_from_utc"]), start);
    assert_eq!(at(&g["valid_to_utc"]), start + TimeDelta::minutes(30));

    // Before the start: waiting, nothing added.
    while Utc::now() < start - TimeDelta::milliseconds(300) {
        let g = s
            .get(&format!("/api/v1/grants/{gid}"), &token)
            .expect(200)
            .body;
        assert_eq!(g["status"], "provisioning", "{g}");
        assert_eq!(g["assignments"][0]["state"], "pending", "{g}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // At the start: active within a second.
    let mut g = Value::Null;
    let active = s.eventually(5.0, || {
        g = s
            .get(&format!("/api/v1/grants/{gid}"), &token)
            .expect(200)
            .body;
        g["status"] == "active"
    });
    assert!(active, "{g}");
    let added = at(&g["assignments"][0]["add_attempt_utc"]);
    assert!(added >= start, "added {added} before the start {start}");
    assert!(
        added - start < TimeDelta::seconds(1),
        "added {} ms after the start",
        (added - start).num_milliseconds()
    );
}

/// On a real PostgreSQL target: the membership is absent until the start and present within a
/// second of it.
#[test]
fn a_scheduled_membership_appears_on_the_target_at_its_start() {
    let mut pg = PgTarget::new();
    let (reader, login) = (pg.name("reader"), pg.name("later"));
    pg.exec(&format!("CREATE ROLE \"{reader}\" NOLOGIN"));
    pg.exec(&format!("CREATE ROLE \"{login}\" LOGIN"));
    let s = Server::start_with(Backend::Sqlite, &[("JITEA_TARGET_SCHED_PG", PG_ADMIN_URL)]);
    let admin = s.admin_token();
    let target = s.make_target(
        &admin,
        json!({"name": "pg", "kind": "postgres", "connection_url_env": "JITEA_TARGET_SCHED_PG"}),
    );
    let dbr = s.make_db_role(&admin, target, &reader);
    let role = s.open_role(&admin, "Live later", 60, &[dbr]);
    s.create_user(&admin, json!({"login_name": login, "password": PW}));
    let token = s.login(&login, PW);
    let delay = Duration::from_millis(2500);
    let start = Utc::now() + TimeDelta::from_std(delay).unwrap();
    let t0 = Instant::now();
    s.post(
        "/api/v1/requests",
        &token,
        json!({"role_id": role, "requested_duration_minutes": 30, "start_utc": start.to_rfc3339()}),
    )
    .expect(201);
    while t0.elapsed() + Duration::from_millis(200) < delay {
        assert!(
            !pg.members(&reader).contains(&login),
            "member {} ms before the start",
            (delay - t0.elapsed()).as_millis()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    while !pg.members(&reader).contains(&login) {
        assert!(
            t0.elapsed() < delay + Duration::from_secs(1),
            "not a member a second after the start"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(t0.elapsed() + Duration::from_millis(50) >= delay);
}
