//! Configuration from the environment, optionally a TOML file (`JITEA_CONFIG` or `--config`)
//! underneath it. A bad value stops start-up with one line naming the setting.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// `login:password` of an admin to create on first start if no admin exists.
    pub bootstrap_admin: Option<(String, String)>,
    pub token_ttl_minutes: i64,
    pub log_level: String,
    /// Shared secret for HS256 tokens; generated and kept in the database when unset.
    pub jwt_secret: Option<String>,
    /// The longest the expiry engine sleeps between checks, in seconds (it also wakes at the
    /// next known end and when grants change).
    pub expiry_interval_secs: u64,
    /// How often drift reconciliation runs, in seconds.
    pub reconcile_interval_secs: u64,
    /// First retry delay after a failed provisioning or revocation attempt, in milliseconds
    /// (it doubles per attempt up to 60 s).
    pub retry_base_ms: u64,
    /// The built web app (Trunk's `dist/`).
    pub web_dir: PathBuf,
    /// Whether admins may decide requests of roles whose approvers do not include them
    /// (`JITEA_ADMINS_MAY_APPROVE`, default false: only the role's approvers decide).
    pub admins_may_approve: bool,
    /// How long delivered outbox rows are kept, in hours (`JITEA_OUTBOX_RETENTION_HOURS`).
    pub outbox_retention_hours: i64,
}

/// The same settings as they appear in a TOML file (all optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<String>,
    data_dir: Option<String>,
    database_url: Option<String>,
    bootstrap_admin: Option<String>,
    token_ttl_minutes: Option<i64>,
    log_level: Option<String>,
    jwt_secret: Option<String>,
    expiry_interval_secs: Option<u64>,
    reconcile_interval_secs: Option<u64>,
    retry_base_ms: Option<u64>,
    web_dir: Option<String>,
    admins_may_approve: Option<bool>,
    outbox_retention_hours: Option<i64>,
}

/// A configuration problem: which setting, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {setting}: {problem}")]
pub struct ConfigError {
    pub setting: String,
    pub problem: String,
}

fn err(setting: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.to_string(),
        problem: problem.into(),
    }
}

impl Config {
    /// Reads `env` (a lookup, so tests need not touch the process environment) over the file.
    pub fn load(
        env: impl Fn(&str) -> Option<String>,
        file: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let file_path = file
            .map(Path::to_path_buf)
            .or_else(|| env("JITEA_CONFIG").map(PathBuf::from));
        let fc: FileConfig = match &file_path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    err("JITEA_CONFIG", format!("cannot read {}: {e}", p.display()))
                })?;
                toml::from_str(&text)
                    .map_err(|e| err("JITEA_CONFIG", format!("{}: {}", p.display(), e.message())))?
            }
            None => FileConfig::default(),
        };
        let pick = |name: &str, f: Option<String>| env(name).filter(|v| !v.trim().is_empty()).or(f);

        let bind_s = pick("JITEA_BIND", fc.bind).unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind: SocketAddr = bind_s.parse().map_err(|_| {
            err(
                "JITEA_BIND",
                format!("`{bind_s}` is not an address like 127.0.0.1:8080"),
            )
        })?;

        let data_dir =
            PathBuf::from(pick("JITEA_DATA_DIR", fc.data_dir).unwrap_or_else(|| "./data".into()));
        let database_url = match pick("JITEA_DATABASE_URL", fc.database_url) {
            Some(u) => {
                let ok = [
                    "sqlite:",
                    "postgres://",
                    "postgresql://",
                    "mssql://",
                    "sqlserver://",
                ]
                .iter()
                .any(|p| u.starts_with(p));
                if !ok {
                    return Err(err(
                        "JITEA_DATABASE_URL",
                        "must start with sqlite:, postgres:// or mssql://",
                    ));
                }
                u
            }
            None => format!("sqlite://{}", data_dir.join("jitea.db").display()),
        };

        let bootstrap_admin = match pick("JITEA_BOOTSTRAP_ADMIN", fc.bootstrap_admin) {
            Some(v) => {
                let (l, p) = v
                    .split_once(':')
                    .ok_or_else(|| err("JITEA_BOOTSTRAP_ADMIN", "expected login:password"))?;
                if l.trim().is_empty() {
                    return Err(err("JITEA_BOOTSTRAP_ADMIN", "the login is empty"));
                }
                crate::auth::password::validate_new_password(p)
                    .map_err(|e| err("JITEA_BOOTSTRAP_ADMIN", e))?;
                Some((l.trim().to_string(), p.to_string()))
            }
            None => None,
        };

        let token_ttl_minutes = match env("JITEA_TOKEN_TTL_MINUTES") {
            Some(v) => v.trim().parse::<i64>().map_err(|_| {
                err(
                    "JITEA_TOKEN_TTL_MINUTES",
                    format!("`{v}` is not a whole number of minutes"),
                )
            })?,
            None => fc.token_ttl_minutes.unwrap_or(480),
        };
        if !(1..=10_080).contains(&token_ttl_minutes) {
            return Err(err(
                "JITEA_TOKEN_TTL_MINUTES",
                "must be between 1 and 10080 (one week)",
            ));
        }

        let log_level = pick("JITEA_LOG", fc.log_level).unwrap_or_else(|| "info".into());
        if tracing_subscriber::EnvFilter::try_new(&log_level).is_err() {
            return Err(err(
                "JITEA_LOG",
                format!("`{log_level}` is not a log filter such as info or jitea=debug"),
            ));
        }

        let jwt_secret = pick("JITEA_JWT_SECRET", fc.jwt_secret);
        if let Some(s) = &jwt_secret {
            if s.len() < 32 {
                return Err(err("JITEA_JWT_SECRET", "must be at least 32 bytes"));
            }
        }

        let expiry_interval_secs = match env("JITEA_EXPIRY_INTERVAL_SECS") {
            Some(v) => v.trim().parse::<u64>().map_err(|_| {
                err(
                    "JITEA_EXPIRY_INTERVAL_SECS",
                    format!("`{v}` is not a whole number of seconds"),
                )
            })?,
            None => fc.expiry_interval_secs.unwrap_or(1),
        };
        if !(1..=3600).contains(&expiry_interval_secs) {
            return Err(err(
                "JITEA_EXPIRY_INTERVAL_SECS",
                "must be between 1 and 3600",
            ));
        }

        let reconcile_interval_secs = match env("JITEA_RECONCILE_INTERVAL_SECS") {
            Some(v) => v.trim().parse::<u64>().map_err(|_| {
                err(
                    "JITEA_RECONCILE_INTERVAL_SECS",
                    format!("`{v}` is not a whole number of seconds"),
                )
            })?,
            None => fc.reconcile_interval_secs.unwrap_or(300),
        };
        if !(10..=86_400).contains(&reconcile_interval_secs) {
            return Err(err(
                "JITEA_RECONCILE_INTERVAL_SECS",
                "must be between 10 and 86400",
            ));
        }

        let retry_base_ms = match env("JITEA_RETRY_BASE_MS") {
            Some(v) => v.trim().parse::<u64>().map_err(|_| {
                err(
                    "JITEA_RETRY_BASE_MS",
                    format!("`{v}` is not a whole number of milliseconds"),
                )
            })?,
            None => fc.retry_base_ms.unwrap_or(1000),
        };
        if !(10..=60_000).contains(&retry_base_ms) {
            return Err(err("JITEA_RETRY_BASE_MS", "must be between 10 and 60000"));
        }

        let web_dir =
            PathBuf::from(pick("JITEA_WEB_DIR", fc.web_dir).unwrap_or_else(|| "dist".into()));

        let admins_may_approve = match env("JITEA_ADMINS_MAY_APPROVE") {
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" | "" => false,
                _ => {
                    return Err(err(
                        "JITEA_ADMINS_MAY_APPROVE",
                        format!("`{v}` is not true or false"),
                    ))
                }
            },
            None => fc.admins_may_approve.unwrap_or(false),
        };

        let outbox_retention_hours = match env("JITEA_OUTBOX_RETENTION_HOURS") {
            Some(v) => v.trim().parse::<i64>().map_err(|_| {
                err(
                    "JITEA_OUTBOX_RETENTION_HOURS",
                    format!("`{v}` is not a whole number of hours"),
                )
            })?,
            None => fc.outbox_retention_hours.unwrap_or(168),
        };
        if !(1..=87_600).contains(&outbox_retention_hours) {
            return Err(err(
                "JITEA_OUTBOX_RETENTION_HOURS",
                "must be between 1 and 87600 (ten years)",
            ));
        }

        Ok(Self {
            bind,
            data_dir,
            database_url,
            bootstrap_admin,
            token_ttl_minutes,
            log_level,
            jwt_secret,
            expiry_interval_secs,
            reconcile_interval_secs,
            retry_base_ms,
            web_dir,
            admins_may_approve,
            outbox_retention_hours,
        })
    }

    pub fn from_env(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load(|k| std::env::var(k).ok(), file)
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load(|k| m.get(k).cloned(), None)
    }

    #[test]
    fn defaults_use_a_sqlite_file_in_the_data_dir() {
        let c = load(&[]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://./data/jitea.db");
        assert!(c.is_sqlite());
    }

    #[test]
    fn bad_values_name_the_setting() {
        let e = load(&[("JITEA_BIND", "nope")]).unwrap_err();
        assert_eq!(e.setting, "JITEA_BIND");
        let e = load(&[("JITEA_DATABASE_URL", "mysql://x")]).unwrap_err();
        assert_eq!(e.setting, "JITEA_DATABASE_URL");
        let e = load(&[("JITEA_BOOTSTRAP_ADMIN", "admin")]).unwrap_err();
        assert_eq!(e.setting, "JITEA_BOOTSTRAP_ADMIN");
        let e = load(&[("JITEA_TOKEN_TTL_MINUTES", "0")]).unwrap_err();
        assert_eq!(e.setting, "JITEA_TOKEN_TTL_MINUTES");
        assert!(e
            .to_string()
            .starts_with("configuration error: JITEA_TOKEN_TTL_MINUTES"));
    }

    #[test]
    fn admins_may_not_approve_unless_configured() {
        let c = load(&[]).unwrap();
        assert!(!c.admins_may_approve);
        assert_eq!(c.outbox_retention_hours, 168);
        let c = load(&[
            ("JITEA_ADMINS_MAY_APPROVE", "true"),
            ("JITEA_OUTBOX_RETENTION_HOURS", "24"),
        ])
        .unwrap();
        assert!(c.admins_may_approve);
        assert_eq!(c.outbox_retention_hours, 24);
        let e = load(&[("JITEA_ADMINS_MAY_APPROVE", "maybe")]).unwrap_err();
        assert_eq!(e.setting, "JITEA_ADMINS_MAY_APPROVE");
        let e = load(&[("JITEA_OUTBOX_RETENTION_HOURS", "0")]).unwrap_err();
        assert_eq!(e.setting, "JITEA_OUTBOX_RETENTION_HOURS");
    }

    #[test]
    fn bootstrap_admin_is_split_at_the_first_colon() {
        let c = load(&[("JITEA_BOOTSTRAP_ADMIN", "root:pass:word-long-enough")]).unwrap();
        assert_eq!(
            c.bootstrap_admin,
            Some(("root".into(), "pass:word-long-enough".into()))
        );
    }
}
