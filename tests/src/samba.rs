//! A private Samba Active Directory domain controller (Debian `samba`) for the AD mapping of
//! the directory sync: provisioned into a temp dir (`samba-tool domain provision`, realm
//! JITEA.TEST, no DNS), with a certificate authority and server certificate made at start
//! for LDAPS (so the product verifies it like any other). Samba listens on the fixed ports
//! (389, 636, 88, 445, ...) of the loopback interface: only one can run at a time, so one
//! test uses it. `scripts/ensure_samba.sh` installs the packages.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const REALM_DN: &str = "DC=jitea,DC=test";
pub const STAFF: &str = "OU=Staff,DC=jitea,DC=test";
pub const ADMIN_UPN: &str = "Administrator@jitea.test";
pub const ADMIN_PW: &str = "Adm1n-Passw0rd!jitea";
pub const USER_PW: &str = "Us3r-Passw0rd!jitea";

pub struct SambaDc {
    pub dir: PathBuf,
    pub ca_file: PathBuf,
    child: Child,
}

fn check(out: std::process::Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl SambaDc {
    pub fn start() -> Self {
        assert!(
            std::net::TcpListener::bind("127.0.0.1:636").is_ok(),
            "port 636 is taken: another directory server runs on this machine"
        );
        let dir = std::env::temp_dir().join(format!(
            "jitea-samba-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.display().to_string();
        check(
            Command::new("samba-tool")
                .args([
                    "domain",
                    "provision",
                    &format!("--targetdir={target}"),
                    "--realm=JITEA.TEST",
                    "--domain=JITEA",
                    "--server-role=dc",
                    "--dns-backend=NONE",
                    &format!("--adminpass={ADMIN_PW}"),
                    "--use-rfc2307",
                    "--option=interfaces=lo",
                    "--option=bind interfaces only=yes",
                ])
                .output()
                .expect("samba-tool (run scripts/ensure_samba.sh)"),
            "samba-tool domain provision",
        );
        let tls = dir.join("tlsx");
        std::fs::create_dir_all(&tls).unwrap();
        crate::ldap::make_certs(&tls);
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                tls.join("server.key"),
                std::fs::Permissions::from_mode(0o600),
            )
            .unwrap();
        }
        let conf = dir.join("etc/smb.conf");
        let text = std::fs::read_to_string(&conf).unwrap().replacen(
            "[global]",
            &format!(
                "[global]\n\ttls enabled = yes\n\ttls keyfile = {t}/server.key\n\ttls certfile = {t}/server.pem\n\ttls cafile = {t}/ca.pem",
                t = tls.display()
            ),
            1,
        );
        std::fs::write(&conf, text).unwrap();
        let log = std::fs::File::create(dir.join("samba.log")).unwrap();
        let child = Command::new("samba")
            .args(["-s", &conf.display().to_string(), "-F"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start samba");
        let s = Self {
            ca_file: tls.join("ca.pem"),
            dir,
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ok = s
                .ldap_cmd("ldapsearch")
                .args(["-b", REALM_DN, "-s", "base", "-LLL", "dn"])
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
                "samba did not start: {}",
                std::fs::read_to_string(s.dir.join("samba.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        s.tool(&["ou", "create", STAFF]);
        s
    }

    /// An OpenLDAP client command bound as the domain administrator over LDAPS.
    fn ldap_cmd(&self, prog: &str) -> Command {
        let mut c = Command::new(prog);
        c.env("LDAPTLS_CACERT", &self.ca_file).args([
            "-x",
            "-H",
            "ldaps://127.0.0.1:636",
            "-D",
            ADMIN_UPN,
            "-w",
            ADMIN_PW,
        ]);
        c
    }

    /// `samba-tool ARGS` against the running DC (as Administrator).
    pub fn tool(&self, args: &[&str]) -> String {
        check(
            Command::new("samba-tool")
                .args(args)
                .args([
                    "-H",
                    "ldap://127.0.0.1",
                    "-U",
                    "Administrator",
                    &format!("--password={ADMIN_PW}"),
                ])
                .output()
                .unwrap(),
            &format!("samba-tool {args:?}"),
        )
    }

    /// Applies an LDIF of changes over LDAPS as Administrator.
    pub fn modify(&self, ldif: &str) {
        use std::io::Write;
        let mut child = self
            .ldap_cmd("ldapmodify")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(ldif.as_bytes())
            .unwrap();
        check(child.wait_with_output().unwrap(), "ldapmodify");
    }

    /// JITEA's settings for this DC: LDAPS with its CA, the AD attribute names, users under
    /// `OU=Staff`, teams from `memberOf`.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("JITEA_LDAP_URL", "ldaps://127.0.0.1:636".to_string()),
            ("JITEA_LDAP_CA_FILE", self.ca_file.display().to_string()),
            ("JITEA_LDAP_BIND_DN", ADMIN_UPN.to_string()),
            ("JITEA_LDAP_BIND_PASSWORD", ADMIN_PW.to_string()),
            ("JITEA_LDAP_USER_BASE", STAFF.to_string()),
            (
                "JITEA_LDAP_USER_FILTER",
                "(&(objectClass=user)(objectCategory=person))".to_string(),
            ),
            ("JITEA_LDAP_ATTR_LOGIN", "sAMAccountName".to_string()),
            ("JITEA_LDAP_ATTR_DEPARTMENT", "department".to_string()),
            ("JITEA_LDAP_ATTR_DIVISION", "division".to_string()),
            ("JITEA_LDAP_ATTR_EXTERNAL_ID", "objectGUID".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

impl Drop for SambaDc {
    fn drop(&mut self) {
        // SIGTERM lets samba stop its own children (a SIGKILL would orphan them).
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Its children may still be closing the listeners.
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline && std::net::TcpListener::bind("127.0.0.1:636").is_err() {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
