//! The `jitea` command: `serve`, `migrate`, `openapi`, `expire`, `reconcile`,
//! `rotate-signing-key`, `directory-sync`, `notify`.

use std::path::PathBuf;
use std::process::ExitCode;

use actix_web::HttpServer;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use tokio::sync::watch;

use jitea::config::Config;
use jitea::{demo, http, jobs, setup};

#[derive(Parser)]
#[command(name = "jitea", version, about = "Just-in-time privileged access")]
struct Cli {
    /// Optional TOML configuration file (environment variables take precedence).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve the API (and, later, the web app).
    Serve {
        /// Seed a small demo organisation (if the database has no roles yet) and print its logins.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Retire the current token signing key and start signing with a new one (tokens signed
    /// with the old key stay valid until they expire).
    RotateSigningKey,
    /// Reconcile every enabled target once and print the run.
    Reconcile,
    /// Sync users and teams from the directory (JITEA_LDAP_*) once and print the run.
    DirectorySync {
        /// Show what would change without changing anything.
        #[arg(long)]
        dry_run: bool,
        /// Apply even when more users would be deactivated than
        /// JITEA_LDAP_MAX_DEACTIVATE_PERCENT allows.
        #[arg(long)]
        force: bool,
    },
    /// Fan out new events into notification deliveries and send every due one, once, then
    /// print what was done.
    Notify,
    /// Run the expiry job once and exit, as of now or of `--at`.
    Expire {
        /// Pretend it is this instant (RFC 3339), e.g. to expire grants in tests.
        #[arg(long)]
        at: Option<DateTime<Utc>>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        match serde_json::to_string_pretty(&http::openapi_document()) {
            Ok(s) => {
                println!("{s}");
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                eprintln!("jitea: cannot render the OpenAPI document: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let config = match Config::from_env(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("jitea: {e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&config.log_level))
        .with_target(false)
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("jitea: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        match cli.command {
            Command::Serve { demo } => serve(config, demo).await,
            Command::Migrate => {
                setup::open_store(&config).await?;
                println!("migrations applied");
                Ok(())
            }
            Command::RotateSigningKey => {
                let kid = setup::rotate_signing_key(&config).await?;
                println!("new signing key {kid}; tokens signed with older keys stay valid until they expire");
                Ok(())
            }
            Command::Expire { at } => {
                let state = setup::build_state(config).await?;
                let now = at.unwrap_or_else(|| state.now());
                let run = jobs::expiry::run_once(&state, &state.owner, now).await?;
                println!("{}", serde_json::to_string(&run)?);
                Ok(())
            }
            Command::Notify => {
                let state = setup::build_state(config).await?;
                let senders = jitea::notify::deliveries::Senders::new(&state);
                let pass = jitea::notify::deliveries::run_once(&state, &senders).await?;
                println!("{}", serde_json::to_string(&pass)?);
                Ok(())
            }
            Command::Reconcile => {
                let state = setup::build_state(config).await?;
                let run = jobs::reconcile::run_once(
                    &state,
                    "cli",
                    &jitea::store::audit::Actor::system("cli"),
                )
                .await?
                .ok_or_else(|| {
                    anyhow::anyhow!("a reconciliation pass is already running elsewhere")
                })?;
                println!("{}", serde_json::to_string(&run)?);
                Ok(())
            }
            Command::DirectorySync { dry_run, force } => {
                let cfg = config.ldap.clone().ok_or_else(|| {
                    anyhow::anyhow!("no directory is configured (JITEA_LDAP_URL)")
                })?;
                let state = setup::build_state(config).await?;
                let run = jobs::directory_sync::run_once(
                    &state,
                    &cfg,
                    "cli",
                    &jitea::store::audit::Actor::system("cli"),
                    jobs::directory_sync::Options { dry_run, force },
                )
                .await?
                .ok_or_else(|| anyhow::anyhow!("a directory sync is already running elsewhere"))?;
                println!("{}", serde_json::to_string(&run)?);
                if run.status == "succeeded" {
                    Ok(())
                } else {
                    Err(anyhow::anyhow!(
                        "directory sync {}: {}",
                        run.status,
                        run.message.unwrap_or_default()
                    ))
                }
            }
            Command::Openapi => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jitea: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let bind = config.bind;
    let state = setup::build_state(config).await?;
    if demo {
        let logins = demo::seed(&state.store, state.now()).await?;
        if logins.is_empty() {
            println!(
                "demo data already present (password for demo users: {})",
                demo::DEMO_PASSWORD
            );
        } else {
            println!(
                "demo organisation created; every demo login uses the password `{}`:",
                demo::DEMO_PASSWORD
            );
            for (login, what) in logins {
                println!("  {login:<8} {what}");
            }
        }
    }
    // Access that fell due while the service was down is removed before anything else.
    let caught_up = jobs::expiry::run_once(&state, &state.owner, state.now()).await?;
    if caught_up.processed > 0 || caught_up.failed > 0 {
        tracing::info!(
            ended = caught_up.processed,
            failed = caught_up.failed,
            "caught up on grants that fell due while stopped"
        );
    }
    // Events that arrived while stopped become notification deliveries before the outbox
    // pruner (which keeps rows not yet fanned out) first runs.
    if let Err(e) = jitea::notify::fanout::run_once(&state).await {
        tracing::warn!(error = %e, "notifications: the start-up fan-out failed");
    }
    // Then memberships are checked against the records once, in the background.
    let startup_state = state.clone();
    tokio::spawn(async move {
        let actor = jitea::store::audit::Actor::system("reconcile");
        // Unless another process is reconciling right now.
        if let Err(e) = jobs::reconcile::run_if_due(&startup_state, "startup", &actor, None).await {
            tracing::warn!(error = %e, "start-up reconciliation failed");
        }
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let expiry = tokio::spawn(jobs::expiry::run(
        state.clone(),
        state.owner.clone(),
        stop_rx.clone(),
    ));
    let reconcile = tokio::spawn(jobs::reconcile::run(state.clone(), stop_rx.clone()));
    let outbox_prune = tokio::spawn(jobs::outbox_prune::run(state.clone(), stop_rx.clone()));
    let directory_sync = tokio::spawn(jobs::directory_sync::run(state.clone(), stop_rx.clone()));
    let notify = tokio::spawn(jitea::notify::deliveries::run(
        state.clone(),
        stop_rx.clone(),
    ));
    let live = tokio::spawn(jitea::notify::live::run(state.clone(), stop_rx));
    let app_state = state.clone();
    let assets = http::web::WebAssets::load(&app_state.config.web_dir);
    match &assets.dir {
        Some(d) => tracing::info!(dir = %d.display(), "serving the web app"),
        None => {
            tracing::warn!(dir = %app_state.config.web_dir.display(), "the web app is not built; serving the API only")
        }
    }
    let server = HttpServer::new(move || http::build_app(app_state.clone(), assets.clone()))
        .bind(bind)
        .map_err(|e| {
            anyhow::anyhow!("configuration error: JITEA_BIND: cannot listen on {bind}: {e}")
        })?
        .shutdown_timeout(10);
    // The address actually bound (with port 0 the system picks one; the test harness reads
    // this line to learn it, so no two test servers can ever share a port).
    let bound = server.addrs().first().copied().unwrap_or(bind);
    let server = server.run();
    println!("JITEA listening on http://{bound} (API /api/v1, docs /swagger-ui/)");
    server.await?;
    let _ = stop_tx.send(true);
    let _ = expiry.await;
    let _ = reconcile.await;
    let _ = outbox_prune.await;
    let _ = directory_sync.await;
    let _ = notify.await;
    let _ = live.await;
    state.store.close().await;
    Ok(())
}
