//! Data transfer objects shared by the JITEA API (`jitea-api`) and the web app
//! (`jitea-frontend`). Field names follow the seed plan's column names in snake_case; every
//! resource's own key is `id`. With the `openapi` feature each type also derives
//! `utoipa::ToSchema` so the API documents exactly what it sends.
//!
//! Request bodies (`*Create`, `*Update`, actions) reject unknown fields so a client can never
//! smuggle in a field it must not set (status, owner, grant times).

pub mod dto;
pub mod status;

pub use dto::*;
pub use status::*;
