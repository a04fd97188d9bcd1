//! Catalogue set-up shared by the black-box tests: targets, their db roles, and roles mapped
//! onto them, created over the API like an admin would.

use serde_json::{json, Value};

use crate::Server;

impl Server {
    /// Creates a target (`body` as for `POST /targets`) and returns its id.
    pub fn make_target(&self, admin: &str, body: Value) -> i64 {
        self.post("/api/v1/targets", admin, body).expect(201).id()
    }

    /// A target of kind `noop` (membership is only recorded) named `name`.
    pub fn noop_target(&self, admin: &str, name: &str) -> i64 {
        self.make_target(admin, json!({"name": name, "kind": "noop"}))
    }

    /// Registers db role `name` on `target` and returns its id.
    pub fn make_db_role(&self, admin: &str, target: i64, name: &str) -> i64 {
        self.post(
            "/api/v1/db-roles",
            admin,
            json!({"target_id": target, "db_role_name": name}),
        )
        .expect(201)
        .id()
    }

    /// Runs reconciliation now (`POST /jobs/reconcile`) and returns that run's findings
    /// (`GET /reports/drift?run_id=`).
    pub fn reconcile_now(&self, admin: &str) -> (Value, Vec<Value>) {
        let run = self
            .post("/api/v1/jobs/reconcile", admin, json!({}))
            .expect(200)
            .body;
        let report = self
            .get(
                &format!("/api/v1/reports/drift?run_id={}", run["id"]),
                admin,
            )
            .expect(200)
            .body;
        let findings = report["findings"].as_array().cloned().unwrap_or_default();
        (run, findings)
    }

    /// Creates a role (`body` as for `POST /roles`) and returns its id.
    pub fn make_role(&self, admin: &str, body: Value) -> i64 {
        self.post("/api/v1/roles", admin, body).expect(201).id()
    }

    /// Maps db role `db_role` into `role`, required (a failed add fails the grant) or optional.
    pub fn map_db_role(&self, admin: &str, role: i64, db_role: i64, required: bool) {
        self.put(
            &format!("/api/v1/roles/{role}/db-roles/{db_role}"),
            admin,
            json!({"is_required": required}),
        )
        .expect(200);
    }

    /// Lets everyone request `role` (an eligibility rule of scope `all`).
    pub fn open_to_all(&self, admin: &str, role: i64) {
        self.post(
            "/api/v1/eligibility-rules",
            admin,
            json!({"role_id": role, "scope_type": "all"}),
        )
        .expect(201);
    }

    /// A role everyone may request and nobody has to approve (no justification needed),
    /// granting `db_roles` (each required), at most `max_minutes` long.
    pub fn open_role(&self, admin: &str, name: &str, max_minutes: i64, db_roles: &[i64]) -> i64 {
        let role = self.make_role(
            admin,
            json!({"role_name": name, "max_duration_minutes": max_minutes, "requires_approval": false, "requires_justification": false}),
        );
        for dbr in db_roles {
            self.map_db_role(admin, role, *dbr, true);
        }
        self.open_to_all(admin, role);
        role
    }
}
