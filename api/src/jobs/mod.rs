//! Background jobs. Each is a task with a shutdown signal and can also be run once on demand
//! (API, CLI, tests) with an explicit `now`.

pub mod directory_sync;
pub mod expiry;
pub mod lease;
pub mod outbox_prune;
pub mod reconcile;
