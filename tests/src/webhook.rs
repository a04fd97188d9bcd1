//! A local HTTP receiver for the webhook and chat tests: `tests/webhook_sink.py`, run with the
//! python of `scripts/ensure_aiosmtpd.sh` (which also installs the reference Standard Webhooks
//! library the sink verifies signatures with). It can be stopped and started again on the
//! same port, keeping what it received (a receiver that is down for a while).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

static SINKS: AtomicU32 = AtomicU32::new(0);

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repository root")
        .to_path_buf()
}

/// A running (or stopped) receiver.
pub struct WebhookSink {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

/// One POST the receiver accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: Value,
    pub body: String,
    /// The reference library verified its signature (paths under `/hooks`).
    pub verified: bool,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> String {
        self.headers[name].as_str().unwrap_or_default().to_string()
    }
}

fn spawn(dir: &std::path::Path, port: u16) -> (Child, u16) {
    crate::smtp::spawn_sink(
        "tests/webhook_sink.py",
        &[&dir.display().to_string(), &port.to_string()],
    )
}

impl WebhookSink {
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "jitea-webhooks-{}-{}",
            std::process::id(),
            SINKS.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("sink folder");
        let (child, port) = spawn(&dir, 0);
        Self {
            port,
            dir,
            child: Some(child),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The secret POSTs under `/hooks` are verified with.
    pub fn set_secret(&self, secret: &str) {
        std::fs::write(self.dir.join("secret"), secret).expect("write the secret");
    }

    /// Answers `path` with `status` from now on (0: normally again).
    pub fn force(&self, path: &str, status: u16) {
        let file = self.dir.join("status.json");
        let mut m: Value = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_else(|| serde_json::json!({}));
        if status == 0 {
            m.as_object_mut().expect("object").remove(path);
        } else {
            m[path] = status.into();
        }
        std::fs::write(file, m.to_string()).expect("write status.json");
    }

    /// Stops the receiver: connections to its port are refused until `resume`.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port, keeping what it received.
    pub fn resume(&mut self) {
        self.stop();
        let (child, _) = spawn(&self.dir, self.port);
        self.child = Some(child);
    }

    /// Every accepted POST so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        let text = std::fs::read_to_string(self.dir.join("received.jsonl")).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|v| Received {
                path: v["path"].as_str().unwrap_or_default().to_string(),
                headers: v["headers"].clone(),
                body: v["body"].as_str().unwrap_or_default().to_string(),
                verified: v["verified"] == true,
            })
            .collect()
    }

    /// The POSTs to `path`.
    pub fn at(&self, path: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
}

impl Drop for WebhookSink {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Checks Slack and Teams bodies with the vendors' own packages (`tests/chat_validate.mjs`,
/// installed by `scripts/ensure_chat_validators.sh`, or `$JITEA_CHAT_VALIDATORS`); panics
/// with every violation found.
pub fn validate_chat(items: &[(&str, Value)]) {
    let nm = match std::env::var("JITEA_CHAT_VALIDATORS") {
        Ok(v) => v,
        Err(_) => {
            let out = Command::new(repo_root().join("scripts/ensure_chat_validators.sh"))
                .stderr(Stdio::inherit())
                .output()
                .expect("run scripts/ensure_chat_validators.sh");
            assert!(out.status.success(), "ensure_chat_validators.sh failed");
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .last()
                .expect("a node_modules path")
                .trim()
                .to_string()
        }
    };
    let file = std::env::temp_dir().join(format!(
        "jitea-chat-{}-{}.json",
        std::process::id(),
        SINKS.fetch_add(1, Ordering::SeqCst)
    ));
    let list: Vec<Value> = items
        .iter()
        .map(|(kind, payload)| serde_json::json!({"kind": kind, "payload": payload}))
        .collect();
    std::fs::write(&file, Value::Array(list).to_string()).expect("write the payloads");
    let out = Command::new("node")
        .arg(repo_root().join("tests/chat_validate.mjs"))
        .arg(&file)
        .env("JITEA_CHAT_VALIDATORS", nm)
        .output()
        .expect("run node tests/chat_validate.mjs");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "the vendors' validators refused a chat message:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl WebhookSink {
    /// The entitlements the `/target` webhook target offers, each with no member yet.
    pub fn offer(&self, entitlements: &[&str]) {
        let m: serde_json::Map<String, Value> = entitlements
            .iter()
            .map(|e| (e.to_string(), Value::Array(Vec::new())))
            .collect();
        std::fs::write(
            self.dir.join("target.json"),
            serde_json::json!({"entitlements": m}).to_string(),
        )
        .expect("write target.json");
    }

    /// Who holds `entitlement` on the `/target` webhook target now.
    pub fn holders(&self, entitlement: &str) -> Vec<String> {
        let v: Value = std::fs::read_to_string(self.dir.join("target.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        v["entitlements"][entitlement]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl WebhookSink {
    /// The `/target` webhook target's state file (`target.json`).
    pub fn state_file(&self) -> PathBuf {
        self.dir.join("target.json")
    }
}
