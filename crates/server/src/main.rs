//! `portcullis`: applies migrations, then serves the Better Auth API.

use std::{net::TcpListener, path::PathBuf, process::ExitCode};

use clap::Parser;
use portcullis_server::{
    AppState, Config,
    config::{DEV_SECRET, SETTINGS},
};

#[derive(Parser)]
#[command(
    name = "portcullis",
    version,
    about = "A drop-in Better Auth backend",
    after_help = settings_help()
)]
struct Args {
    /// Optional TOML file with any of the settings below (env vars win over it).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

fn settings_help() -> String {
    let mut s = String::from("Settings (environment variable / TOML key — default — meaning):\n");
    for (env, key, default, meaning) in SETTINGS {
        s.push_str(&format!("  {env} / {key} — {default}\n      {meaning}\n"));
    }
    s
}

#[actix_web::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = match Config::from_env(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("portcullis: {e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&config.log))
        .init();
    if config.dev {
        tracing::warn!(
            "PORTCULLIS_DEV=1: development mode{} — never run this in production",
            if config.secret == DEV_SECRET {
                ", using the fixed development secret"
            } else {
                ""
            }
        );
    }
    let rl = &config.rate_limit;
    if rl.enabled {
        tracing::info!(
            "rate limiting on ({:?} storage, default {} per {} s)",
            rl.storage,
            rl.max,
            rl.window
        );
    } else {
        tracing::info!("rate limiting off");
    }
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let db = portcullis_server::connect(&config).await?;
    let listener = TcpListener::bind(&config.listen)?;
    tracing::info!(
        "listening on http://{}{}",
        listener.local_addr()?,
        config.base_path
    );
    let conn = db.conn.clone();
    // SIGTERM/SIGINT: actix stops accepting, lets in-flight requests finish (up to 10 s), then
    // `server` resolves and the pool is closed.
    let server = portcullis_server::serve(listener, AppState::new(config, db))?;
    server.await?;
    tracing::info!("stopped accepting and finished in-flight requests; closing the database pool");
    conn.close().await?;
    Ok(())
}
