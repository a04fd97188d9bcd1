//! Application services: the seed's stored procedures as Rust. Each operation loads the facts
//! from the store, asks the pure `domain` rules, and writes the state change together with its
//! audit and outbox rows in one transaction; provisioning on targets happens after the commit
//! and is recorded per db role, so a crash in between is repaired by the jobs.

pub mod access;
pub mod approvers;
pub mod break_glass;
pub mod extensions;
pub mod grants;
pub mod notifications;
pub mod oidc;
pub mod reminders;
pub mod requests;
pub mod scim;
pub mod separation;
pub mod signin;
pub mod targets;
pub mod timeline;
pub mod undecided;
pub mod users;
pub mod webhooks;
