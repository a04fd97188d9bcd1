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
    /// Grants the expiry engine claims (and removes on a target role) per batch.
    pub expiry_batch: i64,
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
    /// A file of signing secrets, one per line (the first signs, the others still verify).
    pub jwt_secret_file: Option<PathBuf>,
    /// Key-encryption key for the signing keys stored in the database.
    pub secret_key: Option<String>,
    /// A file holding the key-encryption key.
    pub secret_key_file: Option<PathBuf>,
    /// The URL users reach the service at; `https://` turns on Secure cookies and HSTS.
    pub public_url: Option<String>,
    /// Behind a reverse proxy: take the client address from `X-Forwarded-For` and the scheme
    /// from `X-Forwarded-Proto`.
    pub trust_proxy: bool,
    /// Failed sign-ins per login name before it is locked (per client address: 4 times this).
    pub login_max_failures: i64,
    /// The first lockout in seconds; it doubles with every further failure (up to an hour).
    pub login_lockout_secs: i64,
    /// Password hash computations running at once (more wait briefly, then get 503).
    pub argon2_concurrency: usize,
    /// Live event streams one user may hold open.
    pub events_max_per_user: usize,
    /// Live event streams this process serves in total.
    pub events_max_total: usize,
    /// Single sign-on starts one client address may make per minute (each writes a pending
    /// sign-in); the whole process accepts 50 times as many.
    pub oidc_starts_per_minute: u32,
    /// Directory sync from LDAP / Active Directory; `None` when `JITEA_LDAP_URL` is unset.
    pub ldap: Option<LdapConfig>,
    /// How often the directory sync runs, in seconds; `None`: only on demand.
    pub directory_sync_interval_secs: Option<u64>,
    /// Single sign-on through an OpenID Connect provider (`JITEA_OIDC_ISSUER` set).
    pub oidc: Option<OidcConfig>,
    /// Password sign-in for everyone (`JITEA_LOCAL_LOGIN`, default true); when false only the
    /// bootstrap admin may use a password (break-glass, audited).
    pub local_login: bool,
    /// Email notifications over SMTP; `None` (email off) when `JITEA_SMTP_HOST` is unset.
    pub smtp: Option<SmtpConfig>,
    /// How long before a grant ends its holder is reminded, in minutes
    /// (`JITEA_REMINDER_MINUTES`, default 15, 0 = no reminders).
    pub reminder_minutes: i64,
    /// Team chat channels (Slack, Teams incoming webhooks) for calls to act and alerts.
    pub chat: ChatConfig,
    /// Whether webhook subscriptions and chat URLs may use plain `http://`
    /// (`JITEA_WEBHOOK_ALLOW_HTTP`, default false: `https://` only).
    pub webhook_allow_http: bool,
}

/// The chat channels: incoming webhook URLs from the environment only (the URL is the
/// credential). `JITEA_SLACK_WEBHOOK_URL` and `JITEA_TEAMS_WEBHOOK_URL` are the global channels;
/// a role's `chat_channel` KEY names `JITEA_SLACK_WEBHOOK_URL_KEY` / `JITEA_TEAMS_WEBHOOK_URL_KEY`
/// (upper case), read from the process environment when a message is planned and sent, like
/// the targets' `JITEA_TARGET_*` URLs.
#[derive(Clone, Default)]
pub struct ChatConfig {
    pub slack: Option<String>,
    pub teams: Option<String>,
    /// Plain `http://` URLs allowed (`JITEA_WEBHOOK_ALLOW_HTTP`).
    pub allow_http: bool,
}

impl std::fmt::Debug for ChatConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatConfig")
            .field("slack", &self.slack.as_ref().map(|_| "<set>"))
            .field("teams", &self.teams.as_ref().map(|_| "<set>"))
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

/// The chat channel kinds, with their global variable.
const CHAT_KINDS: [(jitea_shared::NotificationChannel, &str); 2] = [
    (
        jitea_shared::NotificationChannel::Slack,
        "JITEA_SLACK_WEBHOOK_URL",
    ),
    (
        jitea_shared::NotificationChannel::Teams,
        "JITEA_TEAMS_WEBHOOK_URL",
    ),
];

impl ChatConfig {
    fn global(&self, channel: jitea_shared::NotificationChannel) -> Option<&str> {
        use jitea_shared::NotificationChannel as C;
        match channel {
            C::Slack => self.slack.as_deref(),
            C::Teams => self.teams.as_deref(),
            _ => None,
        }
    }

    /// The URL of a role's channel KEY for `channel`, if its variable is set and valid.
    fn keyed(&self, channel: jitea_shared::NotificationChannel, key: &str) -> Option<String> {
        let (_, var) = CHAT_KINDS.iter().find(|(c, _)| *c == channel)?;
        let url = std::env::var(format!("{var}_{}", key.to_ascii_uppercase())).ok()?;
        let url = url.trim().to_string();
        if crate::domain::validation::webhook_url_problem(&url, self.allow_http).is_some() {
            tracing::warn!(%channel, key, "the chat channel's URL is not valid; using the global channel");
            return None;
        }
        Some(url)
    }

    /// Whether a role's channel KEY has a URL for Slack or Teams in this process.
    pub fn key_configured(&self, key: &str) -> bool {
        CHAT_KINDS
            .iter()
            .any(|(c, _)| self.keyed(*c, key).is_some())
    }

    /// Where a chat message goes, per channel kind: the role's own channel (`slack:KEY`) when
    /// its URL is set, else the global one (`slack`); kinds with neither are left out.
    pub fn routes(&self, key: Option<&str>) -> Vec<(jitea_shared::NotificationChannel, String)> {
        CHAT_KINDS
            .iter()
            .filter_map(|(c, _)| match key.filter(|k| self.keyed(*c, k).is_some()) {
                Some(k) => Some((*c, format!("{c}:{k}"))),
                None => self.global(*c).map(|_| (*c, c.as_str().to_string())),
            })
            .collect()
    }

    /// Whether any chat channel could be used (a global one, or possibly a role's).
    pub fn any(&self) -> bool {
        self.slack.is_some()
            || self.teams.is_some()
            || std::env::vars().any(|(k, _)| {
                CHAT_KINDS
                    .iter()
                    .any(|(_, var)| k.starts_with(&format!("{var}_")))
            })
    }

    /// The URL a chat delivery goes to (its address names the channel: `slack`, `slack:KEY`).
    pub fn url(&self, channel: jitea_shared::NotificationChannel, address: &str) -> Option<String> {
        match address.split_once(':') {
            Some((_, key)) => self.keyed(channel, key),
            None => self.global(channel).map(str::to_string),
        }
    }
}

fn chat_config(
    env: &impl Fn(&str) -> Option<String>,
    public_url: Option<&str>,
    allow_http: bool,
) -> Result<ChatConfig, ConfigError> {
    let mut c = ChatConfig {
        allow_http,
        ..ChatConfig::default()
    };
    let [(_, slack), (_, teams)] = CHAT_KINDS;
    for (name, slot) in [(slack, &mut c.slack), (teams, &mut c.teams)] {
        let Some(v) = env(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
        else {
            continue;
        };
        if let Some(p) = crate::domain::validation::webhook_url_problem(&v, allow_http) {
            return Err(err(name, p));
        }
        if public_url.is_none() {
            return Err(err(
                "JITEA_PUBLIC_URL",
                format!("is required with {name} (messages link into the app)"),
            ));
        }
        *slot = Some(v);
    }
    Ok(c)
}

/// How the SMTP connection is protected (`JITEA_SMTP_TLS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is required (default; port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only when set explicitly (a relay on localhost, tests).
    None,
}

/// SMTP settings (environment only: `JITEA_SMTP_*`).
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub user: Option<String>,
    pub password: Option<String>,
    /// The From address (`JITEA_SMTP_FROM`).
    pub from: String,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<set>"))
            .field("from", &self.from)
            .finish()
    }
}

/// The SMTP settings: `None` unless `JITEA_SMTP_HOST` is set. Links in messages need
/// `JITEA_PUBLIC_URL`, so email without it is a configuration error.
fn smtp_config(
    env: &impl Fn(&str) -> Option<String>,
    public_url: Option<&str>,
) -> Result<Option<SmtpConfig>, ConfigError> {
    let get = |n: &str| {
        env(n)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let Some(host) = get("JITEA_SMTP_HOST") else {
        return Ok(None);
    };
    if host.contains(['/', ' ', '\t']) {
        return Err(err(
            "JITEA_SMTP_HOST",
            "must be a host name or address, without scheme or port",
        ));
    }
    let tls = match get("JITEA_SMTP_TLS")
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("starttls") => SmtpTls::StartTls,
        Some("tls") => SmtpTls::Tls,
        Some("none") => SmtpTls::None,
        Some(v) => {
            return Err(err(
                "JITEA_SMTP_TLS",
                format!("`{v}` is not starttls, tls or none"),
            ))
        }
    };
    let default_port = match tls {
        SmtpTls::Tls => 465,
        SmtpTls::StartTls => 587,
        SmtpTls::None => 25,
    };
    let port = match get("JITEA_SMTP_PORT") {
        Some(v) => v.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
            err(
                "JITEA_SMTP_PORT",
                format!("`{v}` is not a port number (1-65535)"),
            )
        })?,
        None => default_port,
    };
    let user = get("JITEA_SMTP_USER");
    let password = env("JITEA_SMTP_PASSWORD").filter(|v| !v.is_empty());
    if user.is_some() != password.is_some() {
        return Err(err(
            "JITEA_SMTP_USER",
            "set both JITEA_SMTP_USER and JITEA_SMTP_PASSWORD, or neither",
        ));
    }
    let from = get("JITEA_SMTP_FROM")
        .ok_or_else(|| err("JITEA_SMTP_FROM", "is required with JITEA_SMTP_HOST"))?;
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(err(
            "JITEA_SMTP_FROM",
            format!("`{from}` is not an email address"),
        ));
    }
    if public_url.is_none() {
        return Err(err(
            "JITEA_PUBLIC_URL",
            "is required with JITEA_SMTP_HOST (messages link into the app)",
        ));
    }
    Ok(Some(SmtpConfig {
        host,
        port,
        tls,
        user,
        password,
        from,
    }))
}

/// OpenID Connect settings (environment only: `JITEA_OIDC_*`).
#[derive(Clone)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// `client_secret_basic` (default) or `client_secret_post` (`JITEA_OIDC_CLIENT_AUTH`).
    pub client_auth_post: bool,
    /// Shown on the sign-in button (`JITEA_OIDC_NAME`, default "Single sign-on").
    pub name: String,
    pub login_claim: String,
    pub claim_email: Option<String>,
    pub claim_department: Option<String>,
    pub claim_division: Option<String>,
    pub claim_job_title: Option<String>,
    pub claim_manager: Option<String>,
    pub claim_groups: Option<String>,
    pub admin_groups: Vec<String>,
    pub auditor_groups: Vec<String>,
    pub create_users: bool,
    /// Audience of provider access tokens accepted as bearer tokens (`JITEA_OIDC_AUDIENCE`);
    /// none: provider tokens are not accepted.
    pub audience: Option<String>,
    /// `$JITEA_PUBLIC_URL/api/v1/auth/oidc/callback`.
    pub redirect_uri: String,
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

fn bool_setting(
    env: &impl Fn(&str) -> Option<String>,
    name: &str,
) -> Result<Option<bool>, ConfigError> {
    match env(name).filter(|v| !v.trim().is_empty()) {
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Some(true)),
            "0" | "false" | "no" | "off" => Ok(Some(false)),
            _ => Err(err(name, "must be true or false")),
        },
        None => Ok(None),
    }
}

fn oidc_config(
    env: &impl Fn(&str) -> Option<String>,
    public_url: Option<&str>,
) -> Result<Option<OidcConfig>, ConfigError> {
    let get = |n: &str| {
        env(n)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let Some(issuer) = get("JITEA_OIDC_ISSUER") else {
        return Ok(None);
    };
    let issuer = issuer.trim_end_matches('/').to_string();
    let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| {
            issuer == *p
                || issuer.starts_with(&format!("{p}:"))
                || issuer.starts_with(&format!("{p}/"))
        });
    if !(issuer.starts_with("https://") || loopback) {
        return Err(err(
            "JITEA_OIDC_ISSUER",
            "must start with https:// (http:// only for a provider on this machine)",
        ));
    }
    let client_id = get("JITEA_OIDC_CLIENT_ID")
        .ok_or_else(|| err("JITEA_OIDC_CLIENT_ID", "is required with JITEA_OIDC_ISSUER"))?;
    let client_secret = match (
        get("JITEA_OIDC_CLIENT_SECRET"),
        get("JITEA_OIDC_CLIENT_SECRET_FILE"),
    ) {
        (Some(s), _) => s,
        (None, Some(f)) => std::fs::read_to_string(&f)
            .map_err(|e| {
                err(
                    "JITEA_OIDC_CLIENT_SECRET_FILE",
                    format!("cannot read {f}: {e}"),
                )
            })?
            .trim()
            .to_string(),
        (None, None) => {
            return Err(err(
                "JITEA_OIDC_CLIENT_SECRET",
                "is required with JITEA_OIDC_ISSUER (or JITEA_OIDC_CLIENT_SECRET_FILE)",
            ))
        }
    };
    let public = public_url.ok_or_else(|| {
        err(
            "JITEA_PUBLIC_URL",
            "is required with JITEA_OIDC_ISSUER (the callback address is built from it)",
        )
    })?;
    let client_auth_post = match get("JITEA_OIDC_CLIENT_AUTH").as_deref() {
        None | Some("client_secret_basic") => false,
        Some("client_secret_post") => true,
        Some(_) => {
            return Err(err(
                "JITEA_OIDC_CLIENT_AUTH",
                "must be client_secret_basic or client_secret_post",
            ))
        }
    };
    let list = |n: &str| -> Vec<String> {
        get(n)
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    let directory = get("JITEA_LDAP_URL").is_some();
    Ok(Some(OidcConfig {
        redirect_uri: format!("{}/api/v1/auth/oidc/callback", public.trim_end_matches('/')),
        issuer,
        client_id,
        client_secret,
        client_auth_post,
        name: get("JITEA_OIDC_NAME").unwrap_or_else(|| "Single sign-on".into()),
        login_claim: get("JITEA_OIDC_LOGIN_CLAIM").unwrap_or_else(|| "preferred_username".into()),
        claim_email: get("JITEA_OIDC_CLAIM_EMAIL"),
        claim_department: get("JITEA_OIDC_CLAIM_DEPARTMENT"),
        claim_division: get("JITEA_OIDC_CLAIM_DIVISION"),
        claim_job_title: get("JITEA_OIDC_CLAIM_JOB_TITLE"),
        claim_manager: get("JITEA_OIDC_CLAIM_MANAGER"),
        claim_groups: get("JITEA_OIDC_CLAIM_GROUPS"),
        admin_groups: list("JITEA_OIDC_ADMIN_GROUPS"),
        auditor_groups: list("JITEA_OIDC_AUDITOR_GROUPS"),
        create_users: bool_setting(env, "JITEA_OIDC_CREATE_USERS")?.unwrap_or(!directory),
        audience: get("JITEA_OIDC_AUDIENCE"),
    }))
}

/// A secret that never shows in `Debug` output or logs.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Which directory attribute feeds which user field.
#[derive(Debug, Clone)]
pub struct LdapAttrs {
    pub login: String,
    pub given_name: String,
    pub surname: String,
    pub display_name: String,
    pub email: String,
    pub department: String,
    pub division: String,
    pub job_title: String,
    pub manager: String,
    /// Seniority as a number; unset: derived from the job title through `title_seniority`.
    pub seniority: Option<String>,
    /// The entry's stable id: `entryUUID` (OpenLDAP) or `objectGUID` (Active Directory).
    pub external_id: String,
}

/// Directory (LDAP / Active Directory) sync settings.
#[derive(Debug, Clone)]
pub struct LdapConfig {
    /// `ldaps://host:port` or `ldap://host:port`.
    pub url: String,
    pub starttls: bool,
    /// Allow `ldap://` without StartTLS (the bind password then crosses the network in clear).
    pub allow_plain: bool,
    pub bind_dn: Option<String>,
    pub bind_password: Option<Secret>,
    /// PEM file of the certificate authorities to trust (instead of the system's).
    pub ca_file: Option<PathBuf>,
    pub user_base: String,
    pub user_filter: String,
    /// Groups become teams: searched under this base with `group_filter`, members by `member`
    /// DN. Unset: each user's `memberOf` values are used.
    pub group_base: Option<String>,
    pub group_filter: String,
    pub attrs: LdapAttrs,
    /// Job title (compared case-insensitively) → seniority, from the TOML file's
    /// `[ldap_title_seniority]` table.
    pub title_seniority: Vec<(String, i64)>,
    pub max_deactivate_percent: u64,
    pub page_size: i32,
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
    expiry_batch: Option<i64>,
    reconcile_interval_secs: Option<u64>,
    retry_base_ms: Option<u64>,
    web_dir: Option<String>,
    admins_may_approve: Option<bool>,
    outbox_retention_hours: Option<i64>,
    jwt_secret_file: Option<String>,
    secret_key: Option<String>,
    secret_key_file: Option<String>,
    public_url: Option<String>,
    trust_proxy: Option<bool>,
    login_max_failures: Option<i64>,
    login_lockout_secs: Option<i64>,
    argon2_concurrency: Option<u64>,
    events_max_per_user: Option<u64>,
    events_max_total: Option<u64>,
    oidc_starts_per_minute: Option<u64>,
    ldap_url: Option<String>,
    ldap_starttls: Option<bool>,
    ldap_allow_plain: Option<bool>,
    ldap_bind_dn: Option<String>,
    ldap_bind_password: Option<String>,
    ldap_bind_password_file: Option<String>,
    ldap_ca_file: Option<String>,
    ldap_user_base: Option<String>,
    ldap_user_filter: Option<String>,
    ldap_group_base: Option<String>,
    ldap_group_filter: Option<String>,
    ldap_attr_login: Option<String>,
    ldap_attr_given_name: Option<String>,
    ldap_attr_surname: Option<String>,
    ldap_attr_display_name: Option<String>,
    ldap_attr_email: Option<String>,
    ldap_attr_department: Option<String>,
    ldap_attr_division: Option<String>,
    ldap_attr_job_title: Option<String>,
    ldap_attr_manager: Option<String>,
    ldap_attr_seniority: Option<String>,
    ldap_attr_external_id: Option<String>,
    ldap_max_deactivate_percent: Option<u64>,
    ldap_page_size: Option<u64>,
    directory_sync_interval_secs: Option<u64>,
    #[serde(default)]
    ldap_title_seniority: std::collections::BTreeMap<String, i64>,
}

/// The directory settings of the TOML file, taken out of `FileConfig`.
#[derive(Default)]
struct FileLdap {
    url: Option<String>,
    starttls: Option<bool>,
    allow_plain: Option<bool>,
    bind_dn: Option<String>,
    bind_password: Option<String>,
    bind_password_file: Option<String>,
    ca_file: Option<String>,
    user_base: Option<String>,
    user_filter: Option<String>,
    group_base: Option<String>,
    group_filter: Option<String>,
    attr_login: Option<String>,
    attr_given_name: Option<String>,
    attr_surname: Option<String>,
    attr_display_name: Option<String>,
    attr_email: Option<String>,
    attr_department: Option<String>,
    attr_division: Option<String>,
    attr_job_title: Option<String>,
    attr_manager: Option<String>,
    attr_seniority: Option<String>,
    attr_external_id: Option<String>,
    max_deactivate_percent: Option<u64>,
    page_size: Option<u64>,
    title_seniority: std::collections::BTreeMap<String, i64>,
    directory_sync_interval_secs: Option<u64>,
}

fn parse_bool(setting: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(err(setting, format!("`{v}` is not true or false"))),
    }
}

/// An LDAP attribute name (or OID): letters, digits, `-`, `.`; nothing a filter could misread.
fn attr_name(setting: &str, v: String) -> Result<String, ConfigError> {
    let v = v.trim().to_string();
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if ok {
        Ok(v)
    } else {
        Err(err(setting, format!("`{v}` is not an LDAP attribute name")))
    }
}

/// The directory settings: `None` unless `JITEA_LDAP_URL` (or `ldap_url`) is set.
fn load_ldap(
    env: &impl Fn(&str) -> Option<String>,
    fl: &mut FileLdap,
) -> Result<Option<LdapConfig>, ConfigError> {
    let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let Some(url) = get("JITEA_LDAP_URL").or(fl.url.take()) else {
        return Ok(None);
    };
    let url = url.trim().to_string();
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("ldap://") || lower.starts_with("ldaps://")) {
        return Err(err("JITEA_LDAP_URL", "must start with ldaps:// or ldap://"));
    }
    let flag = |name: &str, f: Option<bool>| -> Result<bool, ConfigError> {
        match get(name) {
            Some(v) => parse_bool(name, &v),
            None => Ok(f.unwrap_or(false)),
        }
    };
    let starttls = flag("JITEA_LDAP_STARTTLS", fl.starttls)?;
    let allow_plain = flag("JITEA_LDAP_ALLOW_PLAIN", fl.allow_plain)?;
    if starttls && lower.starts_with("ldaps://") {
        return Err(err(
            "JITEA_LDAP_STARTTLS",
            "StartTLS applies to ldap:// URLs; ldaps:// is already encrypted",
        ));
    }
    let bind_dn = get("JITEA_LDAP_BIND_DN").or(fl.bind_dn.take());
    let password = match get("JITEA_LDAP_BIND_PASSWORD").or(fl.bind_password.take()) {
        Some(p) => Some(p),
        None => match get("JITEA_LDAP_BIND_PASSWORD_FILE").or(fl.bind_password_file.take()) {
            Some(path) => {
                let text = std::fs::read_to_string(path.trim()).map_err(|e| {
                    err(
                        "JITEA_LDAP_BIND_PASSWORD_FILE",
                        format!("cannot read {}: {}", path.trim(), e.kind()),
                    )
                })?;
                Some(text.trim_end_matches(['\r', '\n']).to_string())
            }
            None => None,
        },
    };
    if bind_dn.is_some() != password.is_some() {
        return Err(err(
            "JITEA_LDAP_BIND_DN",
            "set both the bind DN and JITEA_LDAP_BIND_PASSWORD (or _FILE), or neither",
        ));
    }
    let ca_file = get("JITEA_LDAP_CA_FILE")
        .or(fl.ca_file.take())
        .map(|p| PathBuf::from(p.trim()));
    let user_base = get("JITEA_LDAP_USER_BASE")
        .or(fl.user_base.take())
        .ok_or_else(|| err("JITEA_LDAP_USER_BASE", "is required with JITEA_LDAP_URL"))?;
    let ad = |field: &str| -> &'static str {
        // Defaults follow OpenLDAP's inetOrgPerson; set JITEA_LDAP_ATTR_* for Active Directory.
        match field {
            "LOGIN" => "uid",
            "GIVEN_NAME" => "givenName",
            "SURNAME" => "sn",
            "DISPLAY_NAME" => "displayName",
            "EMAIL" => "mail",
            "DEPARTMENT" => "departmentNumber",
            "DIVISION" => "ou",
            "JOB_TITLE" => "title",
            "MANAGER" => "manager",
            "EXTERNAL_ID" => "entryUUID",
            _ => "",
        }
    };
    let attr = |field: &str, f: Option<String>| -> Result<String, ConfigError> {
        let name = format!("JITEA_LDAP_ATTR_{field}");
        attr_name(
            &name,
            get(&name).or(f).unwrap_or_else(|| ad(field).to_string()),
        )
    };
    let attrs = LdapAttrs {
        login: attr("LOGIN", fl.attr_login.take())?,
        given_name: attr("GIVEN_NAME", fl.attr_given_name.take())?,
        surname: attr("SURNAME", fl.attr_surname.take())?,
        display_name: attr("DISPLAY_NAME", fl.attr_display_name.take())?,
        email: attr("EMAIL", fl.attr_email.take())?,
        department: attr("DEPARTMENT", fl.attr_department.take())?,
        division: attr("DIVISION", fl.attr_division.take())?,
        job_title: attr("JOB_TITLE", fl.attr_job_title.take())?,
        manager: attr("MANAGER", fl.attr_manager.take())?,
        seniority: match get("JITEA_LDAP_ATTR_SENIORITY").or(fl.attr_seniority.take()) {
            Some(v) => Some(attr_name("JITEA_LDAP_ATTR_SENIORITY", v)?),
            None => None,
        },
        external_id: attr("EXTERNAL_ID", fl.attr_external_id.take())?,
    };
    let num = |name: &str, f: Option<u64>, default: u64, range: std::ops::RangeInclusive<u64>| {
        let v = match get(name) {
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map_err(|_| err(name, format!("`{v}` is not a whole number")))?,
            None => f.unwrap_or(default),
        };
        if range.contains(&v) {
            Ok(v)
        } else {
            Err(err(
                name,
                format!("must be between {} and {}", range.start(), range.end()),
            ))
        }
    };
    let max_deactivate_percent = num(
        "JITEA_LDAP_MAX_DEACTIVATE_PERCENT",
        fl.max_deactivate_percent,
        10,
        0..=100,
    )?;
    let page_size = num("JITEA_LDAP_PAGE_SIZE", fl.page_size, 500, 1..=10_000)? as i32;
    let mut title_seniority = Vec::new();
    for (title, level) in std::mem::take(&mut fl.title_seniority) {
        if !(0..=1000).contains(&level) {
            return Err(err(
                "ldap_title_seniority",
                format!("the seniority of `{title}` must be between 0 and 1000"),
            ));
        }
        title_seniority.push((title.trim().to_lowercase(), level));
    }
    Ok(Some(LdapConfig {
        url,
        starttls,
        allow_plain,
        bind_dn,
        bind_password: password.map(Secret),
        ca_file,
        user_base,
        user_filter: get("JITEA_LDAP_USER_FILTER")
            .or(fl.user_filter.take())
            .unwrap_or_else(|| "(objectClass=person)".into()),
        group_base: get("JITEA_LDAP_GROUP_BASE").or(fl.group_base.take()),
        group_filter: get("JITEA_LDAP_GROUP_FILTER")
            .or(fl.group_filter.take())
            .unwrap_or_else(|| "(|(objectClass=groupOfNames)(objectClass=group))".into()),
        attrs,
        title_seniority,
        max_deactivate_percent,
        page_size,
    }))
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
                crate::auth::password::validate_new_password(p, l.trim())
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

        let expiry_batch = match env("JITEA_EXPIRY_BATCH") {
            Some(v) => v.trim().parse::<i64>().map_err(|_| {
                err(
                    "JITEA_EXPIRY_BATCH",
                    format!("`{v}` is not a whole number of grants"),
                )
            })?,
            None => fc.expiry_batch.unwrap_or(2000),
        };
        if !(1..=10_000).contains(&expiry_batch) {
            return Err(err("JITEA_EXPIRY_BATCH", "must be between 1 and 10000"));
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
        let jwt_secret_file = pick("JITEA_JWT_SECRET_FILE", fc.jwt_secret_file).map(PathBuf::from);
        let secret_key = pick("JITEA_SECRET_KEY", fc.secret_key);
        if let Some(s) = &secret_key {
            if s.trim().len() < crate::auth::keyring::MIN_SECRET_LEN {
                return Err(err("JITEA_SECRET_KEY", "must be at least 32 characters"));
            }
        }
        let secret_key_file = pick("JITEA_SECRET_KEY_FILE", fc.secret_key_file).map(PathBuf::from);
        let public_url = pick("JITEA_PUBLIC_URL", fc.public_url).map(|u| u.trim().to_string());
        if let Some(u) = &public_url {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                return Err(err(
                    "JITEA_PUBLIC_URL",
                    "must start with https:// or http://",
                ));
            }
        }
        let trust_proxy = match env("JITEA_TRUST_PROXY").filter(|v| !v.trim().is_empty()) {
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => return Err(err("JITEA_TRUST_PROXY", "must be true or false")),
            },
            None => fc.trust_proxy.unwrap_or(false),
        };
        let num = |name: &str,
                   f: Option<u64>,
                   default: u64,
                   range: std::ops::RangeInclusive<u64>|
         -> Result<u64, ConfigError> {
            let v = match env(name).filter(|v| !v.trim().is_empty()) {
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| err(name, format!("`{v}` is not a whole number")))?,
                None => f.unwrap_or(default),
            };
            if !range.contains(&v) {
                return Err(err(
                    name,
                    format!("must be between {} and {}", range.start(), range.end()),
                ));
            }
            Ok(v)
        };
        let reminder_minutes = num("JITEA_REMINDER_MINUTES", None, 15, 0..=1440)? as i64;
        let login_max_failures = num(
            "JITEA_LOGIN_MAX_FAILURES",
            fc.login_max_failures.map(|v| v.max(0) as u64),
            5,
            1..=1000,
        )? as i64;
        let login_lockout_secs = num(
            "JITEA_LOGIN_LOCKOUT_SECS",
            fc.login_lockout_secs.map(|v| v.max(0) as u64),
            30,
            1..=3600,
        )? as i64;
        let argon2_concurrency = num(
            "JITEA_ARGON2_CONCURRENCY",
            fc.argon2_concurrency,
            4,
            1..=256,
        )? as usize;
        let events_max_per_user = num(
            "JITEA_EVENTS_MAX_PER_USER",
            fc.events_max_per_user,
            5,
            1..=1000,
        )? as usize;
        let events_max_total = num(
            "JITEA_EVENTS_MAX_TOTAL",
            fc.events_max_total,
            1000,
            1..=100_000,
        )? as usize;
        let oidc_starts_per_minute = num(
            "JITEA_OIDC_STARTS_PER_MINUTE",
            fc.oidc_starts_per_minute,
            30,
            1..=10_000,
        )? as u32;

        let mut fc_ldap = FileLdap {
            url: fc.ldap_url,
            starttls: fc.ldap_starttls,
            allow_plain: fc.ldap_allow_plain,
            bind_dn: fc.ldap_bind_dn,
            bind_password: fc.ldap_bind_password,
            bind_password_file: fc.ldap_bind_password_file,
            ca_file: fc.ldap_ca_file,
            user_base: fc.ldap_user_base,
            user_filter: fc.ldap_user_filter,
            group_base: fc.ldap_group_base,
            group_filter: fc.ldap_group_filter,
            attr_login: fc.ldap_attr_login,
            attr_given_name: fc.ldap_attr_given_name,
            attr_surname: fc.ldap_attr_surname,
            attr_display_name: fc.ldap_attr_display_name,
            attr_email: fc.ldap_attr_email,
            attr_department: fc.ldap_attr_department,
            attr_division: fc.ldap_attr_division,
            attr_job_title: fc.ldap_attr_job_title,
            attr_manager: fc.ldap_attr_manager,
            attr_seniority: fc.ldap_attr_seniority,
            attr_external_id: fc.ldap_attr_external_id,
            max_deactivate_percent: fc.ldap_max_deactivate_percent,
            page_size: fc.ldap_page_size,
            title_seniority: fc.ldap_title_seniority,
            directory_sync_interval_secs: fc.directory_sync_interval_secs,
        };
        let ldap = load_ldap(&env, &mut fc_ldap)?;
        let directory_sync_interval_secs =
            match env("JITEA_DIRECTORY_SYNC_INTERVAL_SECS").filter(|v| !v.trim().is_empty()) {
                Some(v) => Some(v.trim().parse::<u64>().map_err(|_| {
                    err(
                        "JITEA_DIRECTORY_SYNC_INTERVAL_SECS",
                        format!("`{v}` is not a whole number of seconds"),
                    )
                })?),
                None => fc_ldap.directory_sync_interval_secs,
            };
        if let Some(v) = directory_sync_interval_secs {
            if !(60..=604_800).contains(&v) {
                return Err(err(
                    "JITEA_DIRECTORY_SYNC_INTERVAL_SECS",
                    "must be between 60 and 604800 (one week)",
                ));
            }
        }

        let oidc = oidc_config(&env, public_url.as_deref())?;
        let local_login = bool_setting(&env, "JITEA_LOCAL_LOGIN")?.unwrap_or(true);
        let smtp = smtp_config(&env, public_url.as_deref())?;
        let webhook_allow_http = bool_setting(&env, "JITEA_WEBHOOK_ALLOW_HTTP")?.unwrap_or(false);
        let chat = chat_config(&env, public_url.as_deref(), webhook_allow_http)?;

        Ok(Self {
            oidc,
            local_login,
            smtp,
            chat,
            webhook_allow_http,
            reminder_minutes,
            ldap,
            directory_sync_interval_secs,
            jwt_secret_file,
            secret_key,
            secret_key_file,
            public_url,
            trust_proxy,
            login_max_failures,
            login_lockout_secs,
            argon2_concurrency,
            events_max_per_user,
            events_max_total,
            oidc_starts_per_minute,
            bind,
            data_dir,
            database_url,
            bootstrap_admin,
            token_ttl_minutes,
            log_level,
            jwt_secret,
            expiry_interval_secs,
            expiry_batch,
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

    /// Whether users reach the service over HTTPS by configuration (`JITEA_PUBLIC_URL`).
    pub fn public_https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
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
    fn oidc_settings_need_a_secret_a_public_url_and_an_https_issuer() {
        let base = [
            ("JITEA_OIDC_ISSUER", "https://login.example.com/realm/"),
            ("JITEA_OIDC_CLIENT_ID", "jitea"),
            ("JITEA_OIDC_CLIENT_SECRET", "s3cret"),
            ("JITEA_PUBLIC_URL", "https://jitea.example.com/"),
        ];
        let c = load(&base).unwrap();
        let o = c.oidc.as_ref().unwrap();
        assert_eq!(o.issuer, "https://login.example.com/realm");
        assert_eq!(
            o.redirect_uri,
            "https://jitea.example.com/api/v1/auth/oidc/callback"
        );
        assert_eq!(o.login_claim, "preferred_username");
        assert!(o.create_users && !o.client_auth_post && o.audience.is_none());
        assert!(c.local_login);
        assert!(
            !format!("{c:?}").contains("s3cret"),
            "the secret is never printed"
        );

        let with = |k: &'static str, v: &'static str| {
            let mut p: Vec<(&str, &str)> = base.iter().filter(|(n, _)| *n != k).copied().collect();
            if !v.is_empty() {
                p.push((k, v));
            }
            load(&p)
        };
        assert_eq!(
            with("JITEA_OIDC_CLIENT_SECRET", "").unwrap_err().setting,
            "JITEA_OIDC_CLIENT_SECRET"
        );
        assert_eq!(
            with("JITEA_PUBLIC_URL", "").unwrap_err().setting,
            "JITEA_PUBLIC_URL"
        );
        assert_eq!(
            with("JITEA_OIDC_CLIENT_ID", "").unwrap_err().setting,
            "JITEA_OIDC_CLIENT_ID"
        );
        assert_eq!(
            with("JITEA_OIDC_ISSUER", "http://login.example.com")
                .unwrap_err()
                .setting,
            "JITEA_OIDC_ISSUER"
        );
        assert!(with("JITEA_OIDC_ISSUER", "http://127.0.0.1:9000").is_ok());
        assert_eq!(
            with("JITEA_OIDC_CLIENT_AUTH", "private_key_jwt")
                .unwrap_err()
                .setting,
            "JITEA_OIDC_CLIENT_AUTH"
        );
        assert!(
            with("JITEA_OIDC_CLIENT_AUTH", "client_secret_post")
                .unwrap()
                .oidc
                .unwrap()
                .client_auth_post
        );
        // A directory sync is the source of users: sign-in then does not create them.
        let mut with_ldap = base.to_vec();
        with_ldap.push(("JITEA_LDAP_URL", "ldaps://dc.example.com"));
        with_ldap.push(("JITEA_LDAP_USER_BASE", "ou=people,dc=example,dc=com"));
        assert!(!load(&with_ldap).unwrap().oidc.unwrap().create_users);
        assert!(!with("JITEA_LOCAL_LOGIN", "false").unwrap().local_login);
        assert_eq!(
            with("JITEA_LOCAL_LOGIN", "maybe").unwrap_err().setting,
            "JITEA_LOCAL_LOGIN"
        );
    }

    #[test]
    fn directory_settings_parse_and_never_show_the_password() {
        let c = load(&[]).unwrap();
        assert!(c.ldap.is_none());
        assert!(c.directory_sync_interval_secs.is_none());
        let c = load(&[
            ("JITEA_LDAP_URL", "ldap://dc:389"),
            ("JITEA_LDAP_STARTTLS", "true"),
            ("JITEA_LDAP_BIND_DN", "cn=sync,dc=x"),
            ("JITEA_LDAP_BIND_PASSWORD", "very-secret-bind-pw"),
            ("JITEA_LDAP_USER_BASE", "ou=people,dc=x"),
            ("JITEA_LDAP_ATTR_LOGIN", "sAMAccountName"),
            ("JITEA_DIRECTORY_SYNC_INTERVAL_SECS", "3600"),
        ])
        .unwrap();
        let l = c.ldap.as_ref().unwrap();
        assert!(l.starttls && !l.allow_plain);
        assert_eq!(l.attrs.login, "sAMAccountName");
        assert_eq!(l.attrs.email, "mail");
        assert_eq!(l.max_deactivate_percent, 10);
        assert_eq!(c.directory_sync_interval_secs, Some(3600));
        assert!(!format!("{c:?}").contains("very-secret-bind-pw"));
        for (k, v) in [
            ("JITEA_LDAP_URL", "http://dc"),
            ("JITEA_LDAP_ATTR_LOGIN", "uid)(x=*"),
            ("JITEA_LDAP_MAX_DEACTIVATE_PERCENT", "101"),
            ("JITEA_LDAP_STARTTLS", "maybe"),
            ("JITEA_DIRECTORY_SYNC_INTERVAL_SECS", "5"),
            ("JITEA_LDAP_BIND_PASSWORD_FILE", "/nonexistent/jitea-pw"),
        ] {
            let mut env = vec![
                ("JITEA_LDAP_URL", "ldaps://dc"),
                ("JITEA_LDAP_USER_BASE", "dc=x"),
            ];
            if k == "JITEA_LDAP_BIND_PASSWORD_FILE" {
                env.push(("JITEA_LDAP_BIND_DN", "cn=sync,dc=x"));
            }
            env.retain(|(ek, _)| *ek != k);
            env.push((k, v));
            assert_eq!(load(&env).unwrap_err().setting, k, "{k}={v}");
        }
        // Without a base the sync cannot run: refused at start.
        let e = load(&[("JITEA_LDAP_URL", "ldaps://dc")]).unwrap_err();
        assert_eq!(e.setting, "JITEA_LDAP_USER_BASE");
    }

    #[test]
    fn chat_urls_need_https_and_a_public_url_and_never_show_in_debug() {
        assert!(load(&[]).unwrap().chat.routes(None).is_empty());
        let c = load(&[
            ("JITEA_PUBLIC_URL", "https://jitea.example"),
            (
                "JITEA_SLACK_WEBHOOK_URL",
                "https://hooks.slack.com/services/T0/B0/SECRETX",
            ),
        ])
        .unwrap();
        assert_eq!(
            c.chat.routes(Some("nokey")),
            [(
                jitea_shared::NotificationChannel::Slack,
                "slack".to_string()
            )]
        );
        assert!(!format!("{c:?}").contains("SECRETX"));
        assert!(load(&[("JITEA_SLACK_WEBHOOK_URL", "https://hooks.slack.com/x")]).is_err());
        let plain = [
            ("JITEA_PUBLIC_URL", "https://jitea.example"),
            ("JITEA_TEAMS_WEBHOOK_URL", "http://127.0.0.1:9/hook"),
        ];
        assert!(load(&plain).is_err());
        let mut allowed = plain.to_vec();
        allowed.push(("JITEA_WEBHOOK_ALLOW_HTTP", "true"));
        assert!(load(&allowed).unwrap().chat.teams.is_some());
    }

    #[test]
    fn smtp_is_off_without_a_host_and_starttls_unless_told_otherwise() {
        assert!(load(&[]).unwrap().smtp.is_none());
        let base = [
            ("JITEA_SMTP_HOST", "smtp.example.com"),
            ("JITEA_SMTP_FROM", "JITEA <jitea@example.com>"),
            ("JITEA_PUBLIC_URL", "https://jitea.example.com"),
        ];
        let c = load(&base).unwrap();
        let s = c.smtp.as_ref().unwrap();
        assert_eq!((s.tls, s.port), (SmtpTls::StartTls, 587));
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut all = base.to_vec();
            all.extend_from_slice(extra);
            load(&all)
        };
        let s = with(&[("JITEA_SMTP_TLS", "tls")]).unwrap().smtp.unwrap();
        assert_eq!((s.tls, s.port), (SmtpTls::Tls, 465));
        let s = with(&[("JITEA_SMTP_TLS", "none"), ("JITEA_SMTP_PORT", "2525")])
            .unwrap()
            .smtp
            .unwrap();
        assert_eq!((s.tls, s.port), (SmtpTls::None, 2525));
        let s = with(&[
            ("JITEA_SMTP_USER", "mailer"),
            ("JITEA_SMTP_PASSWORD", "very-secret-smtp-pw"),
        ])
        .unwrap()
        .smtp
        .unwrap();
        assert!(!format!("{s:?}").contains("very-secret-smtp-pw"));
        for (extra, setting) in [
            (&[("JITEA_SMTP_TLS", "plain")][..], "JITEA_SMTP_TLS"),
            (&[("JITEA_SMTP_PORT", "0")][..], "JITEA_SMTP_PORT"),
            (&[("JITEA_SMTP_USER", "mailer")][..], "JITEA_SMTP_USER"),
            (
                &[("JITEA_SMTP_FROM", "not an address")][..],
                "JITEA_SMTP_FROM",
            ),
        ] {
            assert_eq!(with(extra).unwrap_err().setting, setting);
        }
        let e = load(&base[..2]).unwrap_err();
        assert_eq!(e.setting, "JITEA_PUBLIC_URL");
        let e = load(&base[..1]).unwrap_err();
        assert_eq!(e.setting, "JITEA_SMTP_FROM");
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
    fn the_reminder_lead_time_is_minutes_from_0_to_1440() {
        assert_eq!(load(&[]).unwrap().reminder_minutes, 15);
        assert_eq!(
            load(&[("JITEA_REMINDER_MINUTES", "0")])
                .unwrap()
                .reminder_minutes,
            0
        );
        assert_eq!(
            load(&[("JITEA_REMINDER_MINUTES", "60")])
                .unwrap()
                .reminder_minutes,
            60
        );
        for bad in ["1441", "-1", "soon"] {
            let e = load(&[("JITEA_REMINDER_MINUTES", bad)]).unwrap_err();
            assert_eq!(e.setting, "JITEA_REMINDER_MINUTES", "{bad}");
        }
    }

    #[test]
    fn security_settings_are_checked() {
        let c = load(&[]).unwrap();
        assert!(!c.trust_proxy && !c.public_https());
        assert_eq!((c.login_max_failures, c.events_max_per_user), (5, 5));
        for (k, v) in [
            ("JITEA_SECRET_KEY", "too-short"),
            ("JITEA_TRUST_PROXY", "maybe"),
            ("JITEA_PUBLIC_URL", "jitea.example"),
            ("JITEA_LOGIN_MAX_FAILURES", "0"),
            ("JITEA_EVENTS_MAX_TOTAL", "lots"),
        ] {
            assert_eq!(load(&[(k, v)]).unwrap_err().setting, k);
        }
        let c = load(&[
            ("JITEA_PUBLIC_URL", "https://jitea.example"),
            ("JITEA_TRUST_PROXY", "true"),
        ])
        .unwrap();
        assert!(c.trust_proxy && c.public_https());
        let e = load(&[("JITEA_BOOTSTRAP_ADMIN", "root:password1234")]).unwrap_err();
        assert_eq!(e.setting, "JITEA_BOOTSTRAP_ADMIN");
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
