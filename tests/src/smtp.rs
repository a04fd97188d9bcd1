//! A real SMTP server for the notification tests: PyPI `aiosmtpd` (installed by
//! `scripts/ensure_aiosmtpd.sh`, whose python `scripts/test.sh` exports as
//! `$JITEA_AIOSMTPD_PYTHON`) running `tests/smtp_sink.py`, one per test on a port it picks
//! itself, storing each message as a file.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repository root")
        .to_path_buf()
}

static SINKS: AtomicU32 = AtomicU32::new(0);

pub fn python() -> &'static str {
    static P: OnceLock<String> = OnceLock::new();
    P.get_or_init(|| {
        if let Ok(p) = std::env::var("JITEA_AIOSMTPD_PYTHON") {
            return p;
        }
        let out = Command::new(repo_root().join("scripts/ensure_aiosmtpd.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/ensure_aiosmtpd.sh");
        assert!(
            out.status.success(),
            "scripts/ensure_aiosmtpd.sh failed: the notification tests need python3 and PyPI aiosmtpd"
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .expect("ensure_aiosmtpd.sh printed no path")
            .trim()
            .to_string()
    })
}

/// Starts `script` (a sink under `tests/`) with the tests' python and `args`; it prints
/// "listening PORT" once ready. Returns the process and its port.
pub fn spawn_sink(script: &str, args: &[&str]) -> (Child, u16) {
    let mut child = Command::new(python())
        .arg(repo_root().join(script))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start {script}: {e}"));
    let stdout = child.stdout.take().expect("sink stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the sink's port");
    let port = line
        .trim()
        .strip_prefix("listening ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{script} did not start: {line:?}"));
    (child, port)
}

/// A running SMTP sink.
pub struct SmtpSink {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

/// One received message.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The whole message as received (envelope recipients first, as `X-Envelope-To:`).
    pub raw: String,
}

impl Mail {
    /// The first header of that name (unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or("");
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    pub fn to(&self) -> String {
        self.header("X-Envelope-To").unwrap_or_default()
    }
}

impl SmtpSink {
    /// Starts a sink that answers 451 to the first `refuse_first` messages.
    pub fn start(refuse_first: u32) -> Self {
        Self::start_holding(refuse_first, 0)
    }

    /// Like `start`, and the first accepted message is stored at once but its "250" answer
    /// is held back `hold_first_secs` seconds.
    pub fn start_holding(refuse_first: u32, hold_first_secs: u32) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "jitea-smtp-{}-{}",
            std::process::id(),
            SINKS.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("sink folder");
        let dir_arg = dir.display().to_string();
        let (child, port) = spawn_sink(
            "tests/smtp_sink.py",
            &[
                &dir_arg,
                &refuse_first.to_string(),
                &hold_first_secs.to_string(),
            ],
        );
        Self { port, dir, child }
    }

    /// The server settings that point JITEA at this sink (plain SMTP, allowed explicitly).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("JITEA_SMTP_HOST", "127.0.0.1".to_string()),
            ("JITEA_SMTP_PORT", self.port.to_string()),
            ("JITEA_SMTP_TLS", "none".to_string()),
            ("JITEA_SMTP_FROM", "JITEA <jitea@jitea.test>".to_string()),
            ("JITEA_PUBLIC_URL", "http://jitea.test".to_string()),
        ]
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Mail> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .expect("read the sink folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| Mail {
                raw: std::fs::read_to_string(p).expect("read a message"),
            })
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
