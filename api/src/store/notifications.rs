//! Notification deliveries (`notification_deliveries`, `notification_attempts`) and the
//! fan-out cursor (`notification_cursor`, one row: the last outbox id turned into deliveries).

use chrono::{DateTime, Utc};
use jitea_shared::{DeliveryStatus, NotificationDelivery, Page};
use sqlx_oldapi::any::AnyRow;

use super::paging::{fetch_page, Order, PageReq};
use super::rows::{get, opt_i64, opt_str, opt_time, parsed, time};
use super::{Db, StoreError, Q};

/// The last outbox id fanned out.
pub async fn cursor(db: &mut Db<'_>) -> Result<i64, StoreError> {
    let r = db
        .fetch_optional(&Q::new(
            "SELECT last_outbox_id FROM notification_cursor WHERE id = 1",
        ))
        .await?;
    r.map(|r| get(&r, "last_outbox_id"))
        .transpose()
        .map(|v| v.unwrap_or(0))
}

/// Moves the cursor from `from` to `to` if it is still at `from` (compare-and-set; on
/// PostgreSQL/SQL Server the row stays locked until commit, so a concurrent advance waits and
/// then finds it moved). False: another process fanned these events out.
pub async fn advance_cursor(db: &mut Db<'_>, from: i64, to: i64) -> Result<bool, StoreError> {
    let q = Q::new(
        "UPDATE notification_cursor SET last_outbox_id = ? WHERE id = 1 AND last_outbox_id = ?",
    )
    .bind(to)
    .bind(from);
    Ok(db.execute(&q).await? == 1)
}

/// A delivery to create.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub outbox_id: i64,
    pub event_type: String,
    pub channel: &'static str,
    pub recipient_user_id: Option<i64>,
    pub address: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    /// The webhook subscription it goes to (channel `webhook`).
    pub subscription_id: Option<i64>,
}

impl NewDelivery {
    /// `"{outbox_id}:{channel}:{recipient}"`: one delivery per event, channel and recipient
    /// (the recipient is the user id, `s{id}` for a webhook subscription, or the address).
    pub fn idempotency_key(&self) -> String {
        let who = match (self.recipient_user_id, self.subscription_id) {
            (Some(id), _) => id.to_string(),
            (None, Some(s)) => format!("s{s}"),
            (None, None) => self.address.clone(),
        };
        format!("{}:{}:{}", self.outbox_id, self.channel, who)
    }
}

pub async fn insert(
    db: &mut Db<'_>,
    d: &NewDelivery,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    db.insert(
        "notification_deliveries",
        &[
            ("outbox_id", d.outbox_id.into()),
            ("event_type", d.event_type.as_str().into()),
            ("channel", d.channel.into()),
            ("recipient_user_id", d.recipient_user_id.into()),
            ("address", d.address.as_str().into()),
            ("subject", d.subject.as_str().into()),
            ("body_text", d.body_text.as_str().into()),
            ("body_html", d.body_html.clone().into()),
            ("subscription_id", d.subscription_id.into()),
            ("status", DeliveryStatus::Pending.as_str().into()),
            ("attempts", 0i64.into()),
            ("next_attempt_utc", now.into()),
            ("idempotency_key", d.idempotency_key().into()),
            ("created_utc", now.into()),
        ],
    )
    .await
}

/// Claims up to `limit` pending deliveries that are due and not leased by anyone, oldest
/// first, for `owner` until `lease_until`. Returns their ids.
///
/// In order per recipient: only the oldest pending delivery of each (channel, address) can be
/// claimed, so a later message never overtakes an earlier one that is waiting for a retry or
/// being sent by another process (a failed one no longer holds the queue).
pub async fn claim_due(
    db: &mut Db<'_>,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<i64>, StoreError> {
    let set = Q::new("lease_owner = ?, lease_until_utc = ?")
        .bind(owner)
        .bind(lease_until);
    let filter = Q::new(
        "status = ? AND next_attempt_utc <= ? AND (lease_until_utc IS NULL OR lease_until_utc < ?) \
         AND NOT EXISTS (SELECT 1 FROM notification_deliveries e WHERE e.channel = notification_deliveries.channel \
         AND e.address = notification_deliveries.address AND e.status = ? AND e.id < notification_deliveries.id)",
    )
    .bind(DeliveryStatus::Pending.as_str())
    .bind(now)
    .bind(now)
    .bind(DeliveryStatus::Pending.as_str());
    let q = Q::claim(
        "notification_deliveries",
        set,
        filter,
        "next_attempt_utc, id",
        limit,
    );
    db.fetch_ids(&q).await
}

/// What the sender needs of a claimed delivery.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: i64,
    pub channel: String,
    pub address: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub idempotency_key: String,
    pub attempts: i64,
    pub subscription_id: Option<i64>,
}

/// A delivery this holder leases (None when the lease is no longer its own).
pub async fn held(db: &mut Db<'_>, id: i64, owner: &str) -> Result<Option<Outgoing>, StoreError> {
    let q = Q::new(
        "SELECT id, channel, address, subject, body_text, body_html, idempotency_key, attempts, \
         subscription_id FROM notification_deliveries WHERE id = ? AND lease_owner = ? AND status = ?",
    )
    .bind(id)
    .bind(owner)
    .bind(DeliveryStatus::Pending.as_str());
    let Some(r) = db.fetch_optional(&q).await? else {
        return Ok(None);
    };
    Ok(Some(Outgoing {
        id: get(&r, "id")?,
        channel: get(&r, "channel")?,
        address: get(&r, "address")?,
        subject: get(&r, "subject")?,
        body_text: get(&r, "body_text")?,
        body_html: opt_str(&r, "body_html")?,
        idempotency_key: get(&r, "idempotency_key")?,
        attempts: get(&r, "attempts")?,
        subscription_id: opt_i64(&r, "subscription_id")?,
    }))
}

/// The outcome of one attempt.
#[derive(Debug, Clone)]
pub enum Outcome {
    Sent,
    /// Failed; retry at the given instant.
    Retry(DateTime<Utc>, String),
    /// Failed for good.
    Failed(String),
}

/// Records an attempt's outcome, fenced: only while `owner` still holds the lease (false
/// otherwise, and nothing is written by this statement). Releases the lease.
pub async fn record(
    db: &mut Db<'_>,
    id: i64,
    owner: &str,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let (status, next, error, sent) = match outcome {
        Outcome::Sent => (DeliveryStatus::Sent, now, None, Some(now)),
        Outcome::Retry(at, e) => (DeliveryStatus::Pending, *at, Some(e.as_str()), None),
        Outcome::Failed(e) => (DeliveryStatus::Failed, now, Some(e.as_str()), None),
    };
    let mut q = Q::new(
        "UPDATE notification_deliveries SET status = ?, attempts = attempts + 1, next_attempt_utc = ?, \
         sent_utc = ?, lease_owner = NULL, lease_until_utc = NULL",
    )
    .bind(status.as_str())
    .bind(next)
    .bind(sent);
    if let Some(e) = error {
        q.push_bind(", last_error = ?", e);
    }
    q.push_bind(" WHERE id = ?", id)
        .push_bind(" AND lease_owner = ?", owner)
        .push_bind(" AND status = ?", DeliveryStatus::Pending.as_str());
    if db.execute(&q).await? != 1 {
        return Ok(false);
    }
    db.insert(
        "notification_attempts",
        &[
            ("delivery_id", id.into()),
            ("attempted_utc", now.into()),
            ("ok", matches!(outcome, Outcome::Sent).into()),
            ("error", error.into()),
        ],
    )
    .await?;
    Ok(true)
}

/// A failed delivery back to pending, due now, with a fresh attempt budget (compare-and-set:
/// false unless it was failed).
pub async fn retry(db: &mut Db<'_>, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let q = Q::new(
        "UPDATE notification_deliveries SET status = ?, attempts = 0, next_attempt_utc = ?, \
         lease_owner = NULL, lease_until_utc = NULL WHERE id = ? AND status = ?",
    )
    .bind(DeliveryStatus::Pending.as_str())
    .bind(now)
    .bind(id)
    .bind(DeliveryStatus::Failed.as_str());
    Ok(db.execute(&q).await? == 1)
}

/// Deletes up to `limit` deliveries sent before `before`, with their attempts (failed ones
/// stay until an admin retries them). Returns how many deliveries it deleted.
pub async fn prune_sent(
    db: &mut Db<'_>,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<u64, StoreError> {
    let batch = |head: &str| {
        let mut q = Q::new(format!(
            "{head} (SELECT id FROM notification_deliveries WHERE status = ? AND sent_utc < ? ORDER BY id"
        ))
        .bind(DeliveryStatus::Sent.as_str())
        .bind(before);
        q.limit(limit).push(")");
        q
    };
    db.execute(&batch(
        "DELETE FROM notification_attempts WHERE delivery_id IN",
    ))
    .await?;
    db.execute(&batch("DELETE FROM notification_deliveries WHERE id IN"))
        .await
}

const COLS: &str =
    "id, outbox_id, event_type, channel, recipient_user_id, address, subject, status, \
    attempts, next_attempt_utc, last_error, created_utc, sent_utc, subscription_id";

fn map(r: &AnyRow) -> Result<NotificationDelivery, StoreError> {
    Ok(NotificationDelivery {
        id: get(r, "id")?,
        outbox_id: get(r, "outbox_id")?,
        event_type: get(r, "event_type")?,
        channel: parsed(r, "channel")?,
        recipient_user_id: opt_i64(r, "recipient_user_id")?,
        address: get(r, "address")?,
        subject: get(r, "subject")?,
        status: parsed(r, "status")?,
        attempts: get(r, "attempts")?,
        next_attempt_utc: time(r, "next_attempt_utc")?,
        last_error: opt_str(r, "last_error")?,
        created_utc: time(r, "created_utc")?,
        sent_utc: opt_time(r, "sent_utc")?,
        subscription_id: opt_i64(r, "subscription_id")?,
    })
}

pub async fn get_by_id(
    db: &mut Db<'_>,
    id: i64,
) -> Result<Option<NotificationDelivery>, StoreError> {
    let q = Q::new(format!(
        "SELECT {COLS} FROM notification_deliveries WHERE id = ?"
    ))
    .bind(id);
    db.fetch_optional(&q).await?.as_ref().map(map).transpose()
}

/// Deliveries, newest first, optionally of one status.
pub async fn list(
    db: &mut Db<'_>,
    status: Option<DeliveryStatus>,
    page: PageReq,
) -> Result<Page<NotificationDelivery>, StoreError> {
    let mut q = Q::new(format!(
        "SELECT {COLS} FROM notification_deliveries WHERE 1 = 1"
    ));
    if let Some(s) = status {
        q.push_bind(" AND status = ?", s.as_str());
    }
    fetch_page(db, q, "id", Order::NewestFirst, page, map, |d| d.id).await
}

/// The kinds of notice (`domain::notifications::MuteKind::as_str`) a user has muted.
pub async fn mutes(db: &mut Db<'_>, user_id: i64) -> Result<Vec<String>, StoreError> {
    let q =
        Q::new("SELECT kind FROM notification_mutes WHERE user_id = ? ORDER BY kind").bind(user_id);
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| get(r, "kind"))
        .collect()
}

/// Replaces what a user has muted with `kinds`.
pub async fn set_mutes(
    db: &mut Db<'_>,
    user_id: i64,
    kinds: &[&str],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    db.execute(&Q::new("DELETE FROM notification_mutes WHERE user_id = ?").bind(user_id))
        .await?;
    for k in kinds {
        db.execute(
            &Q::new("INSERT INTO notification_mutes (user_id, kind, created_utc) VALUES (?, ?, ?)")
                .bind(user_id)
                .bind(*k)
                .bind(now),
        )
        .await?;
    }
    Ok(())
}

/// Whether a user has muted `kind`.
pub async fn is_muted(db: &mut Db<'_>, user_id: i64, kind: &str) -> Result<bool, StoreError> {
    let q = Q::new("SELECT kind FROM notification_mutes WHERE user_id = ? AND kind = ?")
        .bind(user_id)
        .bind(kind);
    Ok(db.fetch_optional(&q).await?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{migrate, outbox, Store};
    use chrono::TimeZone;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + secs, 0)
            .single()
            .expect("time")
    }

    fn delivery(outbox_id: i64) -> NewDelivery {
        NewDelivery {
            outbox_id,
            event_type: "request.created".into(),
            channel: "email",
            recipient_user_id: None,
            address: format!("a{outbox_id}@example.test"),
            subject: "s".into(),
            body_text: "t".into(),
            body_html: None,
            subscription_id: None,
        }
    }

    #[test]
    fn one_recipient_gets_its_messages_one_at_a_time_in_order() {
        with_store("order", |store| async move {
            let mut tx = store.begin_write().await.unwrap();
            let mut db = tx.db();
            let same = |outbox_id| NewDelivery {
                address: "same@example.test".into(),
                ..delivery(outbox_id)
            };
            let first = insert(&mut db, &same(1), at(0)).await.unwrap();
            let second = insert(&mut db, &same(2), at(0)).await.unwrap();
            let elsewhere = insert(&mut db, &delivery(3), at(0)).await.unwrap();
            // Only the oldest of a recipient is claimed; another recipient is not held up.
            assert_eq!(
                claim_due(&mut db, "a", at(1), at(60), 5).await.unwrap(),
                vec![first, elsewhere]
            );
            // While the first waits for its retry, the second still waits behind it.
            let later = Outcome::Retry(at(30), "down".into());
            assert!(record(&mut db, first, "a", &later, at(2)).await.unwrap());
            assert!(claim_due(&mut db, "b", at(3), at(60), 5)
                .await
                .unwrap()
                .is_empty());
            assert_eq!(
                claim_due(&mut db, "b", at(31), at(90), 5).await.unwrap(),
                vec![first]
            );
            assert!(record(&mut db, first, "b", &Outcome::Sent, at(32))
                .await
                .unwrap());
            assert_eq!(
                claim_due(&mut db, "c", at(33), at(90), 5).await.unwrap(),
                vec![second]
            );
            // A failed one no longer holds the queue.
            assert!(
                record(&mut db, second, "c", &Outcome::Failed("550".into()), at(34))
                    .await
                    .unwrap()
            );
            let third = insert(&mut db, &same(4), at(35)).await.unwrap();
            assert_eq!(
                claim_due(&mut db, "d", at(36), at(90), 5).await.unwrap(),
                vec![third]
            );
            tx.commit().await.unwrap();
        });
    }

    /// Runs `f` on a fresh, migrated SQLite store.
    fn with_store<F, Fut>(name: &str, f: F)
    where
        F: FnOnce(Store) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let dir = std::env::temp_dir().join(format!("jitea-notify-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let store = Store::connect(&url).await.unwrap();
            migrate::run(&store).await.unwrap();
            f(store.clone()).await;
            store.close().await;
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_cursor_moves_once_and_the_pruner_keeps_what_it_has_not_passed() {
        with_store("cursor", |store| async move {
            let mut tx = store.begin_write().await.unwrap();
            let mut db = tx.db();
            let mut ids = Vec::new();
            for _ in 0..4 {
                ids.push(
                    outbox::enqueue(&mut db, "t", &serde_json::json!({}), at(0))
                        .await
                        .unwrap(),
                );
            }
            assert_eq!(cursor(&mut db).await.unwrap(), 0);
            assert!(advance_cursor(&mut db, 0, ids[1]).await.unwrap());
            assert!(
                !advance_cursor(&mut db, 0, ids[3]).await.unwrap(),
                "a stale advance loses"
            );
            // Every row is old; only those the cursor passed go.
            assert_eq!(outbox::prune(&mut db, at(3600), 100).await.unwrap(), 2);
            assert_eq!(outbox::rows_after(&mut db, 0, 10).await.unwrap().len(), 2);
            tx.commit().await.unwrap();
        });
    }

    #[test]
    fn only_the_lease_holder_records_and_only_failed_deliveries_are_retried() {
        with_store("lease", |store| async move {
            let mut tx = store.begin_write().await.unwrap();
            let mut db = tx.db();
            let id = insert(&mut db, &delivery(1), at(0)).await.unwrap();
            assert!(
                claim_due(&mut db, "a", at(-1), at(60), 5)
                    .await
                    .unwrap()
                    .is_empty(),
                "not due yet"
            );
            assert_eq!(
                claim_due(&mut db, "a", at(1), at(60), 5).await.unwrap(),
                vec![id]
            );
            assert!(
                claim_due(&mut db, "b", at(2), at(62), 5)
                    .await
                    .unwrap()
                    .is_empty(),
                "leased"
            );
            let retry_at = Outcome::Retry(at(30), "451".into());
            assert!(
                !record(&mut db, id, "b", &retry_at, at(3)).await.unwrap(),
                "fenced"
            );
            assert!(record(&mut db, id, "a", &retry_at, at(3)).await.unwrap());
            assert!(
                !record(&mut db, id, "a", &Outcome::Sent, at(4))
                    .await
                    .unwrap(),
                "lease released"
            );
            assert!(
                !retry(&mut db, id, at(5)).await.unwrap(),
                "pending, not failed"
            );
            assert_eq!(
                claim_due(&mut db, "b", at(31), at(90), 5).await.unwrap(),
                vec![id]
            );
            assert!(
                record(&mut db, id, "b", &Outcome::Failed("550".into()), at(32))
                    .await
                    .unwrap()
            );
            let d = get_by_id(&mut db, id).await.unwrap().unwrap();
            assert_eq!((d.status, d.attempts), (DeliveryStatus::Failed, 2));
            assert_eq!(d.last_error.as_deref(), Some("550"));
            assert!(retry(&mut db, id, at(40)).await.unwrap());
            let d = get_by_id(&mut db, id).await.unwrap().unwrap();
            assert_eq!((d.status, d.attempts), (DeliveryStatus::Pending, 0));
            // Sent deliveries go with the outbox retention, failed ones stay.
            let other = insert(&mut db, &delivery(2), at(0)).await.unwrap();
            assert_eq!(
                claim_due(&mut db, "c", at(50), at(99), 5).await.unwrap(),
                vec![id, other]
            );
            assert!(record(&mut db, other, "c", &Outcome::Sent, at(51))
                .await
                .unwrap());
            assert!(
                record(&mut db, id, "c", &Outcome::Failed("x".into()), at(51))
                    .await
                    .unwrap()
            );
            assert_eq!(
                prune_sent(&mut db, at(51), 100).await.unwrap(),
                0,
                "not older yet"
            );
            assert_eq!(prune_sent(&mut db, at(52), 100).await.unwrap(), 1);
            assert!(get_by_id(&mut db, other).await.unwrap().is_none());
            assert!(get_by_id(&mut db, id).await.unwrap().is_some());
            // A second delivery of the same event, channel and recipient is refused.
            assert!(insert(&mut db, &delivery(1), at(41)).await.is_err());
            tx.commit().await.unwrap();
        });
    }
}
