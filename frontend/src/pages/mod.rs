//! One module per page.

pub mod admin;
pub mod approval_detail;
pub mod approvals;
pub mod dashboard;
pub mod history;
pub mod login;
pub mod request;
