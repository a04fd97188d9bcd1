//! Where the token signing keys come from, and how they are kept and rotated.
//!
//! * `JITEA_JWT_SECRET`, or `JITEA_JWT_SECRET_FILE` (one secret per line, the first signs and
//!   the others still verify): keys given as configuration, never stored.
//! * Otherwise keys are generated, each with a random `kid`, and stored in `signing_keys`
//!   encrypted (ChaCha20-Poly1305, the `kid` as associated data) under a key-encryption key
//!   from `JITEA_SECRET_KEY`, `JITEA_SECRET_KEY_FILE`, or, when neither is set, a file
//!   `secret.key` in the data directory created with mode 0600. The database alone never
//!   holds a usable signing key. Every process on one database must use the same secret key.
//! * `jitea rotate-signing-key` retires the current key and adds a new one: new tokens use the
//!   new key (processes pick it up at their next sign-in or when they see a token with the
//!   new `kid`), and tokens signed with a retired key verify until they expire.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::token::{KeyMaterial, TokenKeys};
use crate::config::Config;
use crate::store::{credentials, Store};

/// Name of the generated key-encryption key file in the data directory.
pub const SECRET_KEY_FILE_NAME: &str = "secret.key";
/// The shortest accepted key-encryption key or signing secret.
pub const MIN_SECRET_LEN: usize = 32;
const SEALED_PREFIX: &str = "v1:";

/// The key-encryption key: signing keys are stored sealed under it.
#[derive(Clone)]
pub struct Kek([u8; 32]);

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek(..)")
    }
}

impl Kek {
    /// Derives the 256-bit key from configured text (at least 32 characters of random).
    pub fn from_material(material: &str) -> Result<Self, String> {
        let m = material.trim();
        if m.len() < MIN_SECRET_LEN {
            return Err(format!("must be at least {MIN_SECRET_LEN} characters"));
        }
        let mut h = Sha256::new();
        h.update(b"jitea-kek-v1:");
        h.update(m.as_bytes());
        Ok(Self(h.finalize().into()))
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(&Key::from(self.0))
    }

    /// `v1:` + base64(nonce ‖ ciphertext), bound to `kid`.
    pub fn seal(&self, kid: &str, secret: &[u8]) -> String {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher()
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: secret,
                    aad: kid.as_bytes(),
                },
            )
            .expect("ChaCha20-Poly1305 encryption in memory cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(out))
    }

    /// The secret sealed for `kid`, or `None` if it was sealed under another key or altered.
    pub fn open(&self, kid: &str, sealed: &str) -> Option<Vec<u8>> {
        let raw = STANDARD.decode(sealed.strip_prefix(SEALED_PREFIX)?).ok()?;
        if raw.len() < 12 + 16 {
            return None;
        }
        let (nonce, ct) = raw.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        self.cipher()
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ct,
                    aad: kid.as_bytes(),
                },
            )
            .ok()
    }
}

/// Where this process gets its signing keys.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// Given as configuration; the first signs.
    Static(Vec<Vec<u8>>),
    /// Generated, stored sealed under this key.
    Managed(Kek),
}

fn read_file(setting: &str, path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(
            "configuration error: {setting}: cannot read {}: {e}",
            path.display()
        )
    })
}

/// Reads the key settings (and creates the data directory's key file when nothing is set).
pub fn key_source(config: &Config) -> anyhow::Result<KeySource> {
    if let Some(s) = &config.jwt_secret {
        return Ok(KeySource::Static(vec![s.as_bytes().to_vec()]));
    }
    if let Some(p) = &config.jwt_secret_file {
        let text = read_file("JITEA_JWT_SECRET_FILE", p)?;
        let secrets: Vec<Vec<u8>> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| l.as_bytes().to_vec())
            .collect();
        if secrets.is_empty() || secrets.iter().any(|s| s.len() < MIN_SECRET_LEN) {
            anyhow::bail!(
                "configuration error: JITEA_JWT_SECRET_FILE: expected one secret of at least {MIN_SECRET_LEN} characters per line"
            );
        }
        return Ok(KeySource::Static(secrets));
    }
    if let Some(s) = &config.secret_key {
        let kek = Kek::from_material(s)
            .map_err(|e| anyhow::anyhow!("configuration error: JITEA_SECRET_KEY: {e}"))?;
        return Ok(KeySource::Managed(kek));
    }
    if let Some(p) = &config.secret_key_file {
        let kek = Kek::from_material(&read_file("JITEA_SECRET_KEY_FILE", p)?)
            .map_err(|e| anyhow::anyhow!("configuration error: JITEA_SECRET_KEY_FILE: {e}"))?;
        return Ok(KeySource::Managed(kek));
    }
    let path = config.data_dir.join(SECRET_KEY_FILE_NAME);
    if !config.is_sqlite() {
        tracing::warn!(
            file = %path.display(),
            "no JITEA_SECRET_KEY set: using a key file in the data directory; every process on this database needs the same JITEA_SECRET_KEY (or JITEA_SECRET_KEY_FILE)"
        );
    }
    let material = ensure_key_file(&path)?;
    let kek = Kek::from_material(&material)
        .map_err(|e| anyhow::anyhow!("configuration error: {}: {e}", path.display()))?;
    Ok(KeySource::Managed(kek))
}

/// Reads the key file, creating it (random, mode 0600) if it does not exist.
pub fn ensure_key_file(path: &Path) -> anyhow::Result<String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            anyhow::anyhow!(
                "configuration error: JITEA_DATA_DIR: cannot create {}: {e}",
                dir.display()
            )
        })?;
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(mut f) => {
            f.write_all(format!("{}\n", hex::encode(bytes)).as_bytes())
                .and_then(|_| f.sync_all())
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            tracing::info!(file = %path.display(), "created the secret key file");
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                if let Ok(m) = std::fs::metadata(path) {
                    if m.permissions().mode() & 0o077 != 0 {
                        tracing::warn!(file = %path.display(), "the secret key file is readable by others; chmod 600 it");
                    }
                }
            }
        }
        Err(e) => anyhow::bail!("cannot create {}: {e}", path.display()),
    }
    read_file("JITEA_DATA_DIR", path)
}

/// Stored keys that may still verify a live token, opened; the newest current key first.
async fn managed_keys(
    store: &Store,
    kek: &Kek,
    ttl: Duration,
    now: DateTime<Utc>,
    create: bool,
) -> anyhow::Result<Vec<KeyMaterial>> {
    let mut rows = {
        let mut c = store.conn().await?;
        credentials::signing_keys(&mut crate::store::Db::new(&mut c, store.dialect())).await?
    };
    if create && !rows.iter().any(|r| r.retired.is_none()) {
        // The first key has a fixed id, so processes starting together on a new database
        // agree on one key: the loser's insert conflicts and it reads the winner's.
        let kid = if rows.is_empty() {
            "k-initial".to_string()
        } else {
            random_kid()
        };
        let mut tx = store.begin_write().await?;
        match insert_new_key(&mut tx.db(), kek, &kid, now).await {
            Ok(()) => tx.commit().await?,
            Err(crate::store::StoreError::Conflict) => drop(tx),
            Err(e) => return Err(e.into()),
        }
        let mut c = store.conn().await?;
        rows =
            credentials::signing_keys(&mut crate::store::Db::new(&mut c, store.dialect())).await?;
    }
    // Current keys first (newest first), then retired ones still inside a token lifetime.
    rows.sort_by_key(|r| (r.retired.is_some(), -r.id));
    let grace = ttl + Duration::minutes(1);
    let mut out = Vec::new();
    for r in rows {
        if matches!(r.retired, Some(t) if t + grace <= now) {
            continue;
        }
        let secret = kek.open(&r.kid, &r.sealed).ok_or_else(|| {
            anyhow::anyhow!(
                "configuration error: JITEA_SECRET_KEY: it does not open signing key `{}` stored in the database; every process on one database must use the same JITEA_SECRET_KEY (or JITEA_SECRET_KEY_FILE)",
                r.kid
            )
        })?;
        out.push(KeyMaterial { kid: r.kid, secret });
    }
    if out.is_empty() {
        anyhow::bail!("no current signing key; run `jitea rotate-signing-key`");
    }
    Ok(out)
}

fn random_kid() -> String {
    let mut kid = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut kid);
    format!("k-{}", hex::encode(kid))
}

async fn insert_new_key(
    db: &mut crate::store::Db<'_>,
    kek: &Kek,
    kid: &str,
    now: DateTime<Utc>,
) -> Result<(), crate::store::StoreError> {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    credentials::insert_signing_key(db, kid, &kek.seal(kid, &secret), now).await
}

/// The key ring for this process (creating the first stored key if needed).
pub async fn load(
    store: &Store,
    source: &KeySource,
    ttl: Duration,
    now: DateTime<Utc>,
) -> anyhow::Result<TokenKeys> {
    match source {
        KeySource::Static(secrets) => {
            let keys: Vec<KeyMaterial> = secrets
                .iter()
                .map(|s| KeyMaterial {
                    kid: super::token::static_kid(s),
                    secret: s.clone(),
                })
                .collect();
            TokenKeys::from_keys(&keys, ttl).ok_or_else(|| anyhow::anyhow!("no signing key"))
        }
        KeySource::Managed(kek) => {
            let keys = managed_keys(store, kek, ttl, now, true).await?;
            let ring = TokenKeys::from_keys(&keys, ttl)
                .ok_or_else(|| anyhow::anyhow!("no signing key"))?;
            Ok(ring.with_kek(kek.clone()))
        }
    }
}

/// Retires the current stored key and adds a new one; returns the new `kid`.
pub async fn rotate(
    store: &Store,
    source: &KeySource,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let KeySource::Managed(kek) = source else {
        anyhow::bail!(
            "the signing key is given by JITEA_JWT_SECRET / JITEA_JWT_SECRET_FILE: rotate by putting a new secret first in JITEA_JWT_SECRET_FILE (keep the old one on the next line until its tokens expire)"
        );
    };
    let mut tx = store.begin_write().await?;
    let mut db = tx.db();
    credentials::retire_signing_keys(&mut db, now).await?;
    let kid = random_kid();
    insert_new_key(&mut db, kek, &kid, now).await?;
    crate::store::audit::write(
        &mut db,
        crate::store::audit::Event::new(
            "signing_key_rotated",
            &crate::store::audit::Actor::system("cli"),
        )
        .details(serde_json::json!({"kid": kid})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(kid)
}

/// The shortest time between two reloads of the stored keys.
const RELOAD_GAP: std::time::Duration = std::time::Duration::from_millis(250);

/// Reloads stored keys (another process may have rotated), at most every 250 ms. With
/// `unknown_kid` (a token named a key this process does not know), a reload that is too soon
/// waits for the gap instead of being skipped, unless the key turned up meanwhile.
pub async fn refresh(
    keys: &TokenKeys,
    store: &Store,
    now: DateTime<Utc>,
    unknown_kid: Option<&str>,
) {
    let Some((kek, last)) = keys.kek() else {
        return;
    };
    let since = |last: &RefreshMark| {
        last.lock()
            .ok()
            .and_then(|g| g.map(|t: Instant| t.elapsed()))
    };
    if let (Some(kid), Some(e)) = (unknown_kid, since(&last)) {
        if e < RELOAD_GAP {
            tokio::time::sleep(RELOAD_GAP - e).await;
            if keys.knows(kid) {
                return;
            }
        }
    }
    {
        let Ok(mut g) = last.lock() else { return };
        if matches!(*g, Some(t) if t.elapsed() < RELOAD_GAP) {
            return;
        }
        *g = Some(Instant::now());
    }
    match managed_keys(store, &kek, keys.ttl(), now, false).await {
        Ok(k) => keys.replace(&k),
        Err(e) => tracing::warn!(error = %e, "reloading signing keys failed"),
    }
}

/// Shared handle on when the ring was last reloaded.
pub type RefreshMark = Arc<Mutex<Option<Instant>>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_the_same_kek_and_kid() {
        let kek = Kek::from_material("0123456789abcdef0123456789abcdef").unwrap();
        let sealed = kek.seal("k-1", b"signing secret");
        assert!(!sealed.contains("signing secret"));
        assert_eq!(
            kek.open("k-1", &sealed).as_deref(),
            Some(&b"signing secret"[..])
        );
        assert_eq!(kek.open("k-2", &sealed), None);
        let other = Kek::from_material("another-key-another-key-another-key").unwrap();
        assert_eq!(other.open("k-1", &sealed), None);
        assert!(Kek::from_material("short").is_err());
    }
}
