//! Reading the directory: connect over LDAPS or StartTLS (plain LDAP only when
//! `JITEA_LDAP_ALLOW_PLAIN` says so), simple bind, paged search (RFC 2696) of users and, when
//! configured, groups. Certificates are always verified: against the system's roots, or the
//! CA file `JITEA_LDAP_CA_FILE` names (for a private or test directory).
//! Errors never carry the bind password.

use std::sync::Arc;
use std::time::Duration;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry};

use super::mapping::RawEntry;
use crate::config::LdapConfig;

/// What one read of the directory returned.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub users: Vec<RawEntry>,
    /// `None` when no group base is configured (teams then come from `memberOf`).
    pub groups: Option<Vec<RawEntry>>,
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("plain LDAP is refused: use ldaps://, or JITEA_LDAP_STARTTLS=true, or allow it explicitly with JITEA_LDAP_ALLOW_PLAIN=true")]
    PlainRefused,
    #[error("cannot read the CA file: {0}")]
    CaFile(String),
    #[error("directory: {0}")]
    Ldap(String),
    #[error("the directory did not answer within {0} s")]
    Timeout(u64),
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The whole read (bind and every page).
const READ_TIMEOUT: Duration = Duration::from_secs(300);

/// Whether the settings would send the bind password unencrypted.
pub fn is_plain(cfg: &LdapConfig) -> bool {
    cfg.url.to_ascii_lowercase().starts_with("ldap://") && !cfg.starttls
}

fn tls_config(cfg: &LdapConfig) -> Result<Option<Arc<rustls::ClientConfig>>, DirectoryError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let Some(path) = &cfg.ca_file else {
        return Ok(None);
    };
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| DirectoryError::CaFile(format!("{}: {e}", path.display())))?;
    for c in certs {
        let c = c.map_err(|e| DirectoryError::CaFile(format!("{}: {e}", path.display())))?;
        roots
            .add(c)
            .map_err(|e| DirectoryError::CaFile(format!("{}: {e}", path.display())))?;
    }
    if roots.is_empty() {
        return Err(DirectoryError::CaFile(format!(
            "{}: no certificate in it",
            path.display()
        )));
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| DirectoryError::Ldap(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Some(Arc::new(config)))
}

fn ldap_err(e: ldap3::LdapError) -> DirectoryError {
    DirectoryError::Ldap(e.to_string())
}

async fn search(
    ldap: &mut Ldap,
    base: &str,
    filter: &str,
    attrs: &[String],
    page_size: i32,
) -> Result<Vec<RawEntry>, DirectoryError> {
    let adapters: Vec<Box<dyn Adapter<_, _>>> = vec![
        Box::new(EntriesOnly::new()),
        Box::new(PagedResults::new(page_size)),
    ];
    let mut stream = ldap
        .streaming_search_with(adapters, base, Scope::Subtree, filter, attrs.to_vec())
        .await
        .map_err(ldap_err)?;
    let mut out = Vec::new();
    while let Some(entry) = stream.next().await.map_err(ldap_err)? {
        let e = SearchEntry::construct(entry);
        let mut raw = RawEntry {
            dn: e.dn,
            ..Default::default()
        };
        for (k, vs) in e.attrs {
            raw.attrs
                .entry(k.to_ascii_lowercase())
                .or_default()
                .extend(vs.into_iter().map(String::into_bytes));
        }
        for (k, vs) in e.bin_attrs {
            raw.attrs
                .entry(k.to_ascii_lowercase())
                .or_default()
                .extend(vs);
        }
        out.push(raw);
    }
    stream.finish().await.success().map_err(ldap_err)?;
    Ok(out)
}

async fn read(cfg: &LdapConfig) -> Result<Snapshot, DirectoryError> {
    let mut settings = LdapConnSettings::new()
        .set_conn_timeout(CONNECT_TIMEOUT)
        .set_starttls(cfg.starttls);
    if let Some(c) = tls_config(cfg)? {
        settings = settings.set_config(c);
    }
    let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &cfg.url)
        .await
        .map_err(ldap_err)?;
    ldap3::drive!(conn);
    if let (Some(dn), Some(pw)) = (&cfg.bind_dn, &cfg.bind_password) {
        ldap.simple_bind(dn, &pw.0)
            .await
            .map_err(ldap_err)?
            .success()
            .map_err(|e| DirectoryError::Ldap(format!("bind as {dn} failed: {e}")))?;
    }
    let a = &cfg.attrs;
    let mut attrs: Vec<String> = [
        &a.login,
        &a.given_name,
        &a.surname,
        &a.display_name,
        &a.email,
        &a.department,
        &a.division,
        &a.job_title,
        &a.manager,
        &a.external_id,
    ]
    .into_iter()
    .cloned()
    .collect();
    attrs.extend(a.seniority.clone());
    attrs.push("userAccountControl".into());
    if cfg.group_base.is_none() {
        attrs.push("memberOf".into());
    }
    let users = search(
        &mut ldap,
        &cfg.user_base,
        &cfg.user_filter,
        &attrs,
        cfg.page_size,
    )
    .await?;
    let groups = match &cfg.group_base {
        Some(base) => Some(
            search(
                &mut ldap,
                base,
                &cfg.group_filter,
                &["cn".to_string(), "member".to_string()],
                cfg.page_size,
            )
            .await?,
        ),
        None => None,
    };
    let _ = ldap.unbind().await;
    Ok(Snapshot { users, groups })
}

/// Reads the users (and groups) the settings select.
pub async fn fetch(cfg: &LdapConfig) -> Result<Snapshot, DirectoryError> {
    if is_plain(cfg) && !cfg.allow_plain {
        return Err(DirectoryError::PlainRefused);
    }
    tokio::time::timeout(READ_TIMEOUT, read(cfg))
        .await
        .map_err(|_| DirectoryError::Timeout(READ_TIMEOUT.as_secs()))?
}
