//! Where the browser may be sent after signing in: a path inside the app, never another site.

/// `return_to` if it is a path in this app (one leading `/`, no `//`, no scheme, no backslash,
/// no control characters, at most 2 000 characters), else `/`.
pub fn safe_return_to(v: Option<&str>) -> String {
    let Some(p) = v else {
        return "/".into();
    };
    let ok = p.starts_with('/')
        && !p.starts_with("//")
        && !p.contains('\\')
        && !p.contains("//")
        && !p.contains("://")
        && p.len() <= 2000
        && !p.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok {
        p.to_string()
    } else {
        "/".into()
    }
}

#[cfg(test)]
mod tests {
    use super::safe_return_to;

    #[test]
    fn only_paths_inside_the_app_are_kept() {
        assert_eq!(
            safe_return_to(Some("/requests/7?tab=a")),
            "/requests/7?tab=a"
        );
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil",
            "evil",
            "/x//y",
            "javascript:alert(1)",
            "/ok\n",
            "/a\tb",
            "",
        ] {
            assert_eq!(safe_return_to(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_return_to(None), "/");
    }
}
