//! `portcullis`: applies migrations, then serves the Better Auth API.

use std::{
    net::{Shutdown, TcpListener},
    path::PathBuf,
    process::ExitCode,
    time::Duration,
};

use actix_web::dev::ServerHandle;
use clap::Parser;
use portcullis_server::{
    AppState, Config,
    config::{DEV_SECRET, SETTINGS},
};
use tokio::signal::unix::{Signal, SignalKind, signal};

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
    let signals = [
        signal(SignalKind::terminate())?,
        signal(SignalKind::interrupt())?,
    ];
    let accepting = listener.try_clone()?;
    let server = portcullis_server::serve(listener, AppState::new(config, db))?;
    actix_web::rt::spawn(shut_down_on_signal(signals, accepting, server.handle()));
    server.await?;
    tracing::info!("stopped accepting and finished in-flight requests; closing the database pool");
    conn.close().await?;
    Ok(())
}

/// How long connections accepted before a shutdown signal get to deliver their request. Actix's
/// graceful stop closes at once every connection that has no request in progress, including one
/// accepted a moment ago whose request is still on its way — that request would be lost (a load
/// balancer cannot retry a POST it has sent).
const ACCEPTED_GRACE: Duration = Duration::from_millis(500);
/// How long actix's accept loop gets to take the connections the kernel had already queued.
const QUEUE_DRAIN: Duration = Duration::from_millis(5);

/// On SIGTERM or SIGINT, stops without losing a request a client has sent:
/// 1. a socket filter that drops every packet lets no new connection into the kernel's queue (a
///    client retransmits its SYN a second later, and is refused by then), while actix's accept
///    loop takes what is queued — closing a listening socket resets the connections it queues;
/// 2. the accept loop is paused, then the socket stops listening: new connections are refused,
///    so a load balancer takes them elsewhere (nothing was sent);
/// 3. accepted connections get the rest of [`ACCEPTED_GRACE`] to deliver their request;
/// 4. actix's graceful stop finishes the requests in progress (up to 10 s) and closes idle
///    connections, and `server` resolves.
///
/// Steps 1–3 need Linux; elsewhere the graceful stop starts at once.
async fn shut_down_on_signal(signals: [Signal; 2], listener: TcpListener, server: ServerHandle) {
    let [mut term, mut int] = signals;
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!("{name} received: refusing new connections, finishing accepted requests");
    if let Err(e) = stop_listening(&listener, &server).await {
        tracing::warn!("could not stop listening ahead of the graceful stop: {e}");
    }
    server.stop(true).await;
}

/// Steps 1–3 of [`shut_down_on_signal`]. `listener` is a clone of actix's socket.
#[cfg(target_os = "linux")]
async fn stop_listening(listener: &TcpListener, server: &ServerHandle) -> std::io::Result<()> {
    use socket2::{SockFilter, SockRef};
    // Classic BPF `ret #0`: keep no byte of any packet.
    const DROP_ALL: SockFilter = SockFilter::new(0x06, 0, 0, 0);
    let socket = SockRef::from(listener);
    socket.attach_filter(&[DROP_ALL])?;
    tokio::time::sleep(QUEUE_DRAIN).await;
    // Paused first, the accept loop does not report the socket that stops listening as an error.
    server.pause().await;
    tokio::time::sleep(QUEUE_DRAIN).await;
    socket.shutdown(Shutdown::Read)?;
    tokio::time::sleep(ACCEPTED_GRACE.saturating_sub(QUEUE_DRAIN * 2)).await;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
async fn stop_listening(_: &TcpListener, _: &ServerHandle) -> std::io::Result<()> {
    Ok(())
}
