//! Placeholder until the web-app issue.
fn main() {}
