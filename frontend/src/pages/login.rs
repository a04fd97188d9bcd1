//! Sign-in: with a built-in account (the server answers with the user and a CSRF token and
//! sets the HttpOnly session cookie; nothing is written to browser storage) and, when the API
//! advertises one (`GET /auth/providers`), through the organisation's identity provider.
//! When password sign-in is off, the form stays available behind a disclosure for the
//! bootstrap administrator's break-glass sign-in.

use jitea_shared::{AuthProviders, OidcProviderInfo};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::api;
use crate::components::field::{FieldError, FormError, FormErrors};
use crate::components::states::run_busy;
use crate::session::Session;

/// Where to go after signing in: the page the user was sent away from, if it is one of ours.
fn safe_next(next: Option<String>) -> String {
    match next {
        // Only same-site paths: never `//evil.example`, `https://...`, or `/\evil.example`
        // (URL parsing reads a backslash as a slash).
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.starts_with("/login") =>
        {
            n
        }
        _ => "/".to_string(),
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    crate::components::set_title("Sign in");
    let session = expect_context::<Session>();
    let navigate = use_navigate();
    let query = use_query_map();
    let login = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    // Once signed in (just now, or already when /login was opened in another tab), go on to
    // the page the user was heading for.
    Effect::new(move |_| {
        if session.checked.get() && session.signed_in.get() {
            let next = safe_next(query.get_untracked().get("next"));
            navigate(
                &next,
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let (l, p) = (login.get_untracked(), password.get_untracked());
        if l.trim().is_empty() {
            errors.set_field("login_name", "Enter your user name.");
        }
        if p.is_empty() {
            errors.set_field("password", "Enter your password.");
        }
        if errors.has_fields() {
            return;
        }
        run_busy(busy, async move {
            match session.sign_in(l.trim(), &p).await {
                // The effect above moves on to the next page once the session is set; the page
                // change is the feedback (no toast that would linger over the next action).
                Ok(()) => password.set(String::new()),
                Err(e) => {
                    password.set(String::new());
                    if e.status == 401 {
                        errors.set_form("Wrong user name or password, or the account is inactive.");
                    } else {
                        errors.show_api(&e);
                    }
                }
            }
        });
    };

    // The sign-in options; until they are known nothing but the title shows, so a page
    // whose password sign-in is off never flashes the password form.
    let providers = RwSignal::new(None::<AuthProviders>);
    spawn_local(async move {
        let p = api::auth_providers().await.unwrap_or(AuthProviders {
            local: true,
            oidc: None,
        });
        providers.set(Some(p));
    });
    let sso_error = query
        .with_untracked(|q| q.get("error"))
        .map(|c| sso_error_message(&c));

    let form = move || {
        view! {
            <form class="form" data-testid="login-form" on:submit=submit novalidate>
                <FormError errors=errors/>
                <div class="field">
                    <label for="login-user">"User name"</label>
                    <input
                        id="login-user"
                        name="username"
                        type="text"
                        autocomplete="username"
                        autocapitalize="none"
                        spellcheck="false"
                        required
                        data-testid="login-user"
                        aria-invalid=errors.invalid("login_name")
                        aria-describedby=errors.describedby("login_name")
                        bind:value=login
                    />
                    <FieldError errors=errors field="login_name"/>
                </div>
                <div class="field">
                    <label for="login-password">"Password"</label>
                    <input
                        id="login-password"
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        required
                        data-testid="login-password"
                        aria-invalid=errors.invalid("password")
                        aria-describedby=errors.describedby("password")
                        bind:value=password
                    />
                    <FieldError errors=errors field="password"/>
                </div>
                <button
                    type="submit"
                    class="btn btn-primary btn-block"
                    data-testid="login-submit"
                    disabled=busy
                >
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        }
    };

    view! {
        <section class="auth-wrap">
            <div class="card auth-card">
                <h1>"Sign in"</h1>
                <p class="muted">"Just-in-time access to databases, granted for as long as you need it."</p>
                {sso_error.map(|(text, code)| view! {
                    <div class="alert alert-danger" role="alert" data-testid="sso-error" data-code=code>
                        <p>{text}</p>
                        {code.map(|c| view! { <p class="small">"Reference: " <code>{c}</code></p> })}
                    </div>
                })}
                {move || providers.get().map(|p| {
                    let sso = p.oidc.map(|o| {
                        let next = safe_next(query.get_untracked().get("next"));
                        sso_button(&o, &next)
                    });
                    match (p.local, sso) {
                        (true, None) => form().into_any(),
                        (true, Some(button)) => view! {
                            {form()}
                            <div class="sso" data-testid="sso-options">
                                <p class="divider"><span>"or"</span></p>
                                {button}
                            </div>
                        }
                        .into_any(),
                        (false, Some(button)) => view! {
                            <div class="sso" data-testid="sso-options">{button}</div>
                            <details class="break-glass" data-testid="break-glass">
                                <summary>"Emergency administrator sign-in"</summary>
                                <p class="muted small">
                                    "Password sign-in is turned off. Only the bootstrap administrator's "
                                    "password works here, for when single sign-on is down; every use is recorded "
                                    "in the audit log."
                                </p>
                                {form()}
                            </details>
                        }
                        .into_any(),
                        (false, None) => view! {
                            <p class="note small" data-testid="local-login-off">
                                "Password sign-in is turned off: only the bootstrap administrator can sign in."
                            </p>
                            {form()}
                        }
                        .into_any(),
                    }
                })}
            </div>
        </section>
    }
}

/// The single sign-on button: a plain link (a full page load, not a route of this app) to the
/// provider's start URL, which comes back to `next` once signed in.
fn sso_button(o: &OidcProviderInfo, next: &str) -> impl IntoView {
    let sep = if o.login_url.contains('?') { '&' } else { '?' };
    let href = format!("{}{sep}return_to={}", o.login_url, api::encode(next));
    view! {
        <a class="btn btn-primary btn-block" href=href rel="external" data-testid="sso-button">
            {format!("Sign in with {}", o.name)}
        </a>
    }
}

/// What to tell the user when single sign-on sent them back with `?error=<code>`: a message,
/// and the code itself only when it is one the server sends (nothing else from the address
/// bar is shown).
fn sso_error_message(code: &str) -> (&'static str, Option<&'static str>) {
    const KNOWN: [(&str, &str); 12] = [
        ("oidc_state_invalid", "The sign-in expired or was started in another browser or tab. Please try again."),
        ("oidc_provider_error", "The identity provider did not complete the sign-in (it may have been cancelled). Please try again."),
        ("oidc_code_rejected", "The identity provider did not accept the sign-in. Please try again."),
        ("oidc_token_invalid", "The identity provider's answer could not be verified, so you were not signed in. Tell your administrator if this keeps happening."),
        ("oidc_token_expired", "The identity provider's answer had already expired. Check this computer's clock, then try again."),
        ("oidc_nonce_mismatch", "The identity provider's answer did not belong to this sign-in. Please try again."),
        ("oidc_claim_missing", "The identity provider did not say who you are (a required claim is missing). Tell your administrator."),
        ("oidc_claim_invalid", "Your user name at the identity provider cannot be used in JITEA. Tell your administrator."),
        ("oidc_user_unknown", "You have no JITEA account yet. Ask an administrator to add you."),
        ("oidc_user_inactive", "Your JITEA account is deactivated. Ask an administrator if you need access again."),
        ("oidc_user_conflict", "Your identity matches a JITEA account that belongs to someone else. Ask an administrator to sort it out."),
        ("oidc_unavailable", "The identity provider could not be reached. Try again in a moment."),
    ];
    KNOWN
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(c, m)| (*m, Some(*c)))
        .unwrap_or(("Single sign-on did not complete. Please try again.", None))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/history".into())), "/history");
        assert_eq!(safe_next(Some("//evil.example/x".into())), "/");
        assert_eq!(safe_next(Some("https://evil.example".into())), "/");
        assert_eq!(safe_next(Some("/\\evil.example".into())), "/");
        assert_eq!(safe_next(Some("/login?next=/".into())), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn only_known_sso_error_codes_are_shown() {
        assert_eq!(
            super::sso_error_message("oidc_user_inactive").1,
            Some("oidc_user_inactive")
        );
        let (text, code) = super::sso_error_message("<script>alert(1)</script>");
        assert_eq!(code, None);
        assert!(!text.contains("script"));
    }
}
