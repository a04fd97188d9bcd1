//! Form validation messages, shown next to the field they are about.
//!
//! Client-side checks and the API's `details.fields` both land here, keyed by the API's field
//! name (`requested_duration_minutes`, `ticket_ref`, ...), so one element per field
//! (`data-testid="field-error-<field>"`) shows whichever found the problem.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::api::ApiError;

#[derive(Clone, Copy)]
pub struct FormErrors {
    fields: RwSignal<BTreeMap<String, String>>,
    form: RwSignal<Option<String>>,
}

impl Default for FormErrors {
    fn default() -> Self {
        Self::new()
    }
}

impl FormErrors {
    pub fn new() -> Self {
        FormErrors {
            fields: RwSignal::new(BTreeMap::new()),
            form: RwSignal::new(None),
        }
    }

    pub fn clear(&self) {
        self.fields.set(BTreeMap::new());
        self.form.set(None);
    }

    pub fn set_field(&self, field: &str, message: impl Into<String>) {
        let m = message.into();
        self.fields.update(|f| {
            f.insert(field.to_string(), m);
        });
    }

    pub fn set_form(&self, message: impl Into<String>) {
        self.form.set(Some(message.into()));
    }

    pub fn has_fields(&self) -> bool {
        self.fields.with_untracked(|f| !f.is_empty())
    }

    /// Takes an API error: per-field messages go to their fields; the summary goes on top.
    pub fn show_api(&self, e: &ApiError) {
        self.clear();
        for f in &e.fields {
            self.set_field(&f.field, f.message.clone());
        }
        self.set_form(e.message.clone());
    }

    pub fn get(&self, field: &str) -> Option<String> {
        self.fields.with(|f| f.get(field).cloned())
    }

    /// `aria-invalid` value for an input.
    pub fn invalid(
        &self,
        field: &'static str,
    ) -> impl Fn() -> &'static str + Send + Sync + Copy + 'static {
        let me = *self;
        move || {
            if me.fields.with(|f| f.contains_key(field)) {
                "true"
            } else {
                "false"
            }
        }
    }

    /// `aria-describedby` for an input: its error message while there is one.
    pub fn describedby(
        &self,
        field: &'static str,
    ) -> impl Fn() -> Option<String> + Send + Sync + Copy + 'static {
        let me = *self;
        move || {
            me.fields
                .with(|f| f.contains_key(field))
                .then(|| format!("err-{field}"))
        }
    }
}

/// The message for one field, if any.
#[component]
pub fn FieldError(errors: FormErrors, field: &'static str) -> impl IntoView {
    move || {
        errors.get(field).map(|m| {
            view! {
                <p class="field-error" id=format!("err-{field}") data-testid=format!("field-error-{field}")>
                    {m}
                </p>
            }
        })
    }
}

/// The form-level message (what went wrong overall), announced to screen readers.
#[component]
pub fn FormError(errors: FormErrors) -> impl IntoView {
    move || {
        errors.form.get().map(|m| {
            view! {
                <div class="alert alert-danger" role="alert" data-testid="form-error">
                    {m}
                </div>
            }
        })
    }
}
