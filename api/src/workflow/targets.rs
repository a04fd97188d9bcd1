//! Testing a target: can JITEA reach it with the credentials from its environment, and does
//! each registered entitlement exist there (with what the connector says an admin should know
//! of it). Read-only on the target; the test itself is audited.

use jitea_shared::{Target, TargetTest, TargetTestRole, User};
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::provision::{Connector, TargetRef};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::{catalog, Db};

/// Pings target `id` and asks it about each of its db roles; audits `target_tested`.
pub async fn test(state: &AppState, admin: &User, id: i64) -> ApiResult<TargetTest> {
    let (target, roles) = {
        let mut c = state.store.conn().await?;
        let mut db = Db::new(&mut c, state.store.dialect());
        let t = catalog::get_target(&mut db, id)
            .await?
            .ok_or_else(|| ApiError::not_found("target"))?;
        let roles = catalog::target_db_roles(&mut db, id).await?;
        (t, roles)
    };
    let mut out = TargetTest {
        target_id: id,
        reachable: false,
        error: None,
        db_roles: Vec::new(),
    };
    let tref = TargetRef::from(&target);
    let connector = state.connectors.for_kind(target.kind);
    match &connector {
        Ok(c) => match c.ping(&tref).await {
            Ok(()) => out.reachable = true,
            Err(e) => out.error = Some(e.to_string()),
        },
        Err(e) => out.error = Some(e.to_string()),
    }
    for r in roles {
        let c = connector.as_ref().ok().filter(|_| out.reachable);
        out.db_roles
            .push(ask(c.map(|c| c.as_ref()), &tref, r.id, r.db_role_name).await);
    }
    audited(state, admin, &target, &out).await?;
    Ok(out)
}

/// Whether one entitlement exists, and its note when it does (`None`: not asked).
async fn ask(
    c: Option<&dyn Connector>,
    tref: &TargetRef,
    db_role_id: i64,
    db_role_name: String,
) -> TargetTestRole {
    let (mut exists, mut error, mut note) = (None, None, None);
    if let Some(c) = c {
        match c.role_exists(tref, &db_role_name).await {
            Ok(b) => exists = Some(b),
            Err(e) => error = Some(e.to_string()),
        }
        if exists == Some(true) {
            note = c
                .describe_entitlement(tref, &db_role_name)
                .await
                .ok()
                .flatten();
        }
    }
    TargetTestRole {
        db_role_id,
        db_role_name,
        exists,
        error,
        note,
    }
}

async fn audited(state: &AppState, admin: &User, t: &Target, out: &TargetTest) -> ApiResult<()> {
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    audit::write(
        &mut tx.db(),
        Event::new("target_tested", &Actor::user(admin.id, &admin.login_name))
            .details(json!({"target_id": t.id, "reachable": out.reachable, "error": out.error})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
