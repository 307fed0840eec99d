//! `provision serve`: the service loop — listener (bound or systemd socket-activated),
//! sd_notify READY after the socket is bound, security headers, fallbacks in the common
//! error shape, and graceful shutdown on SIGTERM/SIGINT.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;

use super::error::ApiError;
use super::{AppState, SharedState};
use crate::auth::nonce::Nonces;
use crate::auth::token::BootstrapToken;
use crate::jobs::{ActivatorKind, JobRunner};

/// How long in-flight requests get to finish after SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Options of `provision serve`.
#[derive(Debug)]
pub struct ServeOptions {
    pub state_dir: PathBuf,
    pub listen: Option<SocketAddr>,
    pub activator: ActivatorKind,
    pub device_names: Vec<String>,
}

/// Where the service listens when neither `--listen` nor socket activation says.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";

/// The complete application: routes, fallbacks, headers, state.
pub fn app(state: SharedState) -> Router {
    super::routes()
        .into_router()
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state)
}

/// One structured log line per request: mutations at info, reads at debug (so the
/// default filter keeps the journal readable and the hot read paths cheap).
async fn log_request(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    if method == axum::http::Method::GET || method == axum::http::Method::HEAD {
        tracing::debug!(%method, path, status, elapsed_ms, "request");
    } else {
        tracing::info!(%method, path, status, elapsed_ms, "request");
    }
    response
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ));
    response
}

/// The names the device answers to (for the Host check): its host name, the default
/// gateway aliases, and any `--device-name`.
fn device_names(extra: &[String]) -> Vec<String> {
    let mut names: Vec<String> = extra.to_vec();
    if let Ok(hostname) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let hostname = hostname.trim();
        if !hostname.is_empty() {
            names.push(hostname.to_owned());
        }
    }
    names.extend(cairn_config::Dnsmasq::default().gateway_aliases);
    names.sort();
    names.dedup();
    names
}

/// The shared state of a service over `runner`. `shutdown` flips to `true` when the
/// service stops (event streams end).
pub fn state(
    runner: JobRunner,
    device_names: Vec<String>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> SharedState {
    Arc::new(AppState {
        runner,
        nonces: Nonces::default(),
        token: BootstrapToken::generate(),
        device_names,
        submit_gate: tokio::sync::Mutex::new(()),
        ui_jobs: Default::default(),
        shutdown,
        openapi_json: super::openapi::json(),
    })
}

/// Binds `--listen`, or takes the first socket systemd passed (LISTEN_FDS), or binds the default.
fn listener(listen: Option<SocketAddr>) -> Result<std::net::TcpListener> {
    let listener = match listen {
        Some(addr) => std::net::TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?,
        None => {
            let mut fds = listenfd::ListenFd::from_env();
            match fds.take_tcp_listener(0).context("taking the socket systemd passed (LISTEN_FDS)")? {
                Some(l) => {
                    tracing::info!("using the socket passed by systemd");
                    l
                }
                None => {
                    std::net::TcpListener::bind(DEFAULT_LISTEN).with_context(|| format!("binding {DEFAULT_LISTEN}"))?
                }
            }
        }
    };
    listener.set_nonblocking(true).context("making the listener non-blocking")?;
    Ok(listener)
}

/// Runs the service until SIGTERM/SIGINT.
pub async fn serve(options: ServeOptions) -> Result<()> {
    let runner = JobRunner::open(&options.state_dir, options.activator)
        .with_context(|| format!("opening the state directory {}", options.state_dir.display()))?;
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let state = state(runner, device_names(&options.device_names), shutdown_rx);
    let listener = tokio::net::TcpListener::from_std(listener(options.listen)?)?;
    let local = listener.local_addr()?;
    tracing::info!(address = %local, state_dir = %options.state_dir.display(), "listening");
    eprintln!("provision: listening on {local}");
    if let Err(e) = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]) {
        tracing::warn!(error = %e, "sd_notify READY=1 failed");
    }
    let router = app(state);
    let shutdown = async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
        let _ = shutdown_tx.send(true);
    };
    serve_connections(listener, router, shutdown).await;
    Ok(())
}

/// How long a client may take to send a request's headers (also how long an idle
/// keep-alive connection stays open): slow or stalled clients cannot hold sockets forever.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The accept loop: HTTP/1.1 connections with a header read timeout (axum::serve sets no
/// timer, so it has none), the peer address for per-IP nonce caps, and graceful shutdown:
/// when `shutdown` completes, stop accepting, let in-flight requests finish for up to
/// [`SHUTDOWN_GRACE`], then return.
pub async fn serve_connections(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use axum::extract::ConnectInfo;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt as _;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(move |mut request: axum::extract::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        });
        let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("in-flight requests did not finish within {SHUTDOWN_GRACE:?}; exiting");
        }
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
