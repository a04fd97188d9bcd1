//! The organisation's directory (LDAP / Active Directory) as a source of users and teams:
//! `ldap` reads it (bind over LDAPS or StartTLS, paged search), `mapping` turns its entries
//! into JITEA's user facts (pure, no I/O). `jobs::directory_sync` compares and applies.

pub mod ldap;
pub mod mapping;
pub mod scim;
