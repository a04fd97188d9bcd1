//! Email over SMTP (lettre on tokio, rustls with the aws-lc-rs provider) and the message
//! templates: plain Rust functions that say who wants what, for how long and why, with a link
//! into the app. HTML bodies escape every value; no token or secret is ever put in a message.

use lettre::message::header::{ContentType, MessageId};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{SmtpConfig, SmtpTls};
use crate::store::notifications::Outgoing;

use super::webhook::SendError;

/// A configured SMTP sender.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The domain part of Message-IDs (the From address's domain).
    id_domain: String,
}

impl Mailer {
    pub fn new(cfg: &SmtpConfig) -> anyhow::Result<Self> {
        let from: Mailbox = cfg
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("JITEA_SMTP_FROM: {e}"))?;
        let tls = match cfg.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::StartTls => Tls::Required(TlsParameters::new(cfg.host.clone())?),
            SmtpTls::Tls => Tls::Wrapper(TlsParameters::new(cfg.host.clone())?),
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(cfg.host.as_str())
            .port(cfg.port)
            .tls(tls)
            .timeout(Some(std::time::Duration::from_secs(30)));
        if let (Some(u), Some(p)) = (&cfg.user, &cfg.password) {
            b = b.credentials(Credentials::new(u.clone(), p.clone()));
        }
        let id_domain = from.email.domain().to_string();
        Ok(Self {
            transport: b.build(),
            from,
            id_domain,
        })
    }

    /// Sends one delivery. The Message-ID is derived from the delivery's idempotency key, so a
    /// message sent again after a crash (at-least-once) carries the same id and a receiver can
    /// drop the duplicate. Errors are the SMTP server's answer or the connection problem,
    /// never a credential.
    pub async fn send(&self, d: &Outgoing) -> Result<(), SendError> {
        let to: Mailbox = d
            .address
            .parse()
            .map_err(|_| SendError::permanent("the recipient address is not valid"))?;
        let text = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(d.body_text.clone());
        let body = match &d.body_html {
            Some(html) => MultiPart::alternative().singlepart(text).singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(html.clone()),
            ),
            None => MultiPart::mixed().singlepart(text),
        };
        let msg = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(d.subject.clone())
            .header(MessageId::from(message_id(
                &d.idempotency_key,
                &self.id_domain,
            )))
            .multipart(body)
            .map_err(|e| SendError::permanent(format!("building the message failed: {e}")))?;
        self.transport
            .send(msg)
            .await
            .map(|_| ())
            .map_err(|e| smtp_error(&e))
    }
}

/// `<jitea.{key with ':' as '.'}@{domain}>`: stable per delivery.
pub fn message_id(idempotency_key: &str, domain: &str) -> String {
    let local: String = idempotency_key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '.' })
        .collect();
    format!("<jitea.{local}@{domain}>")
}

/// The SMTP error as stored and shown to admins: the server's code and text, or the kind of
/// connection failure. lettre's errors carry no credentials. A permanent (5xx) answer ends
/// the delivery at once: the server said the same message will never be accepted.
fn smtp_error(e: &lettre::transport::smtp::Error) -> SendError {
    let s = e.to_string();
    let s = s.chars().take(500).collect::<String>();
    if e.is_transient() {
        SendError::temporary(format!("temporary: {s}"))
    } else if e.is_permanent() {
        SendError::permanent(format!("permanent: {s}"))
    } else {
        SendError::temporary(s)
    }
}

/// What a message is about, loaded by the fan-out.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub requester: String,
    pub role: String,
    pub duration_minutes: Option<i64>,
    pub justification: Option<String>,
    pub ticket: Option<String>,
    pub request_id: Option<i64>,
    pub grant_id: Option<i64>,
    pub valid_to: Option<String>,
    pub reason: Option<String>,
    /// The role the request or grant is for (its chat channel routes chat messages).
    pub role_id: Option<i64>,
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// For an approver: someone needs a decision.
pub fn approval_needed(f: &Facts, public_url: &str) -> Rendered {
    let link = format!(
        "{}/approvals/{}",
        public_url.trim_end_matches('/'),
        f.request_id.unwrap_or(0)
    );
    let subject = format!("Decision needed: {} asks for {}", f.requester, f.role);
    let mut lines = vec![
        format!("{} asks for the role {}.", f.requester, f.role),
        format!("For how long: {}", duration(f.duration_minutes)),
        format!(
            "Why: {}",
            f.justification
                .as_deref()
                .unwrap_or("(no justification given)")
        ),
    ];
    if let Some(t) = &f.ticket {
        lines.push(format!("Ticket: {t}"));
    }
    lines.push(format!("Approve or deny it here: {link}"));
    render(subject, &lines, &link)
}

/// For the requester (or admins): what happened to a request or grant.
pub fn status_change(topic: &str, f: &Facts, public_url: &str, for_admins: bool) -> Rendered {
    let base = public_url.trim_end_matches('/');
    let link = match (topic, for_admins) {
        // Where the use is reviewed.
        ("grant.break_glass", _) => format!("{base}/approvals"),
        // The dashboard, where the grant's card offers "Extend".
        ("grant.expiring", _) => format!("{base}/"),
        ("drift.found", _) => format!("{base}/admin/targets"),
        ("directory.sync_refused", _) => format!("{base}/admin/directory"),
        (_, true) => format!("{base}/admin/grants"),
        (_, false) => format!("{base}/history"),
    };
    let (subject, first) = headline(topic, f, for_admins);
    let mut lines = vec![first];
    if let (Some(v), "grant.active" | "grant.extended" | "grant.expiring") = (&f.valid_to, topic) {
        lines.push(format!("Access ends at: {v} (UTC)"));
    }
    if let Some(r) = &f.reason {
        lines.push(format!("Reason: {r}"));
    }
    if let ("grant.break_glass", Some(j)) = (topic, &f.justification) {
        lines.push(format!("Justification: {j}"));
    }
    lines.push(format!("Details: {link}"));
    render(subject, &lines, &link)
}

fn headline(topic: &str, f: &Facts, for_admins: bool) -> (String, String) {
    let (r, who) = (&f.role, &f.requester);
    match (topic, for_admins) {
        ("request.approved", _) => (format!("Approved: {r}"), format!("Your request for {r} was approved.")),
        ("request.denied", _) => (format!("Denied: {r}"), format!("Your request for {r} was denied.")),
        ("request.expired", _) => (format!("Expired: your request for {r}"), format!("Your request for {r} was not decided in time and has expired.")),
        ("request.created" | "request.auto_approved", _) => (format!("Approved automatically: {r}"), format!("Your request for {r} was approved by policy.")),
        ("grant.active", _) => (format!("Your access to {r} is active"), format!("Your access to {r} is in place.")),
        ("grant.extended", _) => (format!("Your access to {r} was extended"), format!("Your access to {r} was extended.")),
        ("grant.revoked", _) => (format!("Your access to {r} was revoked"), format!("Your access to {r} was revoked.")),
        ("grant.failed", false) => (format!("Your access to {r} could not be given"), format!("Your access to {r} could not be set up on its target.")),
        ("grant.failed", true) => (format!("Provisioning failed: {r} for {who}"), format!("Access to {r} for {who} could not be set up on its target.")),
        ("grant.expiring", _) => (format!("Your access to {r} ends soon"), format!("Your access to {r} ends soon. If you still need it, extend it from your dashboard before it ends.")),
        ("grant.break_glass", _) => (format!("Break-glass use: {r} by {who}"), format!("{who} used break-glass access to {r}, granted at once without an approver. It needs an after-the-fact review.")),
        ("grant.expired", _) => (format!("Your access to {r} has ended"), format!("Your access to {r} reached its end and was removed.")),
        ("drift.found", _) => ("Drift found on targets".into(), "Reconciliation found access on a target that no grant explains, or access a grant should give that is missing.".into()),
        ("directory.sync_refused", _) => ("Directory sync refused".into(), "The directory sync stopped before deactivating more users than its guard allows. Nothing was changed.".into()),
        ("grant.revoke_failed", _) => (format!("Access could not be removed: {r} for {who}"), format!("Access to {r} for {who} could not be removed from its target; JITEA keeps retrying.")),
        _ => (format!("JITEA: {topic}"), format!("{topic}: {r} for {who}.")),
    }
}

pub(super) fn duration(minutes: Option<i64>) -> String {
    match minutes {
        None => "not stated".into(),
        Some(m) if m % 60 == 0 => format!("{} hour(s)", m / 60),
        Some(m) => format!("{m} minutes"),
    }
}

fn render(subject: String, lines: &[String], link: &str) -> Rendered {
    let text = format!("{}\n\n-- \nJITEA, just-in-time access\n", lines.join("\n"));
    let items: String = lines
        .iter()
        .map(|l| format!("<p>{}</p>", escape(l)))
        .collect();
    let html = format!(
        "<!DOCTYPE html><html><body>{items}<p><a href=\"{}\">Open in JITEA</a></p></body></html>",
        escape(link)
    );
    Rendered {
        subject: subject.replace(['\r', '\n'], " "),
        text,
        html,
    }
}

/// HTML-escapes text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            requester: "Ann <script>".into(),
            role: "prod-read".into(),
            duration_minutes: Some(120),
            justification: Some("incident \"42\" & more".into()),
            ticket: Some("INC-1".into()),
            request_id: Some(7),
            ..Facts::default()
        }
    }

    #[test]
    fn an_approver_is_told_who_wants_what_for_how_long_and_why_with_a_link() {
        let m = approval_needed(&facts(), "https://jitea.example/");
        assert!(m.subject.contains("prod-read"));
        assert!(m.text.contains("2 hour(s)"));
        assert!(m.text.contains("incident \"42\" & more"));
        assert!(m.text.contains("https://jitea.example/approvals/7"));
        assert!(m.html.contains("Ann &lt;script&gt;"));
        assert!(!m.html.contains("<script>"));
        assert!(m.html.contains("&quot;42&quot; &amp; more"));
    }

    #[test]
    fn the_requester_gets_a_link_to_their_history() {
        let m = status_change("request.denied", &facts(), "http://h", false);
        assert!(m.subject.starts_with("Denied"));
        assert!(m.text.contains("http://h/history"));
    }

    #[test]
    fn message_ids_are_stable_and_well_formed() {
        assert_eq!(
            message_id("12:email:3", "x.org"),
            "<jitea.12.email.3@x.org>"
        );
    }
}
