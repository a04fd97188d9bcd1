//! AWS for the `aws_sso` tests: moto's server (PyPI `moto[server]`, pinned and installed by
//! `scripts/ensure_moto.sh`, whose bin directory `scripts/test.sh` exports as
//! `$JITEA_MOTO_BIN`), one per test on a free port, and AWS's own CLI from the same venv to
//! set things up and to look at what is there, never JITEA's code.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::free_port;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repository root")
        .to_path_buf()
}

/// The venv's bin directory holding `moto_server` and `aws`.
pub fn bin() -> &'static PathBuf {
    static B: OnceLock<PathBuf> = OnceLock::new();
    B.get_or_init(|| {
        if let Ok(p) = std::env::var("JITEA_MOTO_BIN") {
            return PathBuf::from(p);
        }
        let out = Command::new(repo_root().join("scripts/ensure_moto.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/ensure_moto.sh");
        assert!(
            out.status.success(),
            "scripts/ensure_moto.sh failed: the aws_sso tests need python3 and PyPI moto[server], awscli"
        );
        PathBuf::from(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .last()
                .expect("ensure_moto.sh printed no path")
                .trim(),
        )
    })
}

/// The region every test uses.
pub const REGION: &str = "us-east-1";

/// A running moto server (`tests/moto_server.py`).
pub struct Moto {
    pub url: String,
    child: Child,
}

impl Moto {
    pub fn start() -> Self {
        let port = free_port();
        // tests/moto_server.py: moto_server, with permission set ARNs named as AWS names them.
        let child = Command::new(bin().join("python"))
            .arg(repo_root().join("tests/moto_server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let m = Moto {
            url: format!("http://127.0.0.1:{port}"),
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        m
    }

    /// The environment a JITEA server needs to reach this moto with test credentials.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_ENDPOINT_URL", self.url.clone()),
        ]
    }

    /// Runs the AWS CLI against this moto and returns its JSON output (Null for none);
    /// panics with its error output when it fails.
    pub fn aws(&self, args: &[&str]) -> Value {
        let out = self.aws_raw(args);
        assert!(
            out.status.success(),
            "aws {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("aws printed JSON")
        }
    }

    fn aws_raw(&self, args: &[&str]) -> std::process::Output {
        Command::new(bin().join("aws"))
            .args(args)
            .args(["--output", "json"])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_ENDPOINT_URL", &self.url)
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .output()
            .expect("run aws")
    }

    /// `(instance_arn, identity_store_id)` of the instance moto starts with.
    pub fn instance(&self) -> (String, String) {
        let v = self.aws(&["sso-admin", "list-instances"]);
        let i = &v["Instances"][0];
        (
            i["InstanceArn"].as_str().expect("an instance").to_string(),
            i["IdentityStoreId"].as_str().expect("a store").to_string(),
        )
    }

    /// Creates an Identity Store user; returns its user id.
    pub fn create_user(&self, store: &str, user_name: &str, email: &str) -> String {
        let v = self.aws(&[
            "identitystore",
            "create-user",
            "--identity-store-id",
            store,
            "--user-name",
            user_name,
            "--display-name",
            user_name,
            "--name",
            &format!("GivenName={user_name},FamilyName=Test"),
            "--emails",
            &format!("Value={email},Primary=true"),
        ]);
        v["UserId"].as_str().expect("a user id").to_string()
    }

    /// Creates a permission set; returns its ARN.
    pub fn create_permission_set(&self, instance: &str, name: &str, duration: &str) -> String {
        let v = self.aws(&[
            "sso-admin",
            "create-permission-set",
            "--instance-arn",
            instance,
            "--name",
            name,
            "--session-duration",
            duration,
        ]);
        v["PermissionSet"]["PermissionSetArn"]
            .as_str()
            .expect("an ARN")
            .to_string()
    }

    /// Creates an organization (once) and an account in it; returns the account id.
    pub fn create_account(&self, name: &str) -> String {
        let _ = self.aws_raw(&[
            "organizations",
            "create-organization",
            "--feature-set",
            "ALL",
        ]);
        let v = self.aws(&[
            "organizations",
            "create-account",
            "--email",
            &format!("{name}@example.com"),
            "--account-name",
            name,
        ]);
        v["CreateAccountStatus"]["AccountId"]
            .as_str()
            .expect("an account id")
            .to_string()
    }

    /// `(principal type, principal id)` of every assignment of `ps` on `account`, as
    /// `aws sso-admin list-account-assignments` prints them.
    pub fn assignments(&self, instance: &str, account: &str, ps: &str) -> Vec<(String, String)> {
        let v = self.aws(&[
            "sso-admin",
            "list-account-assignments",
            "--instance-arn",
            instance,
            "--account-id",
            account,
            "--permission-set-arn",
            ps,
        ]);
        v["AccountAssignments"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                (
                    a["PrincipalType"].as_str().unwrap_or_default().to_string(),
                    a["PrincipalId"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// Assigns `ps` on `account` to a user by hand (drift).
    pub fn assign(&self, instance: &str, account: &str, ps: &str, user_id: &str) {
        self.aws(&[
            "sso-admin",
            "create-account-assignment",
            "--instance-arn",
            instance,
            "--target-id",
            account,
            "--target-type",
            "AWS_ACCOUNT",
            "--permission-set-arn",
            ps,
            "--principal-type",
            "USER",
            "--principal-id",
            user_id,
        ]);
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
