//! SCIM provisioning: the identity provider creates, replaces, patches and deletes users and
//! groups (teams). Every change is one transaction with its audit row (actor `scim:<token
//! name>`); deactivation (`active: false`, DELETE) is `grants::deactivate_user`, so the
//! person's live grants end at once exactly as when an admin deactivates them. DELETE never
//! removes a row: the user or team is switched off and hidden from SCIM (404 from then on),
//! its history stays.
//!
//! What the identity provider may change: users it created (`source = 'scim'`) that hold no
//! app role (admin, auditor), and teams it created. Everyone else is visible but read-only
//! (403), so a SCIM token can neither rename, deactivate nor promote the bootstrap admin, and
//! can never set `is_admin` / `is_auditor` (no SCIM attribute maps to them). A team's members
//! that SCIM may not manage are left as they are by a replace.

use chrono::{DateTime, Utc};
use jitea_shared::{ScimTokenCreated, User};
use serde_json::{json, Value};

use crate::auth::scim::{new_token, ScimClient};
use crate::directory::mapping::Facts;
use crate::directory::scim::filter::{self, AttrPath, Filter};
use crate::directory::scim::resource::{
    self, group_doc, read_group, read_user, user_doc, version, GroupInput, ScimGroup, ScimUser,
    UserInput,
};
use crate::directory::scim::{patch, ScimError, GROUP_SCHEMA, LIST_SCHEMA, USER_SCHEMA};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::directory::{insert_sourced_user, update_sourced_user, Origin};
use crate::store::scim::{self as store, Narrow, Table};
use crate::store::{sessions, teams, users, Db, StoreError};

use super::grants;

impl From<StoreError> for ScimError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => {
                ScimError::uniqueness("a resource with the same unique value already exists")
            }
            StoreError::InvalidText => {
                ScimError::invalid_value("text must not contain NUL characters")
            }
            StoreError::ForeignKey => {
                ScimError::invalid_value("a referenced resource does not exist")
            }
            StoreError::Unavailable(detail) => {
                tracing::error!(%detail, "database unavailable");
                ScimError::new(503, None, "the database is unavailable; retry later")
            }
            StoreError::Internal(detail) => {
                tracing::error!(%detail, "store error");
                ScimError::new(500, None, "an internal error occurred; it has been logged")
            }
        }
    }
}

type ScimResult<T> = Result<T, ScimError>;

/// A list request: `filter`, `startIndex` (1-based), `count`, and the attribute selection.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    pub start_index: usize,
    pub count: usize,
    pub attributes: Vec<AttrPath>,
    pub excluded: Vec<AttrPath>,
}

/// `If-Match` (RFC 7644 §3.14, RFC 7232): `*` or a list of entity tags, compared weakly.
pub fn check_if_match(if_match: Option<&str>, current: &str) -> ScimResult<()> {
    let Some(h) = if_match else { return Ok(()) };
    let strip = |t: &str| t.trim().trim_start_matches("W/").trim().to_string();
    let cur = strip(current);
    if h.trim() == "*" || h.split(',').any(|t| strip(t) == cur) {
        Ok(())
    } else {
        Err(ScimError::precondition_failed())
    }
}

fn list_response(total: usize, start: usize, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

fn page_of<T: Clone>(items: &[T], start: usize, count: usize) -> Vec<T> {
    items
        .iter()
        .skip(start.saturating_sub(1))
        .take(count)
        .cloned()
        .collect()
}

fn narrow_of(f: Option<&Filter>, name_attr: &'static str) -> Narrow {
    let Some(f) = f else { return Narrow::All };
    match filter::required_eq(f, &["id", "externalId", name_attr]) {
        Some(("id", v)) => match v.parse::<i64>() {
            Ok(id) => Narrow::Id(id),
            Err(_) => Narrow::Id(0),
        },
        Some(("externalId", v)) => Narrow::ExternalId(v),
        Some(("userName", v)) => Narrow::Login(v),
        Some((_, v)) => Narrow::Name(v),
        None => Narrow::All,
    }
}

fn finish(doc: Value, q: &ListQuery, core: &str) -> Value {
    resource::project(doc, &q.attributes, &q.excluded, core)
}

/// `GET /Users`.
pub async fn list_users(state: &AppState, base: &str, q: &ListQuery) -> ScimResult<Value> {
    let mut c = state.store.conn().await?;
    let mut db = Db::new(&mut c, state.store.dialect());
    let Some(f) = &q.filter else {
        let ids = store::user_ids(&mut db).await?;
        let page = store::users_by_ids(&mut db, &page_of(&ids, q.start_index, q.count)).await?;
        let docs = page
            .iter()
            .map(|u| finish(user_doc(u, base), q, USER_SCHEMA))
            .collect();
        return Ok(list_response(ids.len(), q.start_index, docs));
    };
    let candidates = store::users_where(&mut db, &narrow_of(Some(f), "userName")).await?;
    let matching: Vec<Value> = candidates
        .iter()
        .map(|u| user_doc(u, base))
        .filter(|d| filter::matches(f, d, USER_SCHEMA))
        .collect();
    let docs = page_of(&matching, q.start_index, q.count)
        .into_iter()
        .map(|d| finish(d, q, USER_SCHEMA))
        .collect();
    Ok(list_response(matching.len(), q.start_index, docs))
}

/// `GET /Groups`.
pub async fn list_groups(state: &AppState, base: &str, q: &ListQuery) -> ScimResult<Value> {
    let mut c = state.store.conn().await?;
    let mut db = Db::new(&mut c, state.store.dialect());
    let Some(f) = &q.filter else {
        let ids = store::group_ids(&mut db).await?;
        let page = store::groups_by_ids(&mut db, &page_of(&ids, q.start_index, q.count)).await?;
        let docs = page
            .iter()
            .map(|g| finish(group_doc(g, base), q, GROUP_SCHEMA))
            .collect();
        return Ok(list_response(ids.len(), q.start_index, docs));
    };
    let candidates = store::groups_where(&mut db, &narrow_of(Some(f), "displayName")).await?;
    let matching: Vec<Value> = candidates
        .iter()
        .map(|g| group_doc(g, base))
        .filter(|d| filter::matches(f, d, GROUP_SCHEMA))
        .collect();
    let docs = page_of(&matching, q.start_index, q.count)
        .into_iter()
        .map(|d| finish(d, q, GROUP_SCHEMA))
        .collect();
    Ok(list_response(matching.len(), q.start_index, docs))
}

fn user_not_found(id: i64) -> ScimError {
    ScimError::not_found(format!("User {id} not found"))
}

fn group_not_found(id: i64) -> ScimError {
    ScimError::not_found(format!("Group {id} not found"))
}

/// `GET /Users/{id}`.
pub async fn get_user(state: &AppState, base: &str, id: i64) -> ScimResult<Value> {
    let mut c = state.store.conn().await?;
    let u = store::get_user(&mut Db::new(&mut c, state.store.dialect()), id)
        .await?
        .ok_or_else(|| user_not_found(id))?;
    Ok(user_doc(&u, base))
}

/// `GET /Groups/{id}`.
pub async fn get_group(state: &AppState, base: &str, id: i64) -> ScimResult<Value> {
    let mut c = state.store.conn().await?;
    let g = store::get_group(&mut Db::new(&mut c, state.store.dialect()), id)
        .await?
        .ok_or_else(|| group_not_found(id))?;
    Ok(group_doc(&g, base))
}

/// Whether SCIM may change this user: only users it provisioned, and never one with an app
/// role.
fn manageable(u: &ScimUser) -> ScimResult<()> {
    if u.source != "scim" {
        return Err(ScimError::forbidden(format!(
            "user {} comes from `{}`, not from SCIM; it can only be changed in JITEA",
            u.id, u.source
        )));
    }
    if u.is_admin || u.is_auditor {
        return Err(ScimError::forbidden(format!(
            "user {} holds a JITEA app role (admin or auditor); it can only be changed in JITEA",
            u.id
        )));
    }
    Ok(())
}

fn facts(i: &UserInput, manager_login: Option<String>) -> Facts {
    Facts {
        given_name: i.given_name.clone(),
        surname: i.surname.clone(),
        display_name: i.display_name.clone(),
        email: i.email.clone(),
        department: i.department.clone(),
        division: i.division.clone(),
        job_title: i.job_title.clone(),
        seniority_level: i.seniority_level,
        manager_login_name: manager_login,
    }
}

fn facts_of(u: &ScimUser) -> Facts {
    Facts {
        given_name: u.given_name.clone(),
        surname: u.surname.clone(),
        display_name: u.display_name.clone(),
        email: u.email.clone(),
        department: u.department.clone(),
        division: u.division.clone(),
        job_title: u.job_title.clone(),
        seniority_level: u.seniority_level,
        manager_login_name: u.manager_login_name.clone(),
    }
}

/// The login of the manager a document names (`manager.value` = a visible user's id).
async fn manager_login(db: &mut Db<'_>, i: &UserInput, self_id: i64) -> ScimResult<Option<String>> {
    let Some(mid) = i.manager_id else {
        return Ok(None);
    };
    if mid == self_id {
        return Err(ScimError::invalid_value(
            "a user cannot be their own manager",
        ));
    }
    let m = store::get_user(db, mid)
        .await?
        .ok_or_else(|| ScimError::invalid_value(format!("manager.value {mid} is not a user")))?;
    Ok(Some(m.login_name))
}

async fn external_id_free(db: &mut Db<'_>, ext: Option<&str>, id: i64) -> ScimResult<()> {
    if let Some(e) = ext {
        if store::user_with_external_id(db, e, id).await?.is_some() {
            return Err(ScimError::uniqueness(
                "another user already has this externalId",
            ));
        }
    }
    Ok(())
}

fn scim_origin(ext: Option<&str>) -> Origin<'_> {
    Origin {
        source: "scim",
        external_id: ext,
        synced_utc: None,
    }
}

/// `POST /Users`.
pub async fn create_user(
    state: &AppState,
    caller: &ScimClient,
    base: &str,
    doc: &Value,
) -> ScimResult<Value> {
    let input = read_user(doc)?;
    let actor = caller.actor();
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    if users::get_by_login(&mut db, &input.login_name)
        .await?
        .is_some()
    {
        return Err(ScimError::uniqueness(format!(
            "userName `{}` is taken",
            input.login_name
        )));
    }
    external_id_free(&mut db, input.external_id.as_deref(), 0).await?;
    let manager = manager_login(&mut db, &input, 0).await?;
    let f = facts(&input, manager);
    let origin = scim_origin(input.external_id.as_deref());
    let id = insert_sourced_user(
        &mut db,
        &input.login_name,
        origin,
        &f,
        &actor.login_name,
        now,
    )
    .await?;
    store::set_employee_number(&mut db, id, input.employee_number.as_deref()).await?;
    if input.active == Some(false) {
        // A new user has no grant, request or session yet: inactive is all there is to it.
        users::set_active(&mut db, id, false, &actor.login_name, now).await?;
    }
    let u = store::get_user(&mut db, id)
        .await?
        .ok_or_else(|| user_not_found(id))?;
    let created = user_doc(&u, base);
    audit::write(
        &mut db,
        Event::new("scim_user_created", &actor)
            .user(id)
            .details(json!({"user_id": id, "login_name": u.login_name, "after": created})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// Writes a validated document over a user inside the caller's transaction; returns whether
/// the user is to be deactivated after the commit.
async fn write_user(
    db: &mut Db<'_>,
    actor: &Actor,
    base: &str,
    cur: &ScimUser,
    input: &UserInput,
    now: DateTime<Utc>,
) -> ScimResult<bool> {
    if !input.login_name.eq_ignore_ascii_case(&cur.login_name) {
        return Err(ScimError::mutability(
            "userName cannot change: it is the user's login on target systems",
        ));
    }
    external_id_free(db, input.external_id.as_deref(), cur.id).await?;
    let manager = manager_login(db, input, cur.id).await?;
    let f = facts(input, manager);
    let changed = f != facts_of(cur)
        || input.external_id != cur.external_id
        || input.employee_number != cur.employee_number;
    if changed {
        let origin = scim_origin(input.external_id.as_deref());
        update_sourced_user(db, cur.id, origin, &f, &actor.login_name, now).await?;
        store::set_employee_number(db, cur.id, input.employee_number.as_deref()).await?;
        let after = store::get_user(db, cur.id)
            .await?
            .ok_or_else(|| user_not_found(cur.id))?;
        audit::write(
            db,
            Event::new("scim_user_updated", actor)
                .user(cur.id)
                .details(json!({
                    "user_id": cur.id,
                    "before": user_doc(cur, base),
                    "after": user_doc(&after, base),
                })),
            now,
        )
        .await?;
    }
    if input.active == Some(true) && !cur.is_active {
        users::set_active(db, cur.id, true, &actor.login_name, now).await?;
        sessions::bump_epoch(db, cur.id, now).await?;
        audit::write(db, Event::new("user_activated", actor).user(cur.id), now).await?;
    }
    Ok(input.active == Some(false) && cur.is_active)
}

/// What a PUT or PATCH does with the current document.
enum Change<'a> {
    Replace(&'a Value),
    Patch(&'a [patch::Operation]),
}

fn new_document(current: Value, change: &Change<'_>, core: &str) -> ScimResult<Value> {
    match change {
        Change::Replace(doc) => Ok((*doc).clone()),
        Change::Patch(ops) => {
            let mut doc = current;
            patch::apply(&mut doc, ops, core)?;
            Ok(doc)
        }
    }
}

async fn change_user(
    state: &AppState,
    caller: &ScimClient,
    base: &str,
    id: i64,
    change: Change<'_>,
    if_match: Option<&str>,
) -> ScimResult<Value> {
    let actor = caller.actor();
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    store::lock_row(&mut db, Table::Users, id).await?;
    let cur = store::get_user(&mut db, id)
        .await?
        .ok_or_else(|| user_not_found(id))?;
    check_if_match(if_match, &version(cur.updated_utc))?;
    manageable(&cur)?;
    let doc = new_document(user_doc(&cur, base), &change, USER_SCHEMA)?;
    let input = read_user(&doc)?;
    let deactivate = write_user(&mut db, &actor, base, &cur, &input, now).await?;
    tx.commit().await?;
    if deactivate {
        // Inactive, sessions ended, requests cancelled and grants ending in one transaction,
        // then removed on the targets (what a target does not confirm, the engine retries).
        grants::deactivate_user(state, &actor, id).await?;
    }
    get_user(state, base, id).await
}

/// `PUT /Users/{id}`.
pub async fn replace_user(
    state: &AppState,
    caller: &ScimClient,
    base: &str,
    id: i64,
    doc: &Value,
    if_match: Option<&str>,
) -> ScimResult<Value> {
    change_user(state, caller, base, id, Change::Replace(doc), if_match).await
}

/// `PATCH /Users/{id}`.
pub async fn patch_user(
    state: &AppState,
    caller: &ScimClient,
    base: &str,
    id: i64,
    body: &Value,
    if_match: Option<&str>,
) -> ScimResult<Value> {
    let ops = patch::parse_request(body)?;
    if patch::removes(&ops, "active") {
        return Err(ScimError::mutability(
            "active cannot be removed: set it to false to deactivate the user",
        ));
    }
    change_user(state, caller, base, id, Change::Patch(&ops), if_match).await
}

/// `DELETE /Users/{id}`: deactivation (grants revoked at once), then hidden from SCIM.
pub async fn delete_user(
    state: &AppState,
    caller: &ScimClient,
    id: i64,
    if_match: Option<&str>,
) -> ScimResult<()> {
    let actor = caller.actor();
    let cur = {
        let mut c = state.store.conn().await?;
        store::get_user(&mut Db::new(&mut c, state.store.dialect()), id)
            .await?
            .ok_or_else(|| user_not_found(id))?
    };
    check_if_match(if_match, &version(cur.updated_utc))?;
    manageable(&cur)?;
    grants::deactivate_user(state, &actor, id).await?;
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    if store::mark_user_deleted(&mut db, id, &actor.login_name, now).await? {
        audit::write(
            &mut db,
            Event::new("scim_user_deleted", &actor)
                .user(id)
                .details(json!({"user_id": id, "login_name": cur.login_name})),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A user SCIM may put into or take out of a team.
async fn member_user(db: &mut Db<'_>, id: i64) -> ScimResult<ScimUser> {
    let u = store::get_user(db, id)
        .await?
        .ok_or_else(|| ScimError::invalid_value(format!("member {id} is not a user")))?;
    manageable(&u)?;
    Ok(u)
}

/// Brings a team's membership to `wanted`; members SCIM may not manage are left as they are.
/// Returns (added, removed).
async fn set_members(
    db: &mut Db<'_>,
    team_id: i64,
    current: &[i64],
    wanted: &[i64],
    now: DateTime<Utc>,
) -> ScimResult<(Vec<i64>, Vec<i64>)> {
    let mut added = Vec::new();
    for id in wanted {
        if !current.contains(id) {
            member_user(db, *id).await?;
            teams::add_member(db, team_id, *id, now).await?;
            added.push(*id);
        }
    }
    let mut removed = Vec::new();
    for id in current {
        if wanted.contains(id) {
            continue;
        }
        let managed = store::get_user(db, *id)
            .await?
            .is_some_and(|u| manageable(&u).is_ok());
        if managed && teams::remove_member(db, team_id, *id, now).await? {
            removed.push(*id);
        }
    }
    Ok((added, removed))
}

/// `POST /Groups`: a new team.
pub async fn create_group(
    state: &AppState,
    caller: &ScimClient,
    base: &str,
    doc: &Value,
) -> ScimResult<Value> {
    let input = read_group(doc)?;
    let actor = caller.actor();
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    let id = store::insert_team(
        &mut db,
        &input.name,
        input.external_id.as_deref(),
        &actor.login_name,
        now,
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict => {
            ScimError::uniqueness(format!("a team named `{}` already exists", input.name))
        }
        other => other.into(),
    })?;
    let (added, _) = set_members(&mut db, id, &[], &input.members, now).await?;
    let g = store::get_group(&mut db, id)
        .await?
        .ok_or_else(|| group_not_found(id))?;
    audit::write(
        &mut db,
        Event::new("scim_group_created", &actor).details(json!({
            "team_id": id, "team_name": input.name, "members_added": added,
        })),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(group_doc(&g, base))
}

async fn write_group(
    db: &mut Db<'_>,
    actor: &Actor,
    cur: &ScimGroup,
    input: &GroupInput,
    now: DateTime<Utc>,
) -> ScimResult<()> {
    let (added, removed) = set_members(db, cur.id, &cur.members, &input.members, now).await?;
    let renamed = input.name != cur.name || input.external_id != cur.external_id;
    if !renamed && added.is_empty() && removed.is_empty() {
        return Ok(());
    }
    store::update_team(
        db,
        cur.id,
        &input.name,
        input.external_id.as_deref(),
        &actor.login_name,
        now,
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict => {
            ScimError::uniqueness(format!("a team named `{}` already exists", input.name))
        }
        other => other.into(),
    })?;
    audit::write(
        db,
        Event::new("scim_group_updated", actor).details(json!({
            "team_id": cur.id,
            "before": {"team_name": cur.name, "external_id": cur.external_id},
            "after": {"team_name": input.name, "external_id": input.external_id},
            "members_added": added,
            "members_removed": removed,
        })),
        now,
    )
    .await?;
    Ok(())
}

fn group_manageable(g: &ScimGroup) -> ScimResult<()> {
    if g.source == "scim" {
        Ok(())
    } else {
        Err(ScimError::forbidden(format!(
            "team {} was created in JITEA, not through SCIM; it can only be changed in JITEA",
            g.id
        )))
    }
}

async fn change_group(
    state: &AppState,
    caller: &ScimClient,
    base: &str,
    id: i64,
    change: Change<'_>,
    if_match: Option<&str>,
) -> ScimResult<Value> {
    let actor = caller.actor();
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    store::lock_row(&mut db, Table::Teams, id).await?;
    let cur = store::get_group(&mut db, id)
        .await?
        .ok_or_else(|| group_not_found(id))?;
    check_if_match(if_match, &version(cur.updated_utc))?;
    group_manageable(&cur)?;
    let doc = new_document(group_doc(&cur, base), &change, GROUP_SCHEMA)?;
    let input = read_group(&doc)?;
    write_group(&mut db, &actor, &cur, &input, now).await?;
    let g = store::get_group(&mut db, id)
        .await?
        .ok_or_else(|| group_not_found(id))?;
    tx.commit().await?;
    Ok(group_doc(&g, base))
}

/// `PUT /Groups/{id}`.
pub async fn replace_group(
    state: &AppState,
    caller: &ScimClient,
    base: &str,
    id: i64,
    doc: &Value,
    if_match: Option<&str>,
) -> ScimResult<Value> {
    change_group(state, caller, base, id, Change::Replace(doc), if_match).await
}

/// `PATCH /Groups/{id}`.
pub async fn patch_group(
    state: &AppState,
    caller: &ScimClient,
    base: &str,
    id: i64,
    body: &Value,
    if_match: Option<&str>,
) -> ScimResult<Value> {
    let ops = patch::parse_request(body)?;
    change_group(state, caller, base, id, Change::Patch(&ops), if_match).await
}

/// `DELETE /Groups/{id}`: the team is switched off (its members lose what it gave them) and
/// hidden from SCIM; the team, its memberships and their history stay.
pub async fn delete_group(
    state: &AppState,
    caller: &ScimClient,
    id: i64,
    if_match: Option<&str>,
) -> ScimResult<()> {
    let actor = caller.actor();
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    store::lock_row(&mut db, Table::Teams, id).await?;
    let cur = store::get_group(&mut db, id)
        .await?
        .ok_or_else(|| group_not_found(id))?;
    check_if_match(if_match, &version(cur.updated_utc))?;
    group_manageable(&cur)?;
    if store::mark_team_deleted(&mut db, id, &actor.login_name, now).await? {
        audit::write(
            &mut db,
            Event::new("scim_group_deleted", &actor).details(json!({
                "team_id": id,
                "team_name": cur.name,
                "members": cur.members,
            })),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Creates a SCIM token (admins); the token is in the result and nowhere else.
pub async fn create_token(
    state: &AppState,
    admin: &User,
    name: &str,
) -> ApiResult<ScimTokenCreated> {
    let (token, hash, prefix) = new_token();
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    let id = store::insert_token(&mut db, name, &hash, &prefix, &admin.login_name, now).await?;
    audit::write(
        &mut db,
        Event::new(
            "scim_token_created",
            &Actor::user(admin.id, &admin.login_name),
        )
        .details(json!({"scim_token_id": id, "name": name, "token_prefix": prefix})),
        now,
    )
    .await?;
    let t = store::get_token(&mut db, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    tx.commit().await?;
    Ok(ScimTokenCreated {
        id,
        name: t.name,
        token,
        token_prefix: t.token_prefix,
        created_utc: t.created_utc,
        created_by: t.created_by,
    })
}

/// Revokes a SCIM token (admins): it is refused from the commit on. Revoking a revoked token
/// changes nothing (204 again); an unknown id is 404.
pub async fn revoke_token(state: &AppState, admin: &User, id: i64) -> ApiResult<()> {
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    let t = store::get_token(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("SCIM token"))?;
    if store::revoke_token(&mut db, id, &admin.login_name, now).await? {
        audit::write(
            &mut db,
            Event::new(
                "scim_token_revoked",
                &Actor::user(admin.id, &admin.login_name),
            )
            .details(json!({"scim_token_id": id, "name": t.name, "token_prefix": t.token_prefix})),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_compares_weakly_and_accepts_star() {
        let v = "W/\"123\"";
        assert!(check_if_match(None, v).is_ok());
        assert!(check_if_match(Some("*"), v).is_ok());
        assert!(check_if_match(Some("W/\"123\""), v).is_ok());
        assert!(check_if_match(Some("\"123\""), v).is_ok());
        assert!(check_if_match(Some("W/\"1\", W/\"123\""), v).is_ok());
        assert_eq!(
            check_if_match(Some("W/\"124\""), v).unwrap_err().status,
            412
        );
    }

    #[test]
    fn pages_are_one_based() {
        let items: Vec<i32> = (1..=5).collect();
        assert_eq!(page_of(&items, 1, 2), vec![1, 2]);
        assert_eq!(page_of(&items, 4, 10), vec![4, 5]);
        assert_eq!(page_of(&items, 9, 10), Vec::<i32>::new());
        assert_eq!(page_of(&items, 1, 0), Vec::<i32>::new());
    }
}
