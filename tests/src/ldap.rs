//! A private OpenLDAP server (Debian `slapd`) for directory sync tests: its own cn=config
//! (loaded with `slapadd -n0`), an MDB database with the organisation the test gives, LDAPS
//! and plain/StartTLS listeners on free ports, a certificate authority and server certificate
//! made with `openssl` at start. Stopped and deleted on drop. `scripts/ensure_slapd.sh`
//! installs the packages; the system's slapd service is not used.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::free_port;

pub const SUFFIX: &str = "dc=jitea,dc=test";
pub const ROOT_DN: &str = "cn=admin,dc=jitea,dc=test";
pub const ROOT_PW: &str = "admin-secret-pw";
/// The account JITEA binds as (not the root DN, so the server's size limits apply to it).
pub const SYNC_DN: &str = "cn=jitea-sync,dc=jitea,dc=test";
pub const SYNC_PW: &str = "sync-secret-pw";
pub const PEOPLE: &str = "ou=people,dc=jitea,dc=test";
pub const GROUPS: &str = "ou=groups,dc=jitea,dc=test";

pub struct Slapd {
    pub dir: PathBuf,
    pub ldap_port: u16,
    pub ldaps_port: u16,
    pub ca_file: PathBuf,
    child: Child,
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run_stdin(cmd: &mut Command, input: &str, what: &str) {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{what} failed: {}{}\n{input}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn slapd_bin() -> &'static str {
    for p in ["/usr/sbin/slapd", "/usr/local/sbin/slapd"] {
        if Path::new(p).exists() {
            return p;
        }
    }
    panic!("slapd is not installed: run scripts/ensure_slapd.sh");
}

pub(crate) fn make_certs(dir: &Path) {
    let d = |f: &str| dir.join(f).display().to_string();
    run(
        Command::new("openssl").args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &d("ca.key"),
            "-out",
            &d("ca.pem"),
            "-days",
            "2",
            "-subj",
            "/CN=JITEA test CA",
        ]),
        "openssl CA",
    );
    run(
        Command::new("openssl").args([
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &d("server.key"),
            "-out",
            &d("server.csr"),
            "-subj",
            "/CN=127.0.0.1",
        ]),
        "openssl server key",
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(
        Command::new("openssl").args([
            "x509",
            "-req",
            "-in",
            &d("server.csr"),
            "-CA",
            &d("ca.pem"),
            "-CAkey",
            &d("ca.key"),
            "-CAcreateserial",
            "-out",
            &d("server.pem"),
            "-days",
            "2",
            "-extfile",
            &d("ext.cnf"),
        ]),
        "openssl server certificate",
    );
}

fn config_ldif(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {d}/slapd.pid
olcTLSCACertificateFile: {d}/ca.pem
olcTLSCertificateFile: {d}/server.pem
olcTLSCertificateKeyFile: {d}/server.key

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif

include: file:///etc/ldap/schema/cosine.ldif

include: file:///etc/ldap/schema/inetorgperson.ldif

dn: cn=jitea-ad,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: jitea-ad
olcAttributeTypes: ( 1.3.6.1.4.1.64000.1.1 NAME 'userAccountControl' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
olcAttributeTypes: ( 1.3.6.1.4.1.64000.1.2 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcObjectClasses: ( 1.3.6.1.4.1.64000.2.1 NAME 'jiteaAdAccount' AUXILIARY MAY ( userAccountControl $ sAMAccountName ) )

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {SUFFIX}
olcRootDN: {ROOT_DN}
olcRootPW: {ROOT_PW}
olcDbDirectory: {d}/data
olcDbMaxSize: 67108864
olcSizeLimit: size.soft=3 size.hard=3 size.prtotal=unlimited
olcAccess: to attrs=userPassword by anonymous auth by * none
olcAccess: to * by * read
"
    )
}

/// The fixed part of the tree: base, `ou=people`, `ou=groups`, the sync account.
fn base_ldif() -> String {
    format!(
        "dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
dc: jitea
o: JITEA test

dn: {PEOPLE}
objectClass: organizationalUnit
ou: people

dn: {GROUPS}
objectClass: organizationalUnit
ou: groups

dn: {SYNC_DN}
objectClass: person
cn: jitea-sync
sn: sync
userPassword: {SYNC_PW}

"
    )
}

impl Slapd {
    /// Starts a server whose tree holds the base entries and then `org` (LDIF).
    pub fn start(org: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "jitea-slapd-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(dir.join("slapd.d")).unwrap();
        std::fs::create_dir_all(dir.join("data")).unwrap();
        make_certs(&dir);
        std::fs::write(dir.join("config.ldif"), config_ldif(&dir)).unwrap();
        let conf = dir.join("slapd.d").display().to_string();
        run(
            Command::new("/usr/sbin/slapadd").args([
                "-n0",
                "-F",
                &conf,
                "-l",
                &dir.join("config.ldif").display().to_string(),
            ]),
            "slapadd -n0 (configuration)",
        );
        std::fs::write(dir.join("org.ldif"), format!("{}{org}", base_ldif())).unwrap();
        run(
            Command::new("/usr/sbin/slapadd").args([
                "-n1",
                "-F",
                &conf,
                "-l",
                &dir.join("org.ldif").display().to_string(),
            ]),
            "slapadd -n1 (organisation)",
        );
        let (ldap_port, ldaps_port) = (free_port(), free_port());
        let log = std::fs::File::create(dir.join("slapd.log")).unwrap();
        let child = Command::new(slapd_bin())
            .args([
                "-F",
                &conf,
                "-h",
                &format!("ldap://127.0.0.1:{ldap_port}/ ldaps://127.0.0.1:{ldaps_port}/"),
                "-d",
                "0",
            ])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start slapd");
        let s = Self {
            ca_file: dir.join("ca.pem"),
            dir,
            ldap_port,
            ldaps_port,
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ok = Command::new("ldapsearch")
                .args(["-x", "-H", &s.ldap_url(), "-b", "", "-s", "base", "-LLL"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|st| st.success())
                .unwrap_or(false);
            if ok {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "slapd did not start: {}",
                std::fs::read_to_string(s.dir.join("slapd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        s
    }

    pub fn ldap_url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.ldap_port)
    }

    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.ldaps_port)
    }

    /// Settings for JITEA over LDAPS, trusting this server's CA, groups under `ou=groups`.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("JITEA_LDAP_URL".into(), self.ldaps_url()),
            (
                "JITEA_LDAP_CA_FILE".into(),
                self.ca_file.display().to_string(),
            ),
            ("JITEA_LDAP_BIND_DN".into(), SYNC_DN.into()),
            ("JITEA_LDAP_BIND_PASSWORD".into(), SYNC_PW.into()),
            ("JITEA_LDAP_USER_BASE".into(), PEOPLE.into()),
            (
                "JITEA_LDAP_USER_FILTER".into(),
                "(objectClass=inetOrgPerson)".into(),
            ),
            ("JITEA_LDAP_GROUP_BASE".into(), GROUPS.into()),
            ("JITEA_LDAP_PAGE_SIZE".into(), "2".into()),
        ]
    }

    /// Applies an LDIF of changes (`changetype: ...`) as the root DN.
    pub fn modify(&self, ldif: &str) {
        run_stdin(
            Command::new("ldapmodify").args([
                "-x",
                "-H",
                &self.ldap_url(),
                "-D",
                ROOT_DN,
                "-w",
                ROOT_PW,
            ]),
            ldif,
            "ldapmodify",
        );
    }

    /// A search as the sync account WITHOUT paging: the server's size limit (3) applies, so
    /// this fails for more entries (the sync must page). Returns ldapsearch's exit code.
    pub fn unpaged_search_status(&self, base: &str) -> i32 {
        Command::new("ldapsearch")
            .args([
                "-x",
                "-H",
                &self.ldap_url(),
                "-D",
                SYNC_DN,
                "-w",
                SYNC_PW,
                "-b",
                base,
                "-LLL",
                "(objectClass=inetOrgPerson)",
                "dn",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.code().unwrap_or(-1))
            .unwrap_or(-1)
    }

    pub fn delete(&self, dn: &str) {
        run(
            Command::new("ldapdelete").args([
                "-x",
                "-H",
                &self.ldap_url(),
                "-D",
                ROOT_DN,
                "-w",
                ROOT_PW,
                dn,
            ]),
            "ldapdelete",
        );
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
