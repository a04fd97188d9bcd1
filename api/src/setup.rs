//! Start-up tasks: open and migrate the store, load the signing key, create the bootstrap
//! admin, and build the shared state.

use std::sync::Arc;

use chrono::Duration;
use jitea_shared::UserCreate;
use rand::RngCore;
use serde_json::json;
use tokio::sync::Notify;

use crate::auth::{password, TokenKeys};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::provision::Connectors;
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::{credentials, migrate, users, Store};

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

/// The token signing key: from configuration, or generated once and kept in the database so
/// every process (and every restart) agrees.
pub async fn signing_keys(
    store: &Store,
    config: &Config,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<TokenKeys> {
    let secret = match &config.jwt_secret {
        Some(s) => s.clone(),
        None => {
            let mut bytes = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut bytes);
            let mut tx = store.begin_write().await?;
            let s = credentials::ensure_signing_secret(
                &mut tx.db(),
                "primary",
                &hex::encode(bytes),
                now,
            )
            .await?;
            tx.commit().await?;
            s
        }
    };
    Ok(TokenKeys::new(
        secret.as_bytes(),
        Duration::minutes(config.token_ttl_minutes),
    ))
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
            users::insert(&mut db, &c, "system:bootstrap", now).await?
        }
    };
    credentials::set_password_hash(&mut db, id, &hash, now).await?;
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
    Ok(AppState {
        store,
        keys,
        connectors: Connectors::builtin(),
        clock,
        config: Arc::new(config),
        expiry_wake: Arc::new(Notify::new()),
        owner: crate::jobs::expiry::owner_id(),
        live: crate::notify::live::channel(),
    })
}
