//! Sign-in with a built-in account. The server answers with the user and a CSRF token and
//! sets the HttpOnly session cookie; nothing is written to browser storage.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

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

    view! {
        <section class="auth-wrap">
            <div class="card auth-card">
                <h1>"Sign in"</h1>
                <p class="muted">"Just-in-time access to databases, granted for as long as you need it."</p>
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
                <SsoOptions/>
            </div>
        </section>
    }
}

/// Room for single sign-on. When the API learns to advertise identity providers, their
/// buttons go here (each a plain link to the provider's start URL, so it works under CSP);
/// until then it renders nothing rather than a button that cannot work.
#[component]
fn SsoOptions() -> impl IntoView {
    let providers: Vec<(String, String)> = Vec::new();
    (!providers.is_empty()).then(|| {
        view! {
            <div class="sso" data-testid="sso-options">
                <p class="divider"><span>"or"</span></p>
                {providers
                    .into_iter()
                    .map(|(label, href)| view! { <a class="btn btn-secondary btn-block" href=href>{label}</a> })
                    .collect_view()}
            </div>
        }
    })
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
}
