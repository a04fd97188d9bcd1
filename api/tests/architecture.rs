//! Architecture rules, checked against the source (ARCHITECTURE.md states them): a newcomer
//! can rely on finding each rule where the folder names say, and a change that breaks one
//! fails here with the file and line.

// Test scaffolding: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).expect("read src") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// (path relative to `src/`, line number, line) of every non-comment source line.
fn lines() -> Vec<(String, usize, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut out = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        let text = fs::read_to_string(&f).expect("read source");
        for (i, l) in text.lines().enumerate() {
            let t = l.trim_start();
            if t.starts_with("//") {
                continue;
            }
            out.push((rel.clone(), i + 1, l.to_string()));
        }
    }
    out
}

fn violations(pred: impl Fn(&str, &str) -> bool) -> Vec<String> {
    lines()
        .into_iter()
        .filter(|(f, _, l)| pred(f, l))
        .map(|(f, n, l)| format!("src/{f}:{n}: {}", l.trim()))
        .collect()
}

/// Only the grant lifecycle (`workflow/grants/`) changes access on a target: every call that
/// adds, drops or ends sessions goes through it, under the grant's lease.
#[test]
fn only_the_grant_lifecycle_changes_targets() {
    let calls = [
        ".add_member(",
        ".drop_member(",
        ".drop_members(",
        ".end_sessions(",
        ".end_sessions_many(",
    ];
    let v = violations(|f, l| {
        !f.starts_with("provision/")
            && !f.starts_with("workflow/grants/")
            && calls.iter().any(|c| l.contains(c))
    });
    assert!(
        v.is_empty(),
        "target changes outside workflow/grants/:\n{}",
        v.join("\n")
    );
}

/// The store knows no connector types; domain rules do no I/O.
#[test]
fn layers_point_down_only() {
    let rules: [(&str, &[&str]); 6] = [
        (
            "directory/",
            &[
                "crate::http",
                "crate::workflow",
                "crate::jobs",
                "crate::store",
            ],
        ),
        (
            "store/",
            &[
                "crate::provision",
                "crate::workflow",
                "crate::http",
                "crate::jobs",
                "crate::notify",
                "crate::auth",
            ],
        ),
        (
            "domain/",
            &[
                "crate::store",
                "crate::provision",
                "crate::workflow",
                "crate::http",
                "crate::jobs",
                "crate::state",
                "sqlx",
            ],
        ),
        (
            "provision/",
            &[
                "crate::store",
                "crate::workflow",
                "crate::http",
                "crate::jobs",
                "crate::domain",
            ],
        ),
        ("workflow/", &["crate::http", "crate::jobs"]),
        ("jobs/", &["crate::http"]),
    ];
    let mut all = Vec::new();
    for (dir, banned) in rules {
        all.extend(violations(|f, l| {
            f.starts_with(dir) && banned.iter().any(|b| l.contains(b))
        }));
    }
    assert!(
        all.is_empty(),
        "imports against the layering:\n{}",
        all.join("\n")
    );
}

/// No SQL outside `store/`: handlers, workflow and jobs go through repository functions.
#[test]
fn sql_lives_in_the_store() {
    let v = violations(|f, l| {
        (f.starts_with("http/") || f.starts_with("workflow/") || f.starts_with("jobs/"))
            && ["\"SELECT ", "\"UPDATE ", "\"INSERT ", "\"DELETE "]
                .iter()
                .any(|k| l.contains(k))
    });
    assert!(v.is_empty(), "SQL outside store/:\n{}", v.join("\n"));
}

/// Every SQL difference between the dialects lives in `store/dialect.rs`: repository code
/// writes dialect-neutral statements (with the builders there) and never asks which dialect
/// it runs on, so each statement can also be rendered — and checked — as T-SQL. Only the
/// connection plumbing (`query.rs`, `mod.rs`) and the per-dialect migration runner may.
#[test]
fn store_code_does_not_branch_on_the_dialect() {
    let allowed = [
        "store/dialect.rs",
        "store/query.rs",
        "store/mod.rs",
        "store/migrate.rs",
    ];
    let v = violations(|f, l| {
        f.starts_with("store/")
            && !allowed.contains(&f)
            && (l.contains(".dialect") || l.contains("Dialect::"))
    });
    assert!(
        v.is_empty(),
        "dialect-specific store code outside dialect.rs:\n{}",
        v.join("\n")
    );
}

/// Every store function that writes a catalogue table (roles, eligibility rules, the role →
/// db-role mapping, db roles, targets) bumps `catalog_version` (`catalog::bump_version`), so
/// every process's in-memory catalogue (`store/catalog_cache.rs`) sees the change at its next
/// use. Checked per function: its text writes one of those tables ⇒ it calls `bump_version(`.
#[test]
fn catalogue_writes_bump_the_catalogue_version() {
    const TABLES: [&str; 5] = [
        "roles",
        "role_eligibility_rules",
        "role_db_roles",
        "db_roles",
        "targets",
    ];
    let writes = |body: &str| {
        TABLES.iter().any(|t| {
            ["INSERT INTO ", "UPDATE ", "DELETE FROM "]
                .iter()
                .any(|verb| {
                    body.match_indices(&format!("{verb}{t}")).any(|(i, m)| {
                        !body[i + m.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
                    })
                })
                || body.contains(&format!("\"{t}\","))
        })
    };
    let mut by_file: std::collections::BTreeMap<String, Vec<(usize, String)>> = Default::default();
    for (f, n, l) in lines() {
        if f.starts_with("store/") {
            by_file.entry(f).or_default().push((n, l));
        }
    }
    let mut v = Vec::new();
    for (f, ls) in by_file {
        // Split the file into functions at each `fn` item (tests excluded).
        let end = ls
            .iter()
            .position(|(_, l)| l.starts_with("#[cfg(test)]"))
            .unwrap_or(ls.len());
        let mut start: Option<(usize, String)> = None;
        let mut body = String::new();
        for (n, l) in ls[..end]
            .iter()
            .chain(std::iter::once(&(0, "fn <end>".to_string())))
        {
            let t = l.trim_start();
            let is_fn = [
                "fn ",
                "pub fn ",
                "async fn ",
                "pub async fn ",
                "pub(crate) async fn ",
                "pub(crate) fn ",
            ]
            .iter()
            .any(|p| t.starts_with(p));
            if is_fn {
                if let Some((at, name)) = start.take() {
                    if writes(&body)
                        && !body.contains("bump_version(")
                        && !name.contains("fn bump_version")
                    {
                        v.push(format!("src/{f}:{at}: {name}"));
                    }
                }
                start = Some((*n, t.to_string()));
                body.clear();
            }
            body.push_str(l);
            body.push('\n');
        }
    }
    assert!(
        v.is_empty(),
        "catalogue writes without catalog::bump_version:\n{}",
        v.join("\n")
    );
}
