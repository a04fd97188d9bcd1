//! The OpenAPI document's frame: title, security scheme, tags. Paths and schemas are collected
//! from the registered handlers (see `app.rs`).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "JITEA",
        description = "Just-in-time privileged access: request time-limited roles, approve them, and have them provisioned and removed on the target systems, with every step audited.\n\nErrors are `{\"error\": {\"code\", \"message\", \"details\"}}`. Lists take `?limit=&cursor=` and return `{\"items\", \"next_cursor\"}`. Sign in with `POST /api/v1/auth/login`, then use **Authorize** with the token.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    // Sent, not served: the body of every webhook POST (see `POST /webhooks`) and the
    // contract a `webhook` target implements.
    components(schemas(jitea_shared::WebhookEvent, jitea_shared::TargetWebhookCall, jitea_shared::TargetWebhookAnswer)),
    tags(
        (name = "auth", description = "Sign-in"),
        (name = "me", description = "The signed-in user"),
        (name = "requests", description = "Access requests and approvals"),
        (name = "grants", description = "Issued access"),
        (name = "roles", description = "Role catalogue, db-role mapping, approvers"),
        (name = "eligibility", description = "Who may request what"),
        (name = "users", description = "Accounts"),
        (name = "teams", description = "Teams and members"),
        (name = "targets", description = "Systems JITEA provisions on. A `webhook` target is any system that implements JITEA's target contract: JITEA POSTs a `TargetWebhookCall` (components/schemas) to the URL in the target's `connection_url_env`, signed per the Standard Webhooks specification with the `whsec_` secret in `<connection_url_env>_SECRET`, and reads a `TargetWebhookAnswer`."),
        (name = "db-roles", description = "Roles on targets"),
        (name = "audit", description = "Audit log"),
        (name = "reports", description = "Drift, direct grants, failing revocations"),
        (name = "jobs", description = "Run background jobs now"),
        (name = "notifications", description = "Notification deliveries (email, Slack, Teams, webhooks) and their retries; signed webhook subscriptions. JITEA POSTs each subscribed event as a `WebhookEvent` (components/schemas) with the Standard Webhooks headers `webhook-id`, `webhook-timestamp` and `webhook-signature`; receivers answer 2xx within 10 seconds."),
        (name = "scim", description = "Bearer tokens for an identity provider's SCIM client (the SCIM 2.0 service itself is at /scim/v2 and describes itself through its /ServiceProviderConfig, /Schemas and /ResourceTypes)"),
        (name = "ops", description = "Health and metrics")
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
