//! SCIM 2.0 (RFC 7643 resources, RFC 7644 protocol) as pure functions: the resource schemas
//! and discovery documents (`schema`), users and groups to and from their JSON documents
//! (`resource`), the filter language (`filter`), PATCH operations applied to a document
//! (`patch`) and the protocol's error shape (`error`). No I/O: `workflow::scim` orchestrates,
//! `store::scim` reads and writes, `http::scim` speaks HTTP.

pub mod error;
pub mod filter;
pub mod patch;
pub mod resource;
pub mod schema;

pub use error::ScimError;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const JITEA_SCHEMA: &str = "urn:jitea:params:scim:schemas:extension:jitea:2.0:User";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// The most resources one list response carries (`count` above it is lowered to it), as
/// advertised in `ServiceProviderConfig.filter.maxResults`.
pub const MAX_RESULTS: usize = 200;
/// The largest request body accepted (bytes); also the advertised `bulk.maxPayloadSize`.
pub const MAX_PAYLOAD: usize = 256 * 1024;
