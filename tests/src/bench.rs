//! Helpers shared by the benchmark programs in `tests/benches/` (figures, not assertions).

use chrono::Utc;
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::json;

/// The signing secret benchmark servers are started with (`JITEA_JWT_SECRET`).
pub const BENCH_SECRET: &str = "benchmark-secret-benchmark-secret-0123";

/// A token as the server signs them with a configured secret: the key id derived from the
/// secret, a token id, and the session epoch of a user who never signed in (0). Lets a
/// benchmark act as any of thousands of generated users without signing each one in.
pub fn token_for(secret: &str, user_id: i64) -> String {
    use sha2::Digest;
    let now = Utc::now().timestamp();
    let claims = json!({"sub": user_id.to_string(), "login": "bench", "iss": "jitea", "aud": "jitea-api", "iat": now, "exp": now + 3600, "jti": format!("bench-{user_id}"), "sep": 0});
    let mut h = sha2::Sha256::new();
    h.update(b"jitea-kid:");
    h.update(secret.as_bytes());
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(format!("s-{}", &hex[..16]));
    encode(
        &header,
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

/// A benchmark program's arguments (what follows `cargo bench … --`): the store backend
/// first (`sqlite`, the default, or `postgres`), then the rest for the program to read.
pub fn args() -> (crate::Backend, Vec<String>) {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let backend = match args.first().map(String::as_str) {
        None | Some("sqlite") => crate::Backend::Sqlite,
        Some("postgres") => crate::Backend::Postgres,
        Some(other) => panic!("unknown backend {other} (sqlite|postgres)"),
    };
    (backend, args.into_iter().skip(1).collect())
}

/// The `p`th percentile (nearest rank on the sorted sample).
pub fn percentile<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let idx = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// `VmHWM` (peak) and `VmRSS` (current) of a process in MB, from `/proc/PID/status`.
pub fn memory_mb(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}
