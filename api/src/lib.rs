//! JITEA service library: everything the `jitea` binary runs, split into the layers of
//! DESIGN.md (http → auth → workflow → domain/store/provision; jobs and notify beside them).

pub mod auth;
pub mod clock;
pub mod config;
pub mod demo;
pub mod directory;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod notify;
pub mod outbound;
pub mod provision;
pub mod setup;
pub mod signing;
pub mod state;
pub mod store;
pub mod workflow;
