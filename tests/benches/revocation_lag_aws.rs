//! Revocation lag on an `aws_sso` target (issue 12): N grants of one permission set on one
//! account in moto's IAM Identity Center, all ending in the same instant. An observer using
//! AWS's own Python SDK (`tests/aws_bench.py`, boto3) counts the assignments every ~5 ms and
//! records when each disappears; the program prints p50/p99/max of (assignment gone −
//! valid_to). Prints figures; asserts nothing about time. Run with
//! `scripts/bench_revocation.sh aws_sso N`.

use std::process::Command;
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use chrono::{DateTime, Utc};
use jitea_tests::aws::{bin, Moto, REGION};
use jitea_tests::bench::{percentile, token_for, BENCH_SECRET};
use jitea_tests::*;

fn repo_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repository root")
        .to_path_buf()
}

fn helper(args: &[&str]) -> Value {
    let out = Command::new(bin().join("python"))
        .arg(repo_root().join("tests/aws_bench.py"))
        .args(args)
        .output()
        .expect("run tests/aws_bench.py");
    assert!(
        out.status.success(),
        "aws_bench.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("aws_bench.py printed JSON")
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100);
    println!("revocation lag benchmark: {n} grants on an aws_sso target (moto), all ending in the same instant");
    let moto = Moto::start();
    let aws = helper(&["setup", &moto.url, &n.to_string()]);
    let mut env: Vec<(&str, String)> = moto.env();
    env.push(("JITEA_JWT_SECRET", BENCH_SECRET.into()));
    env.push(("JITEA_LOG", "error".into()));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let s = Arc::new(Server::start_with(Backend::Postgres, &pairs));
    let admin = s.admin_token();
    let target = s.make_target(
        &admin,
        json!({"name": "aws", "kind": "aws_sso", "settings": {
            "region": REGION, "instance_arn": aws["instance"], "identity_store_id": aws["store"]}}),
    );
    let ent = s
        .post(
            "/api/v1/db-roles",
            &admin,
            json!({"target_id": target, "ref": {"account_id": aws["account"], "permission_set_arn": aws["ps"]}}),
        )
        .expect(201)
        .id();
    let role = s.open_role(&admin, "Bench", 600, &[ent]);

    let started = Instant::now();
    let workers = 8;
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let (s, admin) = (s.clone(), admin.clone());
            thread::spawn(move || {
                for i in (w..n).step_by(workers) {
                    let uid = s.create_user(&admin, json!({"login_name": format!("b{i}")}));
                    let r = s
                        .post(
                            "/api/v1/requests",
                            &token_for(BENCH_SECRET, uid),
                            json!({"role_id": role, "requested_duration_minutes": 600}),
                        )
                        .expect(201);
                    assert_eq!(r.body["status"], "auto_approved");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a worker");
    }
    let all_active = s.eventually(120.0, || {
        s.get("/api/v1/grants?status=provisioning&limit=1", &admin)
            .body["items"]
            .as_array()
            .is_some_and(|a| a.is_empty())
    });
    assert!(all_active, "grants still provisioning after 120 s");
    println!(
        "issued {n} grants (account assignments) in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let valid_to: DateTime<Utc> = Utc::now() + chrono::Duration::seconds(4);
    s.db.exec(&format!(
        "UPDATE grants SET valid_to_utc = '{}'",
        valid_to.to_rfc3339()
    ));
    let gone = helper(&[
        "observe",
        &moto.url,
        aws["instance"].as_str().unwrap_or_default(),
        aws["account"].as_str().unwrap_or_default(),
        aws["ps"].as_str().unwrap_or_default(),
        &n.to_string(),
    ]);
    let mut lags: Vec<i64> = gone
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_i64)
        .map(|ms| ms - valid_to.timestamp_millis())
        .collect();
    lags.sort_unstable();
    let early = lags.iter().filter(|l| **l < 0).count();
    println!(
        "assignments removed: {} of {n} (removed before valid_to: {early})",
        lags.len()
    );
    println!(
        "{:<34} n={:<5} p50={:>5} ms  p99={:>5} ms  max={:>5} ms",
        "assignment gone - valid_to",
        lags.len(),
        percentile(&lags, 50.0),
        percentile(&lags, 99.0),
        lags.last().copied().unwrap_or(0)
    );
}
