//! A live countdown to a grant's end, driven by one app-wide clock.

use std::time::Duration;

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::format;

/// The current time, ticking once a second; one timer for the whole app however many
/// countdowns are on screen.
#[derive(Clone, Copy)]
pub struct Clock(pub RwSignal<DateTime<Utc>>);

pub fn provide_clock() -> Clock {
    let now = RwSignal::new(Utc::now());
    set_interval(move || now.set(Utc::now()), Duration::from_secs(1));
    let c = Clock(now);
    provide_context(c);
    c
}

pub fn use_clock() -> Clock {
    expect_context::<Clock>()
}

/// Time left until `until`. Turns to the warning colour in the last ten minutes.
/// `role="timer"` is not announced on every tick, which is what we want.
#[component]
pub fn Countdown(until: DateTime<Utc>) -> impl IntoView {
    let clock = use_clock();
    let left = move || (until - clock.0.get()).num_seconds();
    view! {
        <time
            class=move || if left() < 600 { "countdown countdown-soon" } else { "countdown" }
            data-testid="grant-countdown"
            datetime=format::iso(&until)
            title=format!("Ends {}", format::time(&until))
            role="timer"
        >
            {move || format::countdown(left())}
        </time>
    }
}

/// When a pending request expires if nobody decides it: local time and how far off.
#[component]
pub fn DecideBy(at: DateTime<Utc>) -> impl IntoView {
    let clock = use_clock();
    view! {
        <time datetime=format::iso(&at) data-testid="decide-by">
            {format!("{} (", format::time(&at))}
            {move || format::relative(&at, &clock.0.get())}
            ")"
        </time>
    }
}
