//! Authorization matrix: every operation in the served `/api/v1/openapi.json`, called by five
//! callers — anonymous, a plain requester, an approver (named as approver of the role), an
//! auditor and an admin — must answer exactly the status written in `MATRIX` below.
//!
//! Path ids are filled from real objects made in setup, and every state-changing call gets
//! fresh objects of its own (a new pending request to approve, a new grant to revoke, ...), so
//! the order of the calls does not matter and authorization, not state or validation, decides
//! the answer. Bodies are valid.
//!
//! A documented operation missing from `MATRIX` fails the test with its name; so does a row
//! whose operation is no longer documented. To add a route: add a row (and, if it changes
//! state or needs an id, an arm in `prepare`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jitea_tests::*;

const CALLERS: [&str; 5] = ["anonymous", "requester", "approver", "auditor", "admin"];
const PW: &str = "matrix-password-123";

/// (method, documented path, expected status for [anonymous, requester, approver, auditor,
/// admin]). The requester owns the request and grant the ids point at; the approver is named
/// as approver of the request's role; the auditor and admin own nothing.
#[rustfmt::skip]
const MATRIX: &[(&str, &str, [u16; 5])] = &[
    // sign-in and the signed-in user
    ("POST",   "/api/v1/auth/login",                                   [200, 200, 200, 200, 200]),
    ("POST",   "/api/v1/auth/session",                                 [200, 200, 200, 200, 200]),
    // a bearer token is not a browser session
    ("GET",    "/api/v1/auth/session",                                 [401, 401, 401, 401, 401]),
    ("POST",   "/api/v1/auth/logout",                                  [401, 204, 204, 204, 204]),
    ("GET",    "/api/v1/auth/providers",                               [200, 200, 200, 200, 200]),
    // the matrix server has no OIDC provider configured (tests/tests/oidc.rs has one): 404
    // `oidc_not_configured` for everyone; configured, both are public redirects (302)
    ("GET",    "/api/v1/auth/oidc/login",                              [404, 404, 404, 404, 404]),
    ("GET",    "/api/v1/auth/oidc/callback",                           [404, 404, 404, 404, 404]),
    ("GET",    "/api/v1/me",                                           [401, 200, 200, 200, 200]),
    ("GET",    "/api/v1/me/requestable-roles",                         [401, 200, 200, 200, 200]),
    ("GET",    "/api/v1/me/grants",                                    [401, 200, 200, 200, 200]),
    // users: the id is the requester's own account
    ("GET",    "/api/v1/users",                                        [401, 403, 403, 200, 200]),
    ("POST",   "/api/v1/users",                                        [401, 403, 403, 403, 201]),
    ("GET",    "/api/v1/users/{id}",                                   [401, 200, 404, 200, 200]),
    // changes go to a fresh user who is none of the callers
    ("PATCH",  "/api/v1/users/{id}",                                   [401, 403, 403, 403, 200]),
    ("POST",   "/api/v1/users/{id}/activate",                          [401, 403, 403, 403, 200]),
    ("POST",   "/api/v1/users/{id}/deactivate",                        [401, 403, 403, 403, 200]),
    ("PUT",    "/api/v1/users/{id}/password",                          [401, 403, 403, 403, 204]),
    ("GET",    "/api/v1/users/{id}/eligibility-overrides",             [401, 403, 403, 200, 200]),
    ("PUT",    "/api/v1/users/{id}/eligibility-overrides/{role_id}",   [401, 403, 403, 403, 200]),
    ("DELETE", "/api/v1/users/{id}/eligibility-overrides/{role_id}",   [401, 403, 403, 403, 204]),
    // teams
    ("GET",    "/api/v1/teams",                                        [401, 200, 200, 200, 200]),
    ("POST",   "/api/v1/teams",                                        [401, 403, 403, 403, 201]),
    ("GET",    "/api/v1/teams/{id}",                                   [401, 200, 200, 200, 200]),
    ("PATCH",  "/api/v1/teams/{id}",                                   [401, 403, 403, 403, 200]),
    ("GET",    "/api/v1/teams/{id}/members",                           [401, 200, 200, 200, 200]),
    ("POST",   "/api/v1/teams/{id}/members",                           [401, 403, 403, 403, 200]),
    ("DELETE", "/api/v1/teams/{id}/members/{user_id}",                 [401, 403, 403, 403, 200]),
    // roles, their db-role mapping and approvers
    ("GET",    "/api/v1/roles",                                        [401, 200, 200, 200, 200]),
    ("POST",   "/api/v1/roles",                                        [401, 403, 403, 403, 201]),
    ("GET",    "/api/v1/roles/{id}",                                   [401, 200, 200, 200, 200]),
    ("PATCH",  "/api/v1/roles/{id}",                                   [401, 403, 403, 403, 200]),
    ("GET",    "/api/v1/roles/{id}/db-roles",                          [401, 200, 200, 200, 200]),
    ("PUT",    "/api/v1/roles/{id}/db-roles/{db_role_id}",             [401, 403, 403, 403, 200]),
    ("DELETE", "/api/v1/roles/{id}/db-roles/{db_role_id}",             [401, 403, 403, 403, 204]),
    ("GET",    "/api/v1/roles/{id}/approvers",                         [401, 403, 403, 200, 200]),
    ("POST",   "/api/v1/roles/{id}/approvers",                         [401, 403, 403, 403, 201]),
    ("DELETE", "/api/v1/roles/{id}/approvers/{approver_id}",           [401, 403, 403, 403, 204]),
    // targets and db roles
    ("GET",    "/api/v1/targets",                                      [401, 403, 403, 200, 200]),
    ("POST",   "/api/v1/targets",                                      [401, 403, 403, 403, 201]),
    ("GET",    "/api/v1/targets/{id}",                                 [401, 403, 403, 200, 200]),
    ("PATCH",  "/api/v1/targets/{id}",                                 [401, 403, 403, 403, 200]),
    ("POST",   "/api/v1/targets/{id}/test",                            [401, 403, 403, 403, 200]),
    ("GET",    "/api/v1/targets/{id}/principals",                      [401, 403, 403, 200, 200]),
    ("PUT",    "/api/v1/targets/{id}/principals/{user_id}",            [401, 403, 403, 403, 200]),
    ("DELETE", "/api/v1/targets/{id}/principals/{user_id}",            [401, 403, 403, 403, 204]),
    ("GET",    "/api/v1/db-roles",                                     [401, 403, 403, 200, 200]),
    ("POST",   "/api/v1/db-roles",                                     [401, 403, 403, 403, 201]),
    ("GET",    "/api/v1/db-roles/{id}",                                [401, 403, 403, 200, 200]),
    ("PATCH",  "/api/v1/db-roles/{id}",                                [401, 403, 403, 403, 200]),
    // eligibility
    ("GET",    "/api/v1/eligibility-rules",                            [401, 403, 403, 200, 200]),
    ("POST",   "/api/v1/eligibility-rules",                            [401, 403, 403, 403, 201]),
    ("GET",    "/api/v1/eligibility-rules/{id}",                       [401, 403, 403, 200, 200]),
    ("PATCH",  "/api/v1/eligibility-rules/{id}",                       [401, 403, 403, 403, 200]),
    ("DELETE", "/api/v1/eligibility-rules/{id}",                       [401, 403, 403, 403, 204]),
    // the requester's own eligibility: others need auditor or admin
    ("GET",    "/api/v1/eligibility/check",                            [401, 200, 403, 200, 200]),
    // requests: each caller asks for a fresh role of its own
    ("POST",   "/api/v1/requests",                                     [401, 201, 201, 201, 201]),
    ("GET",    "/api/v1/requests",                                     [401, 200, 200, 200, 200]),
    // the requester's pending request (a fresh one for each call that changes it); the
    // approver may see and decide it, never the requester; auditors see it but may not act
    ("GET",    "/api/v1/requests/{id}",                                [401, 200, 200, 200, 200]),
    ("GET",    "/api/v1/requests/{id}/history",                        [401, 200, 200, 200, 200]),
    ("GET",    "/api/v1/requests/{id}/timeline",                       [401, 200, 200, 200, 200]),
    ("POST",   "/api/v1/requests/{id}/cancel",                         [401, 200, 404, 403, 200]),
    ("POST",   "/api/v1/requests/{id}/approve",                        [401, 403, 200, 403, 403]),
    ("POST",   "/api/v1/requests/{id}/deny",                           [401, 403, 200, 403, 403]),
    ("GET",    "/api/v1/approvals/pending",                            [401, 200, 200, 200, 200]),
    ("GET",    "/api/v1/approvals/reviews",                            [401, 200, 200, 200, 200]),
    ("GET",    "/api/v1/me/notification-settings",                     [401, 200, 200, 200, 200]),
    ("PUT",    "/api/v1/me/notification-settings",                     [401, 200, 200, 200, 200]),
    // grants: the requester's grant (a fresh one for each revoke)
    ("GET",    "/api/v1/grants",                                       [401, 200, 200, 200, 200]),
    ("GET",    "/api/v1/grants/{id}",                                  [401, 200, 404, 200, 200]),
    ("POST",   "/api/v1/grants/{id}/revoke",                           [401, 403, 403, 403, 200]),
    // only the holder extends their grant; others do not see it (auditors and admins do)
    ("POST",   "/api/v1/grants/{id}/extend",                           [401, 201, 404, 403, 403]),
    // a fresh break-glass grant of the requester: only an approver of its role reviews it,
    // never its holder (403 self_review); auditors and admins see it but may not (403); a
    // plain user and an approver of another role get 404 (tests/tests/break_glass.rs)
    ("POST",   "/api/v1/grants/{id}/review",                           [401, 403, 200, 403, 403]),
    // audit, reports, jobs, events
    ("GET",    "/api/v1/audit",                                        [401, 403, 403, 200, 200]),
    ("GET",    "/api/v1/reports/drift",                                [401, 403, 403, 200, 200]),
    ("GET",    "/api/v1/reports/direct-grants",                        [401, 403, 403, 200, 200]),
    ("GET",    "/api/v1/reports/revoke-failures",                      [401, 403, 403, 200, 200]),
    ("GET",    "/api/v1/reports/overview",                             [401, 403, 403, 200, 200]),
    ("GET",    "/api/v1/reports/directory-sync-runs",                  [401, 403, 403, 200, 200]),
    ("GET",    "/api/v1/reports/break-glass",                          [401, 403, 403, 200, 200]),
    ("POST",   "/api/v1/jobs/expire",                                  [401, 403, 403, 403, 200]),
    ("POST",   "/api/v1/jobs/reconcile",                               [401, 403, 403, 403, 200]),
    // No directory is configured in this test: admins get 409 directory_not_configured.
    ("POST",   "/api/v1/jobs/directory-sync",                          [401, 403, 403, 403, 409]),
    ("GET",    "/api/v1/events",                                       [401, 200, 200, 200, 200]),
    // SCIM tokens (the identity provider's credential for /scim/v2): admins only
    ("GET",    "/api/v1/scim/tokens",                                  [401, 403, 403, 403, 200]),
    ("POST",   "/api/v1/scim/tokens",                                  [401, 403, 403, 403, 201]),
    ("DELETE", "/api/v1/scim/tokens/{id}",                             [401, 403, 403, 403, 204]),
    // notification deliveries: admins only (email is off in this test, so no delivery
    // exists and the admin's retry is 404)
    ("GET",    "/api/v1/notifications/deliveries",                     [401, 403, 403, 403, 200]),
    ("POST",   "/api/v1/notifications/deliveries/{id}/retry",          [401, 403, 403, 403, 404]),
    ("GET",    "/api/v1/webhooks",                                     [401, 403, 403, 403, 200]),
    ("POST",   "/api/v1/webhooks",                                     [401, 403, 403, 403, 201]),
    ("GET",    "/api/v1/webhooks/{id}",                                [401, 403, 403, 403, 200]),
    ("PATCH",  "/api/v1/webhooks/{id}",                                [401, 403, 403, 403, 200]),
    ("DELETE", "/api/v1/webhooks/{id}",                                [401, 403, 403, 403, 204]),
    ("POST",   "/api/v1/webhooks/{id}/rotate-secret",                  [401, 403, 403, 403, 200]),
    // ops endpoints are public
    ("GET",    "/healthz",                                             [200, 200, 200, 200, 200]),
    ("GET",    "/readyz",                                              [200, 200, 200, 200, 200]),
    ("GET",    "/metrics",                                             [200, 200, 200, 200, 200]),
];

/// Ids of the long-lived objects made in setup.
struct Fx {
    admin: String,
    /// Tokens of the five callers (None: anonymous).
    /// Refreshed after a logout, which ends every token of that user.
    tokens: std::cell::RefCell<[Option<String>; 5]>,
    logins: [&'static str; 5],
    requester_id: i64,
    approver_id: i64,
    target_id: i64,
    db_role_id: i64,
    role_id: i64,
    team_id: i64,
    rule_id: i64,
    request_id: i64,
    grant_id: i64,
    seq: std::cell::Cell<u32>,
}

impl Fx {
    fn next(&self) -> u32 {
        let n = self.seq.get() + 1;
        self.seq.set(n);
        n
    }
}

fn setup(s: &Server) -> Fx {
    let admin = s.admin_token();
    let mk_user = |login: &str, extra: Value| {
        let mut body = json!({"login_name": login, "password": PW, "department": "Eng"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        s.create_user(&admin, body)
    };
    let requester_id = mk_user("req", json!({}));
    let approver_id = mk_user("appr", json!({}));
    mk_user("aud", json!({"is_auditor": true}));
    mk_user("adm", json!({"is_admin": true}));
    let target_id = s
        .post(
            "/api/v1/targets",
            &admin,
            json!({"name": "matrix", "kind": "noop"}),
        )
        .expect(201)
        .id();
    let db_role_id = s
        .post(
            "/api/v1/db-roles",
            &admin,
            json!({"target_id": target_id, "db_role_name": "reader"}),
        )
        .expect(201)
        .id();
    let team_id = s
        .post("/api/v1/teams", &admin, json!({"team_name": "matrix-team"}))
        .expect(201)
        .id();
    s.post(
        &format!("/api/v1/teams/{team_id}/members"),
        &admin,
        json!({"user_id": requester_id}),
    )
    .expect(200);
    let logins = ["", "req", "appr", "aud", "adm"];
    let tokens = [
        None,
        Some(s.login("req", PW)),
        Some(s.login("appr", PW)),
        Some(s.login("aud", PW)),
        Some(s.login("adm", PW)),
    ];
    let mut fx = Fx {
        admin,
        tokens: std::cell::RefCell::new(tokens),
        logins,
        requester_id,
        approver_id,
        target_id,
        db_role_id,
        role_id: 0,
        team_id,
        rule_id: 0,
        request_id: 0,
        grant_id: 0,
        seq: std::cell::Cell::new(0),
    };
    fx.role_id = fresh_role(s, &fx, true);
    fx.rule_id = s
        .post(
            "/api/v1/eligibility-rules",
            &fx.admin,
            json!({"role_id": fx.role_id, "scope_type": "department", "scope_value": "Eng", "priority": 1}),
        )
        .expect(201)
        .id();
    fx.request_id = fresh_pending_request(s, &fx);
    fx.grant_id = fresh_grant(s, &fx);
    s.put(
        &format!(
            "/api/v1/users/{}/eligibility-overrides/{}",
            fx.requester_id, fx.role_id
        ),
        &fx.admin,
        json!({"can_request": true}),
    )
    .expect(200);
    fx
}

/// A new role mapped to the setup db role, requestable by everyone, with the approver user
/// named as its approver; `approval`: whether requests for it wait for a decision.
fn fresh_role(s: &Server, fx: &Fx, approval: bool) -> i64 {
    let n = fx.next();
    let role = s
        .post(
            "/api/v1/roles",
            &fx.admin,
            json!({"role_name": format!("matrix role {n}"), "max_duration_minutes": 60, "requires_approval": approval}),
        )
        .expect(201)
        .id();
    s.put(
        &format!("/api/v1/roles/{role}/db-roles/{}", fx.db_role_id),
        &fx.admin,
        json!({}),
    )
    .expect(200);
    s.post(
        &format!("/api/v1/roles/{role}/approvers"),
        &fx.admin,
        json!({"approver_type": "user", "approver_user_id": fx.approver_id}),
    )
    .expect(201);
    s.post(
        "/api/v1/eligibility-rules",
        &fx.admin,
        json!({"role_id": role, "scope_type": "all"}),
    )
    .expect(201);
    role
}

fn requester_token(fx: &Fx) -> String {
    fx.tokens.borrow()[1].clone().unwrap()
}

fn fresh_pending_request(s: &Server, fx: &Fx) -> i64 {
    let role = fresh_role(s, fx, true);
    let r = s
        .post(
            "/api/v1/requests",
            &requester_token(fx),
            json!({"role_id": role, "requested_duration_minutes": 30, "justification": "matrix test"}),
        )
        .expect(201);
    assert_eq!(r.body["status"], "pending", "{}", r.text);
    r.id()
}

fn fresh_grant(s: &Server, fx: &Fx) -> i64 {
    let role = fresh_role(s, fx, false);
    let r = s
        .post(
            "/api/v1/requests",
            &requester_token(fx),
            json!({"role_id": role, "requested_duration_minutes": 30, "justification": "matrix test"}),
        )
        .expect(201);
    r.body["grant_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("auto-approved request without grant: {}", r.text))
}

/// A break-glass grant of the requester, on a fresh break-glass role the approver approves.
fn fresh_break_glass_grant(s: &Server, fx: &Fx) -> i64 {
    let role = fresh_role(s, fx, true);
    s.patch(
        &format!("/api/v1/roles/{role}"),
        &fx.admin,
        json!({"break_glass": true}),
    )
    .expect(200);
    let r = s
        .post(
            "/api/v1/requests",
            &requester_token(fx),
            json!({"role_id": role, "requested_duration_minutes": 30, "justification": "matrix test"}),
        )
        .expect(201);
    r.body["grant_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("break-glass request without grant: {}", r.text))
}

fn fresh_user(s: &Server, fx: &Fx) -> i64 {
    let n = fx.next();
    s.create_user(
        &fx.admin,
        json!({"login_name": format!("subject{n}"), "password": PW}),
    )
}

/// The concrete path, body and token for one call of `method template` by caller `who`.
fn prepare(
    s: &Server,
    fx: &Fx,
    method: &str,
    template: &str,
    who: usize,
) -> (String, Option<Value>, Option<String>) {
    let token = fx.tokens.borrow()[who].clone();
    let login_body = || {
        let login = if who == 0 { "req" } else { fx.logins[who] };
        json!({"login_name": login, "password": PW})
    };
    let n = fx.next();
    let (path, body): (String, Option<Value>) = match (method, template) {
        ("POST", "/api/v1/auth/login") | ("POST", "/api/v1/auth/session") => {
            (template.into(), Some(login_body()))
        }
        ("POST", "/api/v1/auth/logout") => {
            // Logout ends every token of the caller: the loop signs the caller in again after
            // this call (see `authz_matrix`).
            return (template.into(), None, token);
        }
        ("POST", "/api/v1/users") => (
            template.into(),
            Some(json!({"login_name": format!("created{n}"), "department": "Eng"})),
        ),
        ("GET", "/api/v1/users/{id}") | ("GET", "/api/v1/users/{id}/eligibility-overrides") => {
            (template.replace("{id}", &fx.requester_id.to_string()), None)
        }
        ("PATCH", "/api/v1/users/{id}") => (
            format!("/api/v1/users/{}", fresh_user(s, fx)),
            Some(json!({"display_name": "Changed"})),
        ),
        ("POST", "/api/v1/users/{id}/activate") | ("POST", "/api/v1/users/{id}/deactivate") => (
            template.replace("{id}", &fresh_user(s, fx).to_string()),
            None,
        ),
        ("PUT", "/api/v1/users/{id}/password") => (
            template.replace("{id}", &fresh_user(s, fx).to_string()),
            Some(json!({"password": "another-long-password-9"})),
        ),
        ("PUT", "/api/v1/users/{id}/eligibility-overrides/{role_id}") => (
            format!(
                "/api/v1/users/{}/eligibility-overrides/{}",
                fresh_user(s, fx),
                fx.role_id
            ),
            Some(json!({"can_request": true})),
        ),
        ("DELETE", "/api/v1/users/{id}/eligibility-overrides/{role_id}") => {
            let user = fresh_user(s, fx);
            let path = format!("/api/v1/users/{user}/eligibility-overrides/{}", fx.role_id);
            s.put(&path, &fx.admin, json!({"can_request": true}))
                .expect(200);
            (path, None)
        }
        ("POST", "/api/v1/teams") => (
            template.into(),
            Some(json!({"team_name": format!("team {n}")})),
        ),
        ("PATCH", "/api/v1/teams/{id}") => (
            template.replace("{id}", &fx.team_id.to_string()),
            Some(json!({"description": format!("changed {n}")})),
        ),
        ("POST", "/api/v1/teams/{id}/members") => (
            template.replace("{id}", &fx.team_id.to_string()),
            Some(json!({"user_id": fresh_user(s, fx)})),
        ),
        ("DELETE", "/api/v1/teams/{id}/members/{user_id}") => {
            let user = fresh_user(s, fx);
            s.post(
                &format!("/api/v1/teams/{}/members", fx.team_id),
                &fx.admin,
                json!({"user_id": user}),
            )
            .expect(200);
            (format!("/api/v1/teams/{}/members/{user}", fx.team_id), None)
        }
        ("POST", "/api/v1/roles") => (
            template.into(),
            Some(json!({"role_name": format!("created role {n}"), "max_duration_minutes": 60})),
        ),
        ("PATCH", "/api/v1/roles/{id}") => (
            template.replace("{id}", &fx.role_id.to_string()),
            Some(json!({"description": format!("changed {n}")})),
        ),
        ("PUT", "/api/v1/roles/{id}/db-roles/{db_role_id}") => (
            format!(
                "/api/v1/roles/{}/db-roles/{}",
                fresh_role(s, fx, true),
                fx.db_role_id
            ),
            Some(json!({"is_required": true})),
        ),
        ("DELETE", "/api/v1/roles/{id}/db-roles/{db_role_id}") => (
            format!(
                "/api/v1/roles/{}/db-roles/{}",
                fresh_role(s, fx, true),
                fx.db_role_id
            ),
            None,
        ),
        ("POST", "/api/v1/roles/{id}/approvers") => (
            template.replace("{id}", &fresh_role(s, fx, true).to_string()),
            Some(json!({"approver_type": "department", "approver_department": "Eng"})),
        ),
        ("DELETE", "/api/v1/roles/{id}/approvers/{approver_id}") => {
            let role = fresh_role(s, fx, true);
            let entry = s
                .post(
                    &format!("/api/v1/roles/{role}/approvers"),
                    &fx.admin,
                    json!({"approver_type": "manager"}),
                )
                .expect(201)
                .id();
            (format!("/api/v1/roles/{role}/approvers/{entry}"), None)
        }
        ("POST", "/api/v1/targets") => (
            template.into(),
            Some(json!({"name": format!("target{n}"), "kind": "noop"})),
        ),
        ("PATCH", "/api/v1/targets/{id}") => (
            template.replace("{id}", &fx.target_id.to_string()),
            Some(json!({"description": format!("changed {n}")})),
        ),
        ("PUT", "/api/v1/targets/{id}/principals/{user_id}") => (
            format!(
                "/api/v1/targets/{}/principals/{}",
                fx.target_id,
                fresh_user(s, fx)
            ),
            Some(json!({"principal": format!("ext-{n}")})),
        ),
        ("DELETE", "/api/v1/targets/{id}/principals/{user_id}") => {
            let user = fresh_user(s, fx);
            s.put(
                &format!("/api/v1/targets/{}/principals/{user}", fx.target_id),
                &fx.admin,
                json!({"principal": format!("del-{n}")}),
            )
            .expect(200);
            (
                format!("/api/v1/targets/{}/principals/{user}", fx.target_id),
                None,
            )
        }
        ("POST", "/api/v1/db-roles") => (
            template.into(),
            Some(json!({"target_id": fx.target_id, "db_role_name": format!("role{n}")})),
        ),
        ("PATCH", "/api/v1/db-roles/{id}") => (
            template.replace("{id}", &fx.db_role_id.to_string()),
            Some(json!({"description": format!("changed {n}")})),
        ),
        ("POST", "/api/v1/eligibility-rules") => (
            template.into(),
            Some(
                json!({"role_id": fx.role_id, "scope_type": "user", "scope_value": fx.requester_id.to_string(), "priority": n}),
            ),
        ),
        ("PATCH", "/api/v1/eligibility-rules/{id}") => (
            template.replace("{id}", &fx.rule_id.to_string()),
            Some(json!({"priority": n})),
        ),
        ("DELETE", "/api/v1/eligibility-rules/{id}") => {
            let rule = s
                .post(
                    "/api/v1/eligibility-rules",
                    &fx.admin,
                    json!({"role_id": fx.role_id, "scope_type": "department", "scope_value": "Sales"}),
                )
                .expect(201)
                .id();
            (format!("/api/v1/eligibility-rules/{rule}"), None)
        }
        ("GET", "/api/v1/eligibility/check") => (
            format!(
                "{template}?user_id={}&role_id={}",
                fx.requester_id, fx.role_id
            ),
            None,
        ),
        ("POST", "/api/v1/requests") => (
            template.into(),
            Some(
                json!({"role_id": fresh_role(s, fx, true), "requested_duration_minutes": 30, "justification": "matrix test"}),
            ),
        ),
        ("POST", "/api/v1/requests/{id}/cancel")
        | ("POST", "/api/v1/requests/{id}/approve")
        | ("POST", "/api/v1/requests/{id}/deny") => (
            template.replace("{id}", &fresh_pending_request(s, fx).to_string()),
            Some(json!({"comment": "checked"})),
        ),
        ("POST", "/api/v1/scim/tokens") => (
            template.into(),
            Some(json!({"name": format!("matrix idp {n}")})),
        ),
        ("DELETE", "/api/v1/scim/tokens/{id}") => {
            let id = s
                .post(
                    "/api/v1/scim/tokens",
                    &fx.admin,
                    json!({"name": format!("matrix idp {n}")}),
                )
                .expect(201)
                .id();
            (template.replace("{id}", &id.to_string()), None)
        }
        ("POST", "/api/v1/webhooks") => (
            template.into(),
            Some(json!({"url": "https://receiver.example/matrix", "events": ["grant.revoked"]})),
        ),
        ("GET" | "PATCH" | "DELETE", "/api/v1/webhooks/{id}")
        | ("POST", "/api/v1/webhooks/{id}/rotate-secret") => {
            let id = s
                .post(
                    "/api/v1/webhooks",
                    &fx.admin,
                    json!({"url": format!("https://receiver.example/matrix/{n}"), "events": ["*"]}),
                )
                .expect(201)
                .id();
            let body = (method == "PATCH").then(|| json!({"is_enabled": false}));
            (template.replace("{id}", &id.to_string()), body)
        }
        // No delivery has this id (webhook subscriptions made above do create deliveries).
        ("POST", "/api/v1/notifications/deliveries/{id}/retry") => {
            (template.replace("{id}", "999999999"), None)
        }
        ("POST", "/api/v1/grants/{id}/revoke") => (
            template.replace("{id}", &fresh_grant(s, fx).to_string()),
            Some(json!({"reason": "matrix test"})),
        ),
        ("POST", "/api/v1/grants/{id}/review") => (
            template.replace("{id}", &fresh_break_glass_grant(s, fx).to_string()),
            Some(json!({"outcome": "accept", "comment": "matrix test"})),
        ),
        ("PUT", "/api/v1/me/notification-settings") => (
            template.to_string(),
            Some(json!({"mute_reminders": false, "mute_decisions": false})),
        ),
        ("POST", "/api/v1/grants/{id}/extend") => (
            template.replace("{id}", &fresh_grant(s, fx).to_string()),
            Some(json!({"extra_minutes": 5, "justification": "matrix test"})),
        ),
        // Reads and actions without a body: fill ids from setup by the resource they name.
        _ => {
            let id = match template.split('/').nth(3).unwrap_or("") {
                "users" => fx.requester_id,
                "teams" => fx.team_id,
                "roles" => fx.role_id,
                "targets" => fx.target_id,
                "db-roles" => fx.db_role_id,
                "eligibility-rules" => fx.rule_id,
                "requests" => fx.request_id,
                "grants" => fx.grant_id,
                _ => 0,
            };
            assert!(
                !template.contains('{') || (id != 0 && template.matches('{').count() == 1),
                "prepare() does not know how to fill {method} {template}: add an arm"
            );
            (template.replace("{id}", &id.to_string()), None)
        }
    };
    (path, body, token)
}

/// Only the status of a GET (for endless streams: the body is never read).
fn status_only(s: &Server, path: &str, token: Option<&str>) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut b = agent.get(s.url(path));
    if let Some(t) = token {
        b = b.header("Authorization", format!("Bearer {t}"));
    }
    let r = b.call().expect("HTTP transport error");
    r.status().as_u16()
}

fn documented(s: &Server) -> BTreeSet<(String, String)> {
    let doc = s
        .call("GET", "/api/v1/openapi.json", None, None)
        .expect(200);
    let mut ops = BTreeSet::new();
    for (path, item) in doc.body["paths"].as_object().expect("paths") {
        for method in item.as_object().unwrap().keys() {
            let m = method.to_uppercase();
            if [
                "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE",
            ]
            .contains(&m.as_str())
            {
                ops.insert((m, path.clone()));
            }
        }
    }
    ops
}

fn authz_matrix(backend: Backend) {
    let s = Server::start(backend);
    let ops = documented(&s);
    let table: BTreeMap<(String, String), [u16; 5]> = MATRIX
        .iter()
        .map(|(m, p, st)| ((m.to_string(), p.to_string()), *st))
        .collect();
    assert_eq!(table.len(), MATRIX.len(), "MATRIX has duplicate rows");

    let missing: Vec<String> = ops
        .iter()
        .filter(|op| !table.contains_key(*op))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty(),
        "documented operations missing from MATRIX in tests/tests/authz_matrix.rs (add a row with the expected status per caller):\n{}",
        missing.join("\n")
    );
    let stale: Vec<String> = table
        .keys()
        .filter(|op| !ops.contains(*op))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        stale.is_empty(),
        "MATRIX rows for operations the document no longer has (remove them):\n{}",
        stale.join("\n")
    );

    let fx = setup(&s);
    let mut wrong = Vec::new();
    let mut checked = 0;
    for ((method, template), expected) in &table {
        for (who, want) in expected.iter().enumerate() {
            let (path, body, token) = prepare(&s, &fx, method, template, who);
            let (got, text) = if template == "/api/v1/events" {
                (status_only(&s, &path, token.as_deref()), String::new())
            } else {
                let r = s.call(method, &path, token.as_deref(), body.as_ref());
                (r.status, r.text)
            };
            checked += 1;
            if template == "/api/v1/auth/logout" && who > 0 {
                fx.tokens.borrow_mut()[who] = Some(s.login(fx.logins[who], PW));
            }
            if got != *want {
                let text: String = text.chars().take(200).collect();
                wrong.push(format!(
                    "{method} {template} as {}: expected {want}, got {got} ({path}) {text}",
                    CALLERS[who]
                ));
            }
        }
    }
    println!(
        "authorization matrix ({backend:?}): {} operations x {} callers = {checked} calls",
        table.len(),
        CALLERS.len()
    );
    assert!(
        wrong.is_empty(),
        "{} of {checked} calls answered another status than MATRIX says:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

on_each_backend!(authz_matrix);
