//! The discovery documents (RFC 7644 §4, RFC 7643 §5-7): what this server supports and the
//! schemas of the resources it serves. They describe exactly what `resource` reads and
//! writes: an attribute listed here is stored and returned as sent; `userName` is immutable
//! because it is the login JITEA provisions on target systems.

use serde_json::{json, Value};

use super::{
    ENTERPRISE_SCHEMA, GROUP_SCHEMA, JITEA_SCHEMA, MAX_PAYLOAD, MAX_RESULTS, RESOURCE_TYPE_SCHEMA,
    SCHEMA_SCHEMA, SPC_SCHEMA, USER_SCHEMA,
};

/// Characteristics of one attribute.
struct A {
    name: &'static str,
    ty: &'static str,
    multi: bool,
    required: bool,
    mutability: &'static str,
    returned: &'static str,
    uniqueness: &'static str,
    case_exact: bool,
    description: &'static str,
    sub: Vec<Value>,
    reference_types: &'static [&'static str],
    canonical: &'static [&'static str],
}

impl A {
    fn new(name: &'static str, ty: &'static str, description: &'static str) -> Self {
        Self {
            name,
            ty,
            multi: false,
            required: false,
            mutability: "readWrite",
            returned: "default",
            uniqueness: "none",
            case_exact: false,
            description,
            sub: Vec::new(),
            reference_types: &[],
            canonical: &[],
        }
    }
    fn multi(mut self) -> Self {
        self.multi = true;
        self
    }
    fn required(mut self) -> Self {
        self.required = true;
        self
    }
    fn mutability(mut self, m: &'static str) -> Self {
        self.mutability = m;
        self
    }
    fn unique(mut self) -> Self {
        self.uniqueness = "server";
        self
    }
    fn sub(mut self, sub: Vec<Value>) -> Self {
        self.sub = sub;
        self
    }
    fn refs(mut self, r: &'static [&'static str]) -> Self {
        self.reference_types = r;
        self
    }
    fn canonical(mut self, c: &'static [&'static str]) -> Self {
        self.canonical = c;
        self
    }
    fn build(self) -> Value {
        let mut v = json!({
            "name": self.name,
            "type": self.ty,
            "multiValued": self.multi,
            "description": self.description,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": self.mutability,
            "returned": self.returned,
            "uniqueness": self.uniqueness,
        });
        if !self.sub.is_empty() {
            v["subAttributes"] = json!(self.sub);
        }
        if !self.reference_types.is_empty() {
            v["referenceTypes"] = json!(self.reference_types);
        }
        if !self.canonical.is_empty() {
            v["canonicalValues"] = json!(self.canonical);
        }
        v
    }
}

fn user_attributes() -> Vec<Value> {
    vec![
        A::new(
            "userName",
            "string",
            "The login name: unique regardless of case; letters, digits and . _ - @ \\ only, at most 128 characters. It is the login on target systems, so it cannot change.",
        )
        .required()
        .mutability("immutable")
        .unique()
        .build(),
        A::new("name", "complex", "The person's name.")
            .sub(vec![
                A::new("givenName", "string", "Given name.").build(),
                A::new("familyName", "string", "Family name.").build(),
            ])
            .build(),
        A::new("displayName", "string", "Name shown in JITEA.").build(),
        A::new("title", "string", "Job title.").build(),
        A::new(
            "active",
            "boolean",
            "false deactivates the user: sessions end, pending requests are cancelled and every live grant is revoked at once. Every JITEA user is active or not, so it cannot be removed; when a POST or PUT leaves it out, a new user is active and an existing one keeps its state.",
        )
        .required()
        .build(),
        A::new(
            "emails",
            "complex",
            "Email address: JITEA keeps one (the one marked primary, else the first).",
        )
        .multi()
        .sub(vec![A::new("value", "string", "The address.").build()])
        .build(),
    ]
}

fn enterprise_attributes() -> Vec<Value> {
    vec![
        A::new("employeeNumber", "string", "Employee number.").build(),
        A::new(
            "division",
            "string",
            "Division (used by eligibility rules).",
        )
        .build(),
        A::new(
            "department",
            "string",
            "Department (used by eligibility rules and approvers).",
        )
        .build(),
        A::new(
            "manager",
            "complex",
            "The user's manager (an approver of their requests).",
        )
        .sub(vec![
            A::new("value", "string", "The manager's id.").build(),
            A::new("$ref", "reference", "The manager's URI.")
                .refs(&["User"])
                .build(),
        ])
        .build(),
    ]
}

fn jitea_attributes() -> Vec<Value> {
    vec![A::new(
        "seniorityLevel",
        "integer",
        "Seniority, 1 (most junior) to 1000: roles may skip approval from a minimum seniority.",
    )
    .build()]
}

fn group_attributes() -> Vec<Value> {
    vec![
        A::new(
            "displayName",
            "string",
            "The team's name: unique, at most 255 characters.",
        )
        .required()
        .unique()
        .build(),
        A::new("members", "complex", "The team's members (users only).")
            .multi()
            .sub(vec![
                A::new("value", "string", "The member's id.")
                    .mutability("immutable")
                    .build(),
                A::new("$ref", "reference", "The member's URI.")
                    .refs(&["User"])
                    .mutability("immutable")
                    .build(),
                A::new("type", "string", "Always User.")
                    .canonical(&["User"])
                    .mutability("immutable")
                    .build(),
            ])
            .build(),
    ]
}

fn schema_doc(base: &str, id: &str, name: &str, description: &str, attrs: Vec<Value>) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attrs,
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")},
    })
}

/// Every schema this server serves.
pub fn schemas(base: &str) -> Vec<Value> {
    vec![
        schema_doc(base, USER_SCHEMA, "User", "User Account", user_attributes()),
        schema_doc(
            base,
            GROUP_SCHEMA,
            "Group",
            "Group (a JITEA team)",
            group_attributes(),
        ),
        schema_doc(
            base,
            ENTERPRISE_SCHEMA,
            "EnterpriseUser",
            "Enterprise User",
            enterprise_attributes(),
        ),
        schema_doc(
            base,
            JITEA_SCHEMA,
            "JiteaUser",
            "JITEA's facts about a user",
            jitea_attributes(),
        ),
    ]
}

/// The resource types: `User` (with the enterprise and JITEA extensions) and `Group`.
pub fn resource_types(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User Account",
            "schema": USER_SCHEMA,
            "schemaExtensions": [
                {"schema": ENTERPRISE_SCHEMA, "required": false},
                {"schema": JITEA_SCHEMA, "required": false},
            ],
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")},
        }),
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "Group (a JITEA team)",
            "schema": GROUP_SCHEMA,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group")},
        }),
    ]
}

/// What this server supports (RFC 7643 §5).
pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SPC_SCHEMA],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": MAX_PAYLOAD},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A SCIM token created by a JITEA administrator (POST /api/v1/scim/tokens), sent as `Authorization: Bearer <token>`.",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attribute_states_its_characteristics() {
        fn check(a: &Value) {
            for k in [
                "name",
                "type",
                "multiValued",
                "required",
                "mutability",
                "returned",
            ] {
                assert!(a.get(k).is_some(), "{a} lacks {k}");
            }
            if let Some(sub) = a.get("subAttributes").and_then(Value::as_array) {
                sub.iter().for_each(check);
            }
        }
        for s in schemas("http://x/scim/v2") {
            s["attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .for_each(check);
        }
        let ids: Vec<_> = resource_types("b")
            .iter()
            .map(|r| r["schema"].clone())
            .collect();
        assert_eq!(ids, vec![json!(USER_SCHEMA), json!(GROUP_SCHEMA)]);
        assert_eq!(
            service_provider_config("b")["filter"]["maxResults"],
            json!(200)
        );
    }
}
