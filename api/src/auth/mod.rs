//! Authentication (built-in passwords, signed JWTs) and authorization extractors.
//! A handler's signature names the permission it needs: `Requester` (any active user),
//! `Approver` (any active user; the per-request right is checked against the role's
//! approvers), `Auditor` (read-only on everything), `Admin`.

pub mod extract;
pub mod keyring;
pub mod limits;
pub mod oidc;
pub mod password;
pub mod scim;
pub mod token;

pub use extract::{Admin, Approver, Auditor, AuthUser, Requester};
pub use token::TokenKeys;
