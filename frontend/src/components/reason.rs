//! The justification and ticket fields a role may require, shared by the request form and the
//! dashboard's extend form (same API rules, same field names, same messages).

use jitea_shared::Role;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::components::field::{FieldError, FormErrors};

/// Longest justification the API accepts (characters).
const MAX_JUSTIFICATION: usize = 4000;
/// Longest ticket reference the API accepts (characters).
const MAX_TICKET: usize = 255;

#[wasm_bindgen]
extern "C" {
    /// `RegExp` with a constructor that reports a bad pattern instead of throwing, so a
    /// pattern JavaScript cannot read simply skips the client-side check (the API decides).
    #[wasm_bindgen(js_name = RegExp)]
    type SafeRegExp;
    #[wasm_bindgen(constructor, js_class = "RegExp", catch)]
    fn new(pattern: &str, flags: &str) -> Result<SafeRegExp, JsValue>;
    #[wasm_bindgen(method, js_class = "RegExp")]
    fn test(this: &SafeRegExp, text: &str) -> bool;
}

/// Whether `ticket` fully matches `pattern`; `None` when the browser cannot judge.
fn ticket_matches(pattern: &str, ticket: &str) -> Option<bool> {
    SafeRegExp::new(&format!("^(?:{pattern})$"), "")
        .ok()
        .map(|re| re.test(ticket))
}

/// The role's ticket pattern, unless blank.
fn pattern(role: &Role) -> Option<&str> {
    role.ticket_regex
        .as_deref()
        .filter(|p| !p.trim().is_empty())
}

/// The client-side version of the API's justification and ticket checks.
pub fn validate_reason(role: &Role, justification: &str, ticket: &str, errors: FormErrors) {
    let j = justification.trim();
    // A break-glass role always needs one (the API's rule, `domain::break_glass`).
    if (role.requires_justification || role.break_glass) && j.is_empty() {
        errors.set_field(
            "justification",
            "A justification is required for this role.",
        );
    } else if j.chars().count() > MAX_JUSTIFICATION {
        errors.set_field(
            "justification",
            format!("Keep it under {MAX_JUSTIFICATION} characters."),
        );
    }
    let t = ticket.trim();
    let pattern = pattern(role);
    if t.is_empty() {
        if role.requires_ticket {
            let msg = match pattern {
                Some(p) => format!("A ticket reference matching {p} is required for this role."),
                None => "A ticket reference is required for this role.".into(),
            };
            errors.set_field("ticket_ref", msg);
        }
    } else if t.chars().count() > MAX_TICKET {
        errors.set_field(
            "ticket_ref",
            format!("Keep it under {MAX_TICKET} characters."),
        );
    } else if let Some(p) = pattern {
        if ticket_matches(p, t) == Some(false) {
            errors.set_field(
                "ticket_ref",
                format!("The ticket reference must match {p}."),
            );
        }
    }
}

/// `(required)` or `(optional)` after a label.
fn required(yes: bool) -> &'static str {
    if yes {
        "(required)"
    } else {
        "(optional)"
    }
}

/// The justification and ticket inputs. `prefix` names their ids and test ids
/// (`<prefix>-justification`, `<prefix>-ticket`); `role` is the role they are for, when known.
#[component]
pub fn ReasonFields(
    prefix: &'static str,
    justification: RwSignal<String>,
    ticket: RwSignal<String>,
    errors: FormErrors,
    #[prop(into)] role: Signal<Option<Role>>,
) -> impl IntoView {
    let j_id = format!("{prefix}-justification");
    let t_id = format!("{prefix}-ticket");
    let help_id = format!("{prefix}-ticket-help");
    let help = help_id.clone();
    view! {
        <div class="field">
            <label for=j_id.clone()>
                "Justification "
                <span class="req">
                    {move || required(role.with(|r| r.as_ref().is_some_and(|r| r.requires_justification || r.break_glass)))}
                </span>
            </label>
            <textarea
                id=j_id.clone()
                rows="3"
                maxlength="4000"
                data-testid=j_id
                aria-invalid=errors.invalid("justification")
                aria-describedby=errors.describedby("justification")
                bind:value=justification
            ></textarea>
            <FieldError errors=errors field="justification"/>
        </div>
        <div class="field">
            <label for=t_id.clone()>
                "Ticket reference "
                <span class="req">
                    {move || required(role.with(|r| r.as_ref().is_some_and(|r| r.requires_ticket)))}
                </span>
            </label>
            <input
                id=t_id.clone()
                type="text"
                autocomplete="off"
                spellcheck="false"
                data-testid=t_id
                aria-invalid=errors.invalid("ticket_ref")
                aria-describedby=move || {
                    let mut ids = vec![help.clone()];
                    ids.extend(errors.describedby("ticket_ref")());
                    ids.join(" ")
                }
                bind:value=ticket
            />
            <p class="help" id=help_id>
                {move || match role.with(|r| r.as_ref().and_then(pattern).map(str::to_string)) {
                    Some(p) => view! { "Format: " <code>{p}</code> }.into_any(),
                    None => view! { "Any reference, e.g. a change or incident number." }.into_any(),
                }}
            </p>
            <FieldError errors=errors field="ticket_ref"/>
        </div>
    }
}
