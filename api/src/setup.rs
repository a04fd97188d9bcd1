//! Start-up tasks: open and migrate the store, load the signing key, create the bootstrap
//! admin, and build the shared state.

use std::sync::Arc;

use chrono::Duration;
use jitea_shared::UserCreate;
use serde_json::json;

use crate::auth::{keyring, password, TokenKeys};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::provision::Connectors;
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::{credentials, migrate, sessions, users, Store};

/// Connects and migrates. SQLite's data directory is created first.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    if config.is_sqlite() {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            anyhow::anyhow!(
                "configuration error: JITEA_DATA_DIR: cannot create {}: {e}",
                config.data_dir.display()
            )
        })?;
    }
    let store = Store::connect(&config.database_url).await?;
    let applied = migrate::run(&store).await?;
    if !applied.is_empty() {
        tracing::info!(
            ?applied,
            dialect = store.dialect().name(),
            "applied migrations"
        );
    }
    Ok(store)
}

/// The token signing keys: from configuration, or stored encrypted in the database under the
/// secret key from the environment (see `auth::keyring`), so every process agrees.
pub async fn signing_keys(
    store: &Store,
    config: &Config,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<TokenKeys> {
    let source = keyring::key_source(config)?;
    keyring::load(
        store,
        &source,
        Duration::minutes(config.token_ttl_minutes),
        now,
    )
    .await
}

/// `jitea rotate-signing-key`: new tokens use a new key, old ones verify until they expire.
pub async fn rotate_signing_key(config: &Config) -> anyhow::Result<String> {
    let store = open_store(config).await?;
    let source = keyring::key_source(config)?;
    // Make sure the current key opens with this secret key before retiring it.
    keyring::load(
        &store,
        &source,
        Duration::minutes(config.token_ttl_minutes),
        SystemClock.now(),
    )
    .await?;
    keyring::rotate(&store, &source, SystemClock.now()).await
}

/// Creates (or promotes and re-passwords) the bootstrap admin when no active admin exists.
pub async fn bootstrap_admin(
    store: &Store,
    login: &str,
    pw: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<bool> {
    let hash = password::hash(pw);
    let mut tx = store.begin_write().await?;
    let mut db = tx.db();
    if users::count_admins(&mut db).await? > 0 {
        return Ok(false);
    }
    let actor = Actor::system("bootstrap");
    let id = match users::get_by_login(&mut db, login).await? {
        Some(u) => {
            let upd = jitea_shared::UserUpdate {
                is_admin: Some(true),
                ..Default::default()
            };
            users::update(&mut db, u.id, &upd, "system:bootstrap", now).await?;
            users::set_active(&mut db, u.id, true, "system:bootstrap", now).await?;
            u.id
        }
        None => {
            let c = UserCreate {
                login_name: login.to_string(),
                display_name: Some("Administrator".into()),
                is_admin: Some(true),
                ..Default::default()
            };
            match users::insert(&mut db, &c, "system:bootstrap", now).await {
                Ok(id) => id,
                // Another process starting at the same time created it first.
                Err(crate::store::StoreError::Conflict) => return Ok(false),
                Err(e) => return Err(e.into()),
            }
        }
    };
    credentials::set_password_hash(&mut db, id, &hash, now).await?;
    sessions::bump_epoch(&mut db, id, now).await?;
    audit::write(
        &mut db,
        Event::new("admin_bootstrapped", &actor)
            .user(id)
            .details(json!({"login_name": login})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Everything `serve` needs, ready to share.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = open_store(&config).await?;
    let keys = signing_keys(&store, &config, clock.now()).await?;
    if let Some((login, pw)) = &config.bootstrap_admin {
        if bootstrap_admin(&store, login, pw, clock.now()).await? {
            tracing::info!(login = %login, "created bootstrap admin");
        }
    }
    let limits = Arc::new(crate::auth::limits::Limits::new(&config));
    let oidc = config.oidc.clone().map(crate::auth::oidc::Oidc::new);
    Ok(AppState {
        oidc,
        store,
        keys,
        connectors: Connectors::builtin(clock.clone()),
        clock,
        config: Arc::new(config),
        expiry_wake: Default::default(),
        owner: crate::jobs::expiry::owner_id(),
        live: crate::notify::live::channel(),
        limits,
    })
}
