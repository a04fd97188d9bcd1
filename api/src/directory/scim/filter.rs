//! The SCIM filter language (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): parsed into a tree
//! and evaluated over a resource's JSON document, in memory. Attribute names are matched
//! without regard to case; string comparison ignores case except for attributes the schema
//! marks case-exact (`id`, `externalId`). Operators: `eq ne co sw ew gt ge lt le pr`, `and`,
//! `or`, `not (...)`, grouping and value paths (`emails[type eq "work"]`).

use serde_json::Value;

use super::{ScimError, ENTERPRISE_SCHEMA, JITEA_SCHEMA};

/// Longest filter or path text accepted.
pub const MAX_FILTER_LEN: usize = 4096;
/// Deepest nesting of parentheses / `not` / value paths.
const MAX_DEPTH: usize = 32;

/// `[urn ":"] name ["." sub]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN the attribute is qualified with, if any.
    pub urn: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare(AttrPath, Op, Value),
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attr[filter]`: some element of the multi-valued `attr` matches `filter`.
    ValuePath(AttrPath, Box<Filter>),
}

/// A PATCH operation's `path`: `attrPath`, `attrPath[valFilter]` or `attrPath[valFilter].sub`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    /// The sub-attribute after a value filter (`emails[type eq "work"].value`).
    pub sub: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Num(serde_json::Number),
    LParen,
    RParen,
    LBracket,
    RBracket,
}

/// A JSON string starting at `chars[start]` (a `"`): its value and the index after it.
fn string_at(chars: &[char], start: usize) -> Result<(String, usize), String> {
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err("a string is not closed".into()),
            Some('\\') => i += 2,
            Some('"') => break,
            Some(_) => i += 1,
        }
    }
    let raw: String = chars[start..=i].iter().collect();
    let v: String =
        serde_json::from_str(&raw).map_err(|_| format!("{raw} is not a valid JSON string"))?;
    Ok((v, i + 1))
}

/// A word (attribute path, operator, keyword) or number starting at `chars[start]`.
fn word_at(chars: &[char], start: usize) -> Result<(Tok, usize), String> {
    let mut i = start;
    while i < chars.len()
        && !matches!(
            chars[i],
            ' ' | '\t' | '\n' | '\r' | '(' | ')' | '[' | ']' | '"'
        )
    {
        i += 1;
    }
    let w: String = chars[start..i].iter().collect();
    let first = w.chars().next().unwrap_or(' ');
    let tok = if first.is_ascii_digit() || first == '-' {
        Tok::Num(serde_json::from_str(&w).map_err(|_| format!("`{w}` is not a number"))?)
    } else {
        Tok::Word(w)
    };
    Ok((tok, i))
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let single = match chars[i] {
            ' ' | '\t' | '\n' | '\r' => None,
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            '"' => {
                let (v, next) = string_at(&chars, i)?;
                out.push(Tok::Str(v));
                i = next;
                continue;
            }
            _ => {
                let (t, next) = word_at(&chars, i)?;
                out.push(t);
                i = next;
                continue;
            }
        };
        out.extend(single);
        i += 1;
    }
    Ok(out)
}

/// Splits `urn:...:name.sub` / `name.sub` into its parts; checks the characters.
pub fn parse_attr_path(w: &str) -> Result<AttrPath, String> {
    let (urn, rest) = if w.len() > 4 && w[..4].eq_ignore_ascii_case("urn:") {
        match w.rfind(':') {
            Some(i) if i + 1 < w.len() => (Some(w[..i].to_string()), &w[i + 1..]),
            _ => return Err(format!("`{w}` is not an attribute path")),
        }
    } else {
        (None, w)
    };
    let (name, sub) = match rest.split_once('.') {
        Some((n, s)) => (n, Some(s)),
        None => (rest, None),
    };
    let valid = |s: &str| {
        let mut cs = s.chars();
        matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '$')
            && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
    };
    if !valid(name) || sub.is_some_and(|s| !valid(s)) {
        return Err(format!("`{w}` is not an attribute path"));
    }
    Ok(AttrPath {
        urn,
        name: name.to_string(),
        sub: sub.map(str::to_string),
    })
}

fn op_of(w: &str) -> Option<Op> {
    Some(match w.to_ascii_lowercase().as_str() {
        "eq" => Op::Eq,
        "ne" => Op::Ne,
        "co" => Op::Co,
        "sw" => Op::Sw,
        "ew" => Op::Ew,
        "gt" => Op::Gt,
        "ge" => Op::Ge,
        "lt" => Op::Lt,
        "le" => Op::Le,
        _ => return None,
    })
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
    }

    fn or(&mut self, depth: usize) -> Result<Filter, String> {
        let mut left = self.and(depth)?;
        while self.peek_word("or") {
            self.pos += 1;
            let right = self.and(depth)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Filter, String> {
        let mut left = self.unary(depth)?;
        while self.peek_word("and") {
            self.pos += 1;
            let right = self.unary(depth)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, String> {
        if depth > MAX_DEPTH {
            return Err("the filter is nested too deeply".into());
        }
        if self.peek_word("not") {
            self.pos += 1;
            if self.next() != Some(Tok::LParen) {
                return Err("`not` must be followed by `(`".into());
            }
            let f = self.or(depth + 1)?;
            if self.next() != Some(Tok::RParen) {
                return Err("a `(` is not closed".into());
            }
            return Ok(Filter::Not(Box::new(f)));
        }
        match self.next() {
            Some(Tok::LParen) => {
                let f = self.or(depth + 1)?;
                if self.next() != Some(Tok::RParen) {
                    return Err("a `(` is not closed".into());
                }
                Ok(f)
            }
            Some(Tok::Word(w)) => {
                let path = parse_attr_path(&w)?;
                if self.peek() == Some(&Tok::LBracket) {
                    self.pos += 1;
                    let inner = self.or(depth + 1)?;
                    if self.next() != Some(Tok::RBracket) {
                        return Err("a `[` is not closed".into());
                    }
                    return Ok(Filter::ValuePath(path, Box::new(inner)));
                }
                let op_word = match self.next() {
                    Some(Tok::Word(o)) => o,
                    _ => return Err(format!("an operator must follow `{w}`")),
                };
                if op_word.eq_ignore_ascii_case("pr") {
                    return Ok(Filter::Present(path));
                }
                let op = op_of(&op_word)
                    .ok_or_else(|| format!("`{op_word}` is not a filter operator"))?;
                let value = match self.next() {
                    Some(Tok::Str(s)) => Value::String(s),
                    Some(Tok::Num(n)) => Value::Number(n),
                    Some(Tok::Word(v)) if v == "true" => Value::Bool(true),
                    Some(Tok::Word(v)) if v == "false" => Value::Bool(false),
                    Some(Tok::Word(v)) if v == "null" => Value::Null,
                    _ => return Err(format!("a value must follow `{w} {op_word}`")),
                };
                Ok(Filter::Compare(path, op, value))
            }
            _ => Err("an attribute path, `not` or `(` was expected".into()),
        }
    }
}

/// Parses a `filter` query parameter. Errors are `invalidFilter`.
pub fn parse(s: &str) -> Result<Filter, ScimError> {
    if s.len() > MAX_FILTER_LEN {
        return Err(ScimError::invalid_filter("the filter is too long"));
    }
    let toks = tokenize(s).map_err(ScimError::invalid_filter)?;
    if toks.is_empty() {
        return Err(ScimError::invalid_filter("the filter is empty"));
    }
    let mut p = Parser { toks, pos: 0 };
    let f = p.or(0).map_err(ScimError::invalid_filter)?;
    if p.pos != p.toks.len() {
        return Err(ScimError::invalid_filter(
            "unexpected text after the end of the filter",
        ));
    }
    Ok(f)
}

/// Parses a PATCH `path`. Errors are `invalidPath`.
pub fn parse_patch_path(s: &str) -> Result<PatchPath, ScimError> {
    let bad = |m: String| ScimError::invalid_path(m);
    if s.len() > MAX_FILTER_LEN {
        return Err(bad("the path is too long".into()));
    }
    let s = s.trim();
    if [ENTERPRISE_SCHEMA, JITEA_SCHEMA]
        .iter()
        .any(|u| u.eq_ignore_ascii_case(s))
    {
        // The whole extension object (`"path": "urn:...:enterprise:2.0:User"`).
        return Ok(PatchPath {
            attr: AttrPath {
                urn: None,
                name: s.to_string(),
                sub: None,
            },
            filter: None,
            sub: None,
        });
    }
    let Some(open) = s.find('[') else {
        return Ok(PatchPath {
            attr: parse_attr_path(s).map_err(bad)?,
            filter: None,
            sub: None,
        });
    };
    let close = s
        .rfind(']')
        .ok_or_else(|| bad("a `[` is not closed".into()))?;
    if close < open {
        return Err(bad("a `[` is not closed".into()));
    }
    let attr = parse_attr_path(&s[..open]).map_err(bad)?;
    if attr.sub.is_some() {
        return Err(bad(
            "a value filter applies to a multi-valued attribute".into()
        ));
    }
    let inner = &s[open + 1..close];
    let filter = parse(inner).map_err(|e| bad(e.detail))?;
    let rest = &s[close + 1..];
    let sub = if rest.is_empty() {
        None
    } else {
        let sub = rest
            .strip_prefix('.')
            .ok_or_else(|| bad(format!("unexpected `{rest}` after the value filter")))?;
        let p = parse_attr_path(sub).map_err(bad)?;
        if p.urn.is_some() || p.sub.is_some() {
            return Err(bad(format!("`{sub}` is not a sub-attribute")));
        }
        Some(p.name)
    };
    Ok(PatchPath {
        attr,
        filter: Some(filter),
        sub,
    })
}

/// Looks a key up in an object without regard to case.
pub fn get_ci<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    obj.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// Whether comparisons on this attribute respect case (RFC 7643 `caseExact`).
fn case_exact(path: &AttrPath) -> bool {
    path.sub.is_none()
        && (path.name.eq_ignore_ascii_case("id") || path.name.eq_ignore_ascii_case("externalId"))
}

/// The object an attribute path starts from: the document itself, or the extension object
/// its URN names (the core schema's URN, `core_urn`, means the document).
fn container<'a>(doc: &'a Value, path: &AttrPath, core_urn: &str) -> Option<&'a Value> {
    match &path.urn {
        None => Some(doc),
        Some(u) if u.eq_ignore_ascii_case(core_urn) => Some(doc),
        Some(u) => get_ci(doc, u),
    }
}

/// The values an attribute path reaches (multi-valued attributes flattened; a complex
/// multi-valued attribute named without a sub-attribute stands for its `value`s).
fn values<'a>(doc: &'a Value, path: &AttrPath, core_urn: &str) -> Vec<&'a Value> {
    let Some(c) = container(doc, path, core_urn) else {
        return Vec::new();
    };
    let Some(v) = get_ci(c, &path.name) else {
        return Vec::new();
    };
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let mut out = Vec::new();
    for it in items {
        let leaf = match (&path.sub, it) {
            (Some(s), _) => get_ci(it, s),
            (None, Value::Object(_)) => get_ci(it, "value"),
            (None, other) => Some(other),
        };
        if let Some(l) = leaf {
            if !l.is_null() {
                out.push(l);
            }
        }
    }
    out
}

fn compare(actual: &Value, op: Op, expected: &Value, exact: bool) -> bool {
    use std::cmp::Ordering;
    match (actual, expected) {
        (Value::String(a), Value::String(e)) => {
            let (a, e) = if exact {
                (a.clone(), e.clone())
            } else {
                (a.to_lowercase(), e.to_lowercase())
            };
            match op {
                Op::Eq => a == e,
                Op::Ne => a != e,
                Op::Co => a.contains(&e),
                Op::Sw => a.starts_with(&e),
                Op::Ew => a.ends_with(&e),
                Op::Gt => a > e,
                Op::Ge => a >= e,
                Op::Lt => a < e,
                Op::Le => a <= e,
            }
        }
        (Value::Number(a), Value::Number(e)) => {
            let (Some(a), Some(e)) = (a.as_f64(), e.as_f64()) else {
                return false;
            };
            let o = a.partial_cmp(&e);
            match op {
                Op::Eq => o == Some(Ordering::Equal),
                Op::Ne => o != Some(Ordering::Equal),
                Op::Gt => o == Some(Ordering::Greater),
                Op::Ge => matches!(o, Some(Ordering::Greater | Ordering::Equal)),
                Op::Lt => o == Some(Ordering::Less),
                Op::Le => matches!(o, Some(Ordering::Less | Ordering::Equal)),
                Op::Co | Op::Sw | Op::Ew => false,
            }
        }
        (Value::Bool(a), Value::Bool(e)) => match op {
            Op::Eq => a == e,
            Op::Ne => a != e,
            _ => false,
        },
        _ => op == Op::Ne,
    }
}

/// Whether the document matches the filter. `core_urn` is the resource's core schema.
pub fn matches(f: &Filter, doc: &Value, core_urn: &str) -> bool {
    match f {
        Filter::And(a, b) => matches(a, doc, core_urn) && matches(b, doc, core_urn),
        Filter::Or(a, b) => matches(a, doc, core_urn) || matches(b, doc, core_urn),
        Filter::Not(a) => !matches(a, doc, core_urn),
        Filter::Present(p) => values(doc, p, core_urn)
            .iter()
            .any(|v| !matches!(v, Value::String(s) if s.is_empty())),
        Filter::Compare(p, op, expected) => {
            let vals = values(doc, p, core_urn);
            if expected.is_null() {
                // `eq null` is "not present"; `ne null` is "present".
                return match op {
                    Op::Eq => vals.is_empty(),
                    Op::Ne => !vals.is_empty(),
                    _ => false,
                };
            }
            if vals.is_empty() {
                return *op == Op::Ne;
            }
            let exact = case_exact(p);
            if *op == Op::Ne {
                vals.iter().all(|v| compare(v, Op::Ne, expected, exact))
            } else {
                vals.iter().any(|v| compare(v, *op, expected, exact))
            }
        }
        Filter::ValuePath(p, inner) => {
            let Some(c) = container(doc, p, core_urn) else {
                return false;
            };
            match get_ci(c, &p.name) {
                Some(Value::Array(items)) => items.iter().any(|it| matches(inner, it, core_urn)),
                Some(v @ Value::Object(_)) => matches(inner, v, core_urn),
                _ => false,
            }
        }
    }
}

/// An `attr eq "value"` the filter requires (at its top or under `and`), for `attr` among
/// `names`: lets the store narrow the candidates with an indexed query before the whole
/// filter is applied. Returns the attribute name as given in `names` and the value.
pub fn required_eq<'a>(f: &Filter, names: &[&'a str]) -> Option<(&'a str, String)> {
    match f {
        Filter::Compare(p, Op::Eq, Value::String(v)) if p.sub.is_none() => names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(&p.name))
            .map(|n| (*n, v.clone())),
        Filter::And(a, b) => required_eq(a, names).or_else(|| required_eq(b, names)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

    fn doc() -> Value {
        json!({
            "id": "12",
            "userName": "Alice.Smith",
            "externalId": "AbC-1",
            "displayName": "Alice Smith",
            "active": true,
            "name": {"givenName": "Alice", "familyName": "Smith"},
            "emails": [{"value": "alice@example.com", "primary": true}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Payments"},
            "urn:jitea:params:scim:schemas:extension:jitea:2.0:User": {"seniorityLevel": 3}
        })
    }

    fn m(f: &str) -> bool {
        matches(
            &parse(f).unwrap_or_else(|e| panic!("{f}: {e}")),
            &doc(),
            CORE,
        )
    }

    #[test]
    fn operators_on_user_name_ignore_case() {
        assert!(m(r#"userName eq "alice.smith""#));
        assert!(m(r#"USERNAME Eq "ALICE.SMITH""#));
        assert!(m(r#"userName co "ce.sm""#));
        assert!(m(r#"userName sw "ali""#));
        assert!(m(r#"userName ew "SMITH""#));
        assert!(!m(r#"userName eq "alice""#));
        assert!(!m(r#"userName sw "smith""#));
        assert!(m(r#"userName ne "bob""#));
    }

    #[test]
    fn external_id_is_case_exact() {
        assert!(m(r#"externalId eq "AbC-1""#));
        assert!(!m(r#"externalId eq "abc-1""#));
        assert!(m(r#"externalId sw "AbC""#));
        assert!(!m(r#"externalId co "bc-1""#));
    }

    #[test]
    fn logic_grouping_presence_and_value_paths() {
        assert!(m(r#"displayName co "smith" and active eq true"#));
        assert!(m(r#"userName eq "x" or displayName sw "alice""#));
        assert!(!m(r#"not (displayName sw "alice")"#));
        assert!(m(
            r#"(userName eq "x" or userName eq "y") or name.familyName eq "smith""#
        ));
        assert!(!m(
            r#"userName eq "alice.smith" and (userName eq "x" or active eq false)"#
        ));
        assert!(m("title pr or externalId pr"));
        assert!(!m("title pr"));
        assert!(m(r#"emails[value ew "@EXAMPLE.com" and primary eq true]"#));
        assert!(m(r#"emails co "alice@""#));
        assert!(m(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "payments""#
        ));
        assert!(m(
            r#"urn:jitea:params:scim:schemas:extension:jitea:2.0:User:seniorityLevel ge 3"#
        ));
        assert!(!m(
            r#"urn:jitea:params:scim:schemas:extension:jitea:2.0:User:seniorityLevel gt 3"#
        ));
        assert!(m(
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "A""#
        ));
        assert!(m(r#"title eq null"#));
    }

    #[test]
    fn strings_are_json_strings() {
        let f = parse(r#"displayName eq "say \"hi\" \u00e9""#).unwrap();
        assert_eq!(
            f,
            Filter::Compare(
                parse_attr_path("displayName").unwrap(),
                Op::Eq,
                Value::String("say \"hi\" \u{e9}".into())
            )
        );
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let f = parse(r#"a eq "1" or b eq "2" and c eq "3""#).unwrap();
        assert!(matches!(f, Filter::Or(_, ref r) if matches!(**r, Filter::And(_, _))));
    }

    #[test]
    fn bad_filters_are_invalid_filter_errors() {
        for bad in [
            "",
            "userName",
            r#"userName zz "x""#,
            r#"userName eq"#,
            r#"userName eq "x"#,
            r#"(userName eq "x""#,
            r#"userName eq "x" extra"#,
            r#"emails[value eq "x""#,
            r#"not userName eq "x""#,
            "1abc eq 1",
            r#"user;Name eq "x""#,
            "userName eq 1e999999",
            r#"userName eq "x\""#,
            r#"userName eq "\q""#,
        ] {
            let e = parse(bad).expect_err(bad);
            assert_eq!(
                (e.status, e.scim_type),
                (400, Some("invalidFilter")),
                "{bad}"
            );
        }
        let deep = format!("{}userName pr{}", "(".repeat(100), ")".repeat(100));
        assert_eq!(parse(&deep).unwrap_err().scim_type, Some("invalidFilter"));
        assert!(parse(&"a".repeat(MAX_FILTER_LEN + 1)).is_err());
    }

    #[test]
    fn required_eq_finds_indexable_terms() {
        let f = parse(r#"active eq true and userName eq "Bob""#).unwrap();
        assert_eq!(
            required_eq(&f, &["userName", "externalId"]),
            Some(("userName", "Bob".to_string()))
        );
        let f = parse(r#"userName eq "a" or userName eq "b""#).unwrap();
        assert_eq!(required_eq(&f, &["userName"]), None);
    }

    #[test]
    fn patch_paths() {
        let p = parse_patch_path(r#"members[value eq "12"]"#).unwrap();
        assert_eq!(p.attr.name, "members");
        assert!(p.filter.is_some());
        let p = parse_patch_path(r#"emails[primary eq true].value"#).unwrap();
        assert_eq!(p.sub.as_deref(), Some("value"));
        let p = parse_patch_path(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        )
        .unwrap();
        assert_eq!(
            (p.attr.name.as_str(), p.attr.sub.as_deref()),
            ("manager", Some("value"))
        );
        for bad in [
            "",
            "members[",
            "members]x[",
            "a.b.c",
            "members[value eq \"1\"]x",
        ] {
            assert_eq!(
                parse_patch_path(bad).unwrap_err().scim_type,
                Some("invalidPath"),
                "{bad}"
            );
        }
    }
}
