//! The REST API: actix handlers, one file per resource. Handlers parse, authorize (through the
//! extractor in their signature), call the workflow or the store, and map errors; they hold no
//! SQL and no business rules. Every route is registered through `utoipa_actix_web`, so the
//! OpenAPI document is generated from the same list that routes requests.

pub mod app;
pub mod approvals;
pub mod audit;
pub mod auth;
pub mod db_roles;
pub mod eligibility;
pub mod errors;
pub mod events;
pub mod grants;
pub mod jobs;
pub mod json;
pub mod me;
pub mod methods;
pub mod notifications;
pub mod oidc;
pub mod openapi;
pub mod ops;
pub mod reports;
pub mod requests;
pub mod roles;
pub mod scim;
pub mod scim_tokens;
#[cfg(test)]
mod spec_patterns;
pub mod support;
pub mod targets;
pub mod teams;
pub mod users;
pub mod web;
pub mod webhooks;

pub use app::{build_app, openapi_document};
