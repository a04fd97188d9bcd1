//! PATCH (RFC 7644 §3.5.2): `add`, `replace` and `remove` applied, in order, to a resource's
//! JSON document. The caller then reads the patched document like a PUT body, so one set of
//! rules (validation, mutability, what may change) governs both.

use serde_json::{Map, Value};

use super::filter::{self, get_ci, AttrPath, PatchPath};
use super::{ScimError, PATCH_SCHEMA};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub op: OpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// Most operations one PATCH request may carry.
pub const MAX_OPERATIONS: usize = 1000;

/// Reads a PatchOp request body.
pub fn parse_request(body: &Value) -> Result<Vec<Operation>, ScimError> {
    let schemas = get_ci(body, "schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|s| s.iter().any(|x| x.as_str() == Some(PATCH_SCHEMA))) {
        return Err(ScimError::invalid_syntax(format!(
            "a PATCH body must name the schema {PATCH_SCHEMA}"
        )));
    }
    let ops = get_ci(body, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("`Operations` must be an array"))?;
    if ops.is_empty() || ops.len() > MAX_OPERATIONS {
        return Err(ScimError::invalid_syntax(format!(
            "`Operations` must hold 1 to {MAX_OPERATIONS} operations"
        )));
    }
    ops.iter().map(parse_operation).collect()
}

fn parse_operation(o: &Value) -> Result<Operation, ScimError> {
    let kind = match get_ci(o, "op")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
    {
        Some(k) if k == "add" => OpKind::Add,
        Some(k) if k == "replace" => OpKind::Replace,
        Some(k) if k == "remove" => OpKind::Remove,
        _ => {
            return Err(ScimError::invalid_syntax(
                "each operation's `op` must be add, replace or remove",
            ))
        }
    };
    let path = match get_ci(o, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(filter::parse_patch_path(s)?),
        Some(_) => return Err(ScimError::invalid_path("`path` must be a string")),
    };
    let value = get_ci(o, "value").cloned();
    if kind != OpKind::Remove && value.is_none() {
        return Err(ScimError::invalid_syntax(
            "add and replace operations need a `value`",
        ));
    }
    if kind == OpKind::Remove && path.is_none() {
        return Err(ScimError::no_target("a remove operation needs a `path`"));
    }
    Ok(Operation {
        op: kind,
        path,
        value,
    })
}

/// Whether an operation removes this core attribute (`name`, any case).
pub fn removes(ops: &[Operation], name: &str) -> bool {
    ops.iter().any(|o| {
        o.op == OpKind::Remove
            && o.path.as_ref().is_some_and(|p| {
                p.filter.is_none()
                    && p.attr.sub.is_none()
                    && p.attr.name.eq_ignore_ascii_case(name)
                    && p.attr
                        .urn
                        .as_deref()
                        .is_none_or(|u| !u.contains(":extension:"))
            })
    })
}

/// Applies the operations to the document in order. `core_urn` is the resource's core schema.
pub fn apply(doc: &mut Value, ops: &[Operation], core_urn: &str) -> Result<(), ScimError> {
    for o in ops {
        apply_one(doc, o, core_urn)?;
    }
    Ok(())
}

/// The key of `obj` equal to `key` without regard to case, else `key` itself.
fn key_in(obj: &Map<String, Value>, key: &str) -> String {
    obj.keys()
        .find(|k| k.eq_ignore_ascii_case(key))
        .cloned()
        .unwrap_or_else(|| key.to_string())
}

fn as_object_mut(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    match v {
        Value::Object(m) => m,
        _ => unreachable!("the value was just made an object"),
    }
}

/// The object an attribute lives in: the document, or the extension object its URN names
/// (created when `create`).
fn container_mut<'a>(
    doc: &'a mut Value,
    attr: &AttrPath,
    core_urn: &str,
    create: bool,
) -> Option<&'a mut Map<String, Value>> {
    let root = as_object_mut(doc);
    match &attr.urn {
        Some(u) if !u.eq_ignore_ascii_case(core_urn) => {
            let k = key_in(root, u);
            if !root.contains_key(&k) {
                if !create {
                    return None;
                }
                root.insert(k.clone(), Value::Object(Map::new()));
            }
            root.get_mut(&k).map(as_object_mut)
        }
        _ => Some(root),
    }
}

/// `add` of a value onto an existing one: arrays gain the new items (no duplicates), objects
/// gain or change sub-attributes, anything else is replaced.
fn add_value(existing: Option<&mut Value>, new: Value) -> Option<Value> {
    match (existing, new) {
        (Some(Value::Array(items)), Value::Array(more)) => {
            for m in more {
                if !items.contains(&m) {
                    items.push(m);
                }
            }
            None
        }
        (Some(Value::Array(items)), one) => {
            if !items.contains(&one) {
                items.push(one);
            }
            None
        }
        (Some(Value::Object(obj)), Value::Object(more)) => {
            for (k, v) in more {
                let key = key_in(obj, &k);
                obj.insert(key, v);
            }
            None
        }
        (_, v) => Some(v),
    }
}

fn set_attr(container: &mut Map<String, Value>, name: &str, op: OpKind, value: Value) {
    let key = key_in(container, name);
    let value = match op {
        OpKind::Add => match add_value(container.get_mut(&key), value) {
            Some(v) => v,
            None => return,
        },
        // Replacing a complex single-valued attribute keeps the sub-attributes not given.
        _ => match (container.get_mut(&key), value) {
            (Some(Value::Object(obj)), Value::Object(more)) => {
                for (k, v) in more {
                    let kk = key_in(obj, &k);
                    obj.insert(kk, v);
                }
                return;
            }
            (_, v) => v,
        },
    };
    container.insert(key, value);
}

/// An operation without a path: its value is an object of attributes (extension objects
/// keyed by their URN).
fn apply_without_path(doc: &mut Value, o: &Operation, core_urn: &str) -> Result<(), ScimError> {
    let Some(Value::Object(attrs)) = &o.value else {
        return Err(ScimError::invalid_value(
            "an operation without a path needs an object as its value",
        ));
    };
    for (k, v) in attrs {
        let is_ext = k.len() > 4 && k[..4].eq_ignore_ascii_case("urn:");
        if is_ext && !k.eq_ignore_ascii_case(core_urn) {
            if let Value::Object(inner) = v {
                let attr = AttrPath {
                    urn: Some(k.clone()),
                    name: String::new(),
                    sub: None,
                };
                if let Some(c) = container_mut(doc, &attr, core_urn, true) {
                    for (ik, iv) in inner {
                        set_attr(c, ik, o.op, iv.clone());
                    }
                }
                continue;
            }
        }
        if let Ok(p) = filter::parse_attr_path(k) {
            if let Some(sub) = p.sub.clone() {
                // `"name.givenName": "x"` in a path-less value.
                if let Some(c) = container_mut(doc, &p, core_urn, true) {
                    let key = key_in(c, &p.name);
                    let target = c.entry(key).or_insert(Value::Null);
                    set_attr(as_object_mut(target), &sub, o.op, v.clone());
                }
                continue;
            }
            if let Some(c) = container_mut(doc, &p, core_urn, true) {
                set_attr(c, &p.name, o.op, v.clone());
            }
        } else {
            return Err(ScimError::invalid_path(format!(
                "`{k}` is not an attribute name"
            )));
        }
    }
    Ok(())
}

fn apply_one(doc: &mut Value, o: &Operation, core_urn: &str) -> Result<(), ScimError> {
    let Some(path) = &o.path else {
        return apply_without_path(doc, o, core_urn);
    };
    match &path.filter {
        None => apply_plain(doc, path, o, core_urn),
        Some(f) => apply_filtered(doc, path, f, o, core_urn),
    }
}

fn apply_plain(
    doc: &mut Value,
    path: &PatchPath,
    o: &Operation,
    core_urn: &str,
) -> Result<(), ScimError> {
    let attr = &path.attr;
    let create = o.op != OpKind::Remove;
    let Some(c) = container_mut(doc, attr, core_urn, create) else {
        return Ok(());
    };
    let key = key_in(c, &attr.name);
    match (o.op, &attr.sub) {
        (OpKind::Remove, None) => {
            match (c.get_mut(&key), &o.value) {
                // `remove` with a value on a multi-valued attribute removes those values
                // (matched by their `value`), as several identity providers send it.
                (Some(Value::Array(items)), Some(v)) => {
                    let gone: Vec<Value> = match v {
                        Value::Array(a) => a.clone(),
                        one => vec![one.clone()],
                    };
                    items.retain(|it| {
                        !gone.iter().any(|g| {
                            g == it
                                || (get_ci(g, "value").is_some()
                                    && get_ci(g, "value") == get_ci(it, "value"))
                        })
                    });
                }
                _ => {
                    c.remove(&key);
                }
            }
        }
        (OpKind::Remove, Some(sub)) => {
            if let Some(Value::Object(obj)) = c.get_mut(&key) {
                let sk = key_in(obj, sub);
                obj.remove(&sk);
            } else if let Some(Value::Array(items)) = c.get_mut(&key) {
                for it in items.iter_mut() {
                    if let Value::Object(obj) = it {
                        let sk = key_in(obj, sub);
                        obj.remove(&sk);
                    }
                }
            }
        }
        (op, None) => {
            let v = o.value.clone().unwrap_or(Value::Null);
            set_attr(c, &attr.name, op, v);
        }
        (op, Some(sub)) => {
            let v = o.value.clone().unwrap_or(Value::Null);
            let target = c.entry(key).or_insert(Value::Null);
            set_attr(as_object_mut(target), sub, op, v);
        }
    }
    Ok(())
}

fn apply_filtered(
    doc: &mut Value,
    path: &PatchPath,
    f: &filter::Filter,
    o: &Operation,
    core_urn: &str,
) -> Result<(), ScimError> {
    let attr = &path.attr;
    let no_match = || {
        ScimError::no_target(format!(
            "no value of `{}` matches the path's filter",
            attr.name
        ))
    };
    let Some(c) = container_mut(doc, attr, core_urn, false) else {
        return Err(no_match());
    };
    let key = key_in(c, &attr.name);
    let Some(Value::Array(items)) = c.get_mut(&key) else {
        return Err(no_match());
    };
    let hits: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, it)| filter::matches(f, it, core_urn))
        .map(|(i, _)| i)
        .collect();
    if hits.is_empty() {
        return Err(no_match());
    }
    match (o.op, &path.sub) {
        (OpKind::Remove, None) => {
            let mut i = 0;
            items.retain(|_| {
                let keep = !hits.contains(&i);
                i += 1;
                keep
            });
        }
        (OpKind::Remove, Some(sub)) => {
            for i in hits {
                if let Some(Value::Object(obj)) = items.get_mut(i) {
                    let sk = key_in(obj, sub);
                    obj.remove(&sk);
                }
            }
        }
        (op, Some(sub)) => {
            for i in hits {
                if let Some(it) = items.get_mut(i) {
                    set_attr(
                        as_object_mut(it),
                        sub,
                        op,
                        o.value.clone().unwrap_or(Value::Null),
                    );
                }
            }
        }
        (_, None) => {
            let Some(Value::Object(more)) = &o.value else {
                return Err(ScimError::invalid_value(
                    "a value filter's element is replaced by an object",
                ));
            };
            for i in hits {
                if let Some(it) = items.get_mut(i) {
                    let obj = as_object_mut(it);
                    for (k, v) in more {
                        let kk = key_in(obj, k);
                        obj.insert(kk, v.clone());
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn run(doc: Value, ops: Value) -> Result<Value, ScimError> {
        let body = json!({"schemas": [PATCH_SCHEMA], "Operations": ops});
        let ops = parse_request(&body)?;
        let mut d = doc;
        apply(&mut d, &ops, CORE)?;
        Ok(d)
    }

    #[test]
    fn active_false_by_path_and_without_path() {
        let d = run(
            json!({"active": true}),
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .unwrap();
        assert_eq!(d["active"], json!(false));
        let d = run(
            json!({"active": true}),
            json!([{"op": "Replace", "value": {"active": false}}]),
        )
        .unwrap();
        assert_eq!(d["active"], json!(false));
    }

    #[test]
    fn members_add_and_remove_by_filter() {
        let d = json!({"displayName": "ops", "members": [{"value": "1"}, {"value": "2"}]});
        let d = run(
            d,
            json!([{"op": "add", "path": "members", "value": [{"value": "3"}, {"value": "1"}]}]),
        )
        .unwrap();
        assert_eq!(d["members"].as_array().map(Vec::len), Some(3));
        let d = run(
            d,
            json!([{"op": "remove", "path": "members[value eq \"2\"]"}]),
        )
        .unwrap();
        assert_eq!(d["members"], json!([{"value": "1"}, {"value": "3"}]));
        let d = run(
            d,
            json!([{"op": "remove", "path": "members", "value": [{"value": "1"}]}]),
        )
        .unwrap();
        assert_eq!(d["members"], json!([{"value": "3"}]));
        let e = run(
            d.clone(),
            json!([{"op": "remove", "path": "members[value eq \"9\"]"}]),
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some("noTarget"));
        let d = run(d, json!([{"op": "remove", "path": "members"}])).unwrap();
        assert!(d.get("members").is_none());
    }

    #[test]
    fn extension_and_sub_attributes() {
        let d = run(
            json!({"name": {"givenName": "A", "familyName": "B"}}),
            json!([
                {"op": "replace", "path": "name.givenName", "value": "C"},
                {"op": "add", "path": format!("{ENT}:department"), "value": "Ops"},
                {"op": "replace", "value": {ENT: {"division": "EU"}, "name.familyName": "D"}},
                {"op": "replace", "path": "name", "value": {"familyName": "E"}},
            ]),
        )
        .unwrap();
        assert_eq!(d["name"], json!({"givenName": "C", "familyName": "E"}));
        assert_eq!(d[ENT], json!({"department": "Ops", "division": "EU"}));
        let d = run(
            d,
            json!([{"op": "remove", "path": format!("{ENT}:department")}]),
        )
        .unwrap();
        assert_eq!(d[ENT], json!({"division": "EU"}));
    }

    #[test]
    fn filtered_sub_attribute_replace() {
        let d = run(
            json!({"emails": [{"value": "a@x", "primary": true}, {"value": "b@x"}]}),
            json!([{"op": "replace", "path": "emails[primary eq true].value", "value": "c@x"}]),
        )
        .unwrap();
        assert_eq!(d["emails"][0]["value"], json!("c@x"));
    }

    #[test]
    fn malformed_requests() {
        let e = parse_request(&json!({"Operations": []})).unwrap_err();
        assert_eq!(e.scim_type, Some("invalidSyntax"));
        for ops in [
            json!([]),
            json!([{"op": "move", "path": "a"}]),
            json!([{"op": "add", "path": "a"}]),
            json!("x"),
        ] {
            let e = run(json!({}), ops.clone()).unwrap_err();
            assert_eq!(e.status, 400, "{ops}");
        }
        assert_eq!(
            run(json!({}), json!([{"op": "remove"}]))
                .unwrap_err()
                .scim_type,
            Some("noTarget")
        );
        assert_eq!(
            run(json!({}), json!([{"op": "add", "value": 3}]))
                .unwrap_err()
                .scim_type,
            Some("invalidValue")
        );
        assert_eq!(
            run(json!({}), json!([{"op": "add", "path": "a b", "value": 3}]))
                .unwrap_err()
                .scim_type,
            Some("invalidPath")
        );
    }
}
