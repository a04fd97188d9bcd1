//! Secrets at rest and in headers: the database alone holds no usable signing key, keys have
//! ids and rotate without ending live tokens, target URLs come only from `JITEA_TARGET_*`
//! variables, Secure cookies and HSTS follow configuration (never a client header alone), and
//! login names are unique regardless of case.

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jitea_tests::*;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};

const PW: &str = "a-long-test-password";

fn stored_keys(db: &TestDb) -> Vec<(String, String)> {
    use sqlx_oldapi::{Connection, Row};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = db.url.clone();
    rt.block_on(async move {
        let mut c = sqlx_oldapi::AnyConnection::connect(&url).await.unwrap();
        sqlx_oldapi::query("SELECT kid, secret FROM signing_keys ORDER BY id")
            .fetch_all(&mut c)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get::<String, _>("kid"), r.get::<String, _>("secret")))
            .collect()
    })
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

/// A token for `user_id` with the given `kid`, signed with `secret`.
fn forge(user_id: i64, kid: &str, secret: &[u8], epoch: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": user_id.to_string(), "login": "root", "iss": "jitea", "aud": "jitea-api",
        "iat": now, "exp": now + 3600, "jti": "forged", "sep": epoch,
    });
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some(kid.to_string());
    encode(&h, &claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn stored_key_material_cannot_sign_tokens(backend: Backend) {
    let s = Server::start(backend);
    let admin = s.admin_token();
    let me = s.get("/api/v1/me", &admin).expect(200);
    let admin_id = me.body["id"].as_i64().unwrap();
    let keys = stored_keys(&s.db);
    assert!(!keys.is_empty());
    for (kid, secret) in &keys {
        assert!(secret.starts_with("v1:"), "stored key is sealed: {secret}");
        let raw = STANDARD.decode(secret.trim_start_matches("v1:")).unwrap();
        for candidate in [secret.as_bytes().to_vec(), raw.clone(), raw[12..].to_vec()] {
            for epoch in 0..3 {
                let t = forge(admin_id, kid, &candidate, epoch);
                let r = s.get("/api/v1/me", &t);
                assert_eq!(
                    r.status, 401,
                    "a token signed with stored material was accepted"
                );
                assert_eq!(r.code(), "invalid_token");
            }
        }
    }
    // A token naming an unknown key is refused too.
    let t = forge(
        admin_id,
        "k-0000000000000000",
        b"0123456789abcdef0123456789abcdef",
        1,
    );
    s.get("/api/v1/me", &t).expect_error(401, "invalid_token");
    // And the real token names a stored key.
    assert!(keys.iter().any(|(kid, _)| *kid == kid_of(&admin)));
}
on_each_backend!(stored_key_material_cannot_sign_tokens);

fn rotated_keys_sign_new_tokens_and_old_ones_stay_valid(backend: Backend) {
    let s = Server::start(backend);
    let old = s.admin_token();
    let old_kid = kid_of(&old);
    let out = s.cli(&["rotate-signing-key"]);
    assert!(out.contains("new signing key"), "{out}");
    std::thread::sleep(Duration::from_millis(1200));
    let new = s.admin_token();
    let new_kid = kid_of(&new);
    assert_ne!(old_kid, new_kid, "new tokens use the new key");
    s.get("/api/v1/me", &old).expect(200);
    s.get("/api/v1/me", &new).expect(200);
    // After a restart (keys loaded from the database) both still verify.
    let s = s.restart_with(&[]);
    s.get("/api/v1/me", &old).expect(200);
    s.get("/api/v1/me", &new).expect(200);
    assert_eq!(kid_of(&s.admin_token()), new_kid);
    // A process with another secret key cannot open the stored keys: it refuses to start,
    // naming the setting every process must share.
    let out =
        s.db.command()
            .env(
                "JITEA_SECRET_KEY",
                "a-different-secret-key-0123456789abcdef",
            )
            .arg("expire")
            .output()
            .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("JITEA_SECRET_KEY"), "{err}");
}
on_each_backend!(rotated_keys_sign_new_tokens_and_old_ones_stay_valid);

#[test]
fn a_rotated_key_is_picked_up_by_another_process() {
    let a = Server::start(Backend::Postgres);
    let b = Server::start_on(a.db.shared());
    let t_a = a.admin_token();
    a.cli(&["rotate-signing-key"]);
    std::thread::sleep(Duration::from_millis(1200));
    let t_b = b.admin_token();
    assert_ne!(kid_of(&t_a), kid_of(&t_b));
    // Process A has not signed in since the rotation; it still accepts B's new-key token.
    a.get("/api/v1/me", &t_b).expect(200);
    b.get("/api/v1/me", &t_a).expect(200);
}

#[test]
fn zero_config_keeps_the_key_encryption_key_in_a_private_file() {
    let dir = std::env::temp_dir().join(format!(
        "jitea-keyfile-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let d = dir.to_string_lossy().to_string();
    let s = Server::start_with(
        Backend::Sqlite,
        &[("JITEA_SECRET_KEY", ""), ("JITEA_DATA_DIR", &d)],
    );
    let path = dir.join("secret.key");
    assert!(path.exists(), "no key file at {}", path.display());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "key file mode {mode:o}");
    }
    let t = s.admin_token();
    let file = std::fs::read_to_string(&path).unwrap();
    for (_, sealed) in stored_keys(&s.db) {
        assert!(!sealed.contains(file.trim()));
    }
    // The same file after a restart: the same keys.
    let s = s.restart_with(&[("JITEA_SECRET_KEY", ""), ("JITEA_DATA_DIR", &d)]);
    s.get("/api/v1/me", &t).expect(200);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn target_urls_come_only_from_jitea_target_variables() {
    let s = Server::start(Backend::Sqlite);
    let admin = s.admin_token();
    for env in [
        "HOME",
        "PATH",
        "JITEA_SECRET_KEY",
        "JITEA_DATABASE_URL",
        "JITEA_TARGET_",
    ] {
        let r = s.post(
            "/api/v1/targets",
            &admin,
            json!({"name": "t", "kind": "postgres", "connection_url_env": env}),
        );
        r.expect_error(400, "env_name_not_allowed");
    }
    let id = s
        .post(
            "/api/v1/targets",
            &admin,
            json!({"name": "ok", "kind": "postgres", "connection_url_env": "JITEA_TARGET_OK_URL"}),
        )
        .expect(201)
        .id();
    s.patch(
        &format!("/api/v1/targets/{id}"),
        &admin,
        json!({"connection_url_env": "HOME"}),
    )
    .expect_error(400, "env_name_not_allowed");
}

fn session_cookie(r: &RawResp) -> String {
    r.header("set-cookie").expect("set-cookie").to_string()
}

fn sign_in(s: &Server, headers: &[(&str, &str)]) -> RawResp {
    let r = s.with_headers(
        "POST",
        "/api/v1/auth/session",
        headers,
        Some(&json!({"login_name": ADMIN_LOGIN, "password": ADMIN_PASSWORD})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    r
}

#[test]
fn secure_cookie_and_hsts_follow_configuration_not_client_headers() {
    let s = Server::start(Backend::Sqlite);
    let r = sign_in(&s, &[("X-Forwarded-Proto", "https")]);
    assert!(
        !session_cookie(&r).contains("Secure"),
        "{}",
        session_cookie(&r)
    );
    assert!(r.header("strict-transport-security").is_none());
    drop(s);

    let s = Server::start_with(
        Backend::Sqlite,
        &[("JITEA_PUBLIC_URL", "https://jitea.example")],
    );
    let r = sign_in(&s, &[]);
    assert!(
        session_cookie(&r).contains("Secure"),
        "{}",
        session_cookie(&r)
    );
    assert!(r
        .header("strict-transport-security")
        .is_some_and(|v| v.contains("max-age=")));
    drop(s);

    let s = Server::start_with(Backend::Sqlite, &[("JITEA_TRUST_PROXY", "true")]);
    let r = sign_in(&s, &[("X-Forwarded-Proto", "https")]);
    assert!(session_cookie(&r).contains("Secure"));
    assert!(r.header("strict-transport-security").is_some());
    let r = sign_in(&s, &[]);
    assert!(!session_cookie(&r).contains("Secure"));
}

fn login_names_are_unique_regardless_of_case(backend: Backend) {
    let s = Server::start(backend);
    let admin = s.admin_token();
    s.create_user(&admin, json!({"login_name": "alice", "password": PW}));
    s.post(
        "/api/v1/users",
        &admin,
        json!({"login_name": "Alice", "password": PW}),
    )
    .expect_error(409, "login_name_taken");
    s.post("/api/v1/users", &admin, json!({"login_name": "ALICE"}))
        .expect_error(409, "login_name_taken");
    // Sign-in matches case-insensitively, and the token is the same user's.
    let t = s.login("ALICE", PW);
    let me = s.get("/api/v1/me", &t).expect(200);
    assert_eq!(me.body["login_name"], "alice");
}
on_each_backend!(login_names_are_unique_regardless_of_case);

#[test]
fn forged_header_tricks_are_refused() {
    let s = Server::start(Backend::Sqlite);
    let admin = s.admin_token();
    let parts: Vec<&str> = admin.split('.').collect();
    // The real signature under a header that names no key, or another key.
    for header in [
        r#"{"alg":"HS256","typ":"JWT"}"#.to_string(),
        r#"{"alg":"HS256","typ":"JWT","kid":"k-unknown"}"#.to_string(),
    ] {
        let h = URL_SAFE_NO_PAD.encode(header);
        let t = format!("{h}.{}.{}", parts[1], parts[2]);
        s.get("/api/v1/me", &t).expect_error(401, "invalid_token");
    }
}

#[test]
fn processes_starting_together_on_a_new_database_agree_on_one_key() {
    let db = TestDb::new(Backend::Postgres);
    let shared = db.shared();
    let other = std::thread::spawn(move || Server::start_on(shared));
    let a = Server::start_on(db);
    let b = other.join().unwrap();
    assert_eq!(stored_keys(&a.db).len(), 1, "one initial key");
    let ta = a.admin_token();
    let tb = b.admin_token();
    assert_eq!(kid_of(&ta), kid_of(&tb));
    b.get("/api/v1/me", &ta).expect(200);
    a.get("/api/v1/me", &tb).expect(200);
}
