//! Small text helpers: times, durations, labels, and form input parsing.

use chrono::{DateTime, Datelike, Local, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use jitea_shared::*;

// Dates are formatted and parsed by hand rather than with chrono's `format`/`parse_from_str`:
// the strftime machinery costs tens of kilobytes of wasm for three fixed layouts.

/// A timestamp in the viewer's local time, e.g. `2026-11-23 14:05`.
pub fn time(t: &DateTime<Utc>) -> String {
    let l = t.with_timezone(&Local);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        l.year(),
        l.month(),
        l.day(),
        l.hour(),
        l.minute()
    )
}

/// A timestamp with seconds, for the audit log.
pub fn time_precise(t: &DateTime<Utc>) -> String {
    let l = t.with_timezone(&Local);
    format!("{}:{:02}", time(t), l.second())
}

/// The full UTC instant, for `title`/`datetime` attributes.
pub fn iso(t: &DateTime<Utc>) -> String {
    t.to_rfc3339()
}

/// `90` → `1 h 30 min`.
pub fn minutes(m: i64) -> String {
    let (d, h, min) = (m / 1440, (m % 1440) / 60, m % 60);
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(format!("{d} d"));
    }
    if h > 0 {
        parts.push(format!("{h} h"));
    }
    if min > 0 || parts.is_empty() {
        parts.push(format!("{min} min"));
    }
    parts.join(" ")
}

/// Time left as a countdown: `1h 02m 09s`, `4m 05s`, or `expiring…` once it has passed.
pub fn countdown(secs: i64) -> String {
    if secs <= 0 {
        return "expiring…".into();
    }
    let (d, h, m, s) = (
        secs / 86_400,
        (secs % 86_400) / 3600,
        (secs % 3600) / 60,
        secs % 60,
    );
    if d > 0 {
        format!("{d}d {h:02}h {m:02}m")
    } else if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else {
        format!("{m}m {s:02}s")
    }
}

/// How long ago, coarse: `just now`, `5 min ago`, `3 h ago`, `2 d ago`.
pub fn ago(t: &DateTime<Utc>, now: &DateTime<Utc>) -> String {
    let s = (*now - *t).num_seconds();
    match s {
        s if s < 60 => "just now".into(),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s => format!("{} d ago", s / 86_400),
    }
}

/// How far off, coarse: `in 1 h 5 min`, or as [`ago`] once it has passed.
pub fn relative(t: &DateTime<Utc>, now: &DateTime<Utc>) -> String {
    let s = (*t - *now).num_seconds();
    if s <= 0 {
        return ago(t, now);
    }
    format!("in {}", minutes((s + 59) / 60))
}

/// Human label of a request status (auto-approval is shown by the badge with its reason).
pub fn request_status(s: RequestStatus) -> &'static str {
    match s {
        RequestStatus::Pending => "pending",
        RequestStatus::Approved => "approved",
        RequestStatus::AutoApproved => "auto-approved",
        RequestStatus::Denied => "denied",
        RequestStatus::Cancelled => "cancelled",
        RequestStatus::Expired => "expired",
        RequestStatus::Revoked => "revoked",
    }
}

/// Why a request skipped the approver, in the words of the badge.
pub fn auto_reason(r: AutoApprovalReason) -> &'static str {
    match r {
        AutoApprovalReason::PreApprovedRole => "pre-approved role",
        AutoApprovalReason::SeniorityBypass => "seniority bypass",
        AutoApprovalReason::BreakGlass => "break-glass",
    }
}

/// `alice (Alice Smith)` or just `alice`.
pub fn user_label(u: &User) -> String {
    match u.display_name.as_deref().filter(|d| !d.is_empty()) {
        Some(d) if d != u.login_name => format!("{} ({d})", u.login_name),
        _ => u.login_name.clone(),
    }
}

/// `Some(text)` unless blank; how optional text inputs become optional fields.
pub fn opt_text(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Parses an optional whole number from a text input: blank is `Ok(None)`.
pub fn opt_int(s: &str) -> Result<Option<i64>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<i64>()
        .map(Some)
        .map_err(|_| "enter a whole number".to_string())
}

/// Reads an `<input type="datetime-local">` value (local wall time) as a UTC instant.
pub fn parse_local(s: &str) -> Result<Option<DateTime<Utc>>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let naive = parse_naive(t).ok_or_else(|| "enter a date and time".to_string())?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|l| Some(l.with_timezone(&Utc)))
        .ok_or_else(|| "that local time does not exist".to_string())
}

/// `YYYY-MM-DDTHH:MM[:SS]`, as `datetime-local` inputs produce.
fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    let (date, clock) = s.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<u32>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut c = clock.splitn(3, ':').map(|p| p.parse::<u32>().ok());
    let (h, min) = (c.next()??, c.next()??);
    let sec = c.next().unwrap_or(Some(0))?;
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, day)?.and_hms_opt(h, min, sec)
}

/// `from – to` validity window text; `always` when unbounded.
pub fn window(from: &Option<DateTime<Utc>>, to: &Option<DateTime<Utc>>) -> String {
    match (from, to) {
        (None, None) => "always".into(),
        (Some(f), None) => format!("from {}", time(f)),
        (None, Some(t)) => format!("until {}", time(t)),
        (Some(f), Some(t)) => format!("{} – {}", time(f), time(t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(minutes(0), "0 min");
        assert_eq!(minutes(90), "1 h 30 min");
        assert_eq!(minutes(1440), "1 d");
        assert_eq!(countdown(0), "expiring…");
        assert_eq!(countdown(65), "1m 05s");
        assert_eq!(countdown(3725), "1h 02m 05s");
        assert_eq!(
            parse_naive("2026-11-23T14:05"),
            NaiveDate::from_ymd_opt(2026, 11, 23).and_then(|d| d.and_hms_opt(14, 5, 0))
        );
        assert_eq!(parse_naive("2026-11-23"), None);
    }
}
