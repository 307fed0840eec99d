//! The HTTP API of API.md: axum routes, their OpenAPI 3.1 contract (utoipa), and the
//! service loop. Handlers are thin: they authorize, call the job runner or the store,
//! and map results to [`error::ApiError`] or a body from [`types`].

pub mod error;
pub mod openapi;
mod routes;
pub(crate) use routes::{Work, check_host as routes_check_host, extract_config, submit};
pub mod server;
pub mod types;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, on};

use crate::auth::nonce::Nonces;
use crate::auth::token::BootstrapToken;
use crate::jobs::{JobRunner, JobSnapshot};

/// Largest request body (a bundle's compressed size cap).
pub const BODY_LIMIT: usize = 32 * 1024 * 1024;
/// Deadline for one request, streaming routes excepted.
pub const REQUEST_TIMEOUT_SECS: u64 = 30;

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    pub runner: JobRunner,
    pub nonces: Nonces,
    pub token: BootstrapToken,
    /// Names the device answers to besides IP literals, `localhost` and `*.local`.
    pub device_names: Vec<String>,
    /// Serialises "decide who may submit" with "submit" (see `routes::submit`).
    pub submit_gate: tokio::sync::Mutex<()>,
    /// Boot UI jobs → the device URL to show when they succeed.
    pub ui_jobs: Mutex<HashMap<String, String>>,
    /// Flips to `true` on SIGTERM so event streams end and shutdown can complete.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// The OpenAPI document, rendered once.
    pub openapi_json: String,
}

impl AppState {
    /// The newest kept job (records survive restarts).
    pub fn last_job(&self) -> Option<JobSnapshot> {
        self.runner.jobs().into_iter().next()
    }
}

pub type SharedState = Arc<AppState>;

/// Whether a route belongs to the API contract or to the Boot UI (excluded from it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteKind {
    Api,
    Ui,
}

/// A router that records every route it registers, so a test can compare the real route
/// table with the OpenAPI document in both directions.
#[derive(Debug)]
pub struct RouteTable {
    router: Router<SharedState>,
    pub routes: Vec<(Method, &'static str, RouteKind)>,
}

impl RouteTable {
    pub fn new() -> Self {
        Self { router: Router::new(), routes: Vec::new() }
    }

    pub fn route<H, T>(mut self, kind: RouteKind, method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, SharedState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("routes use standard methods");
        self.router = self.router.route(path, on(filter, handler));
        self.routes.push((method, path, kind));
        self
    }

    /// Adds a layer to the routes registered so far only.
    pub fn layer_so_far(mut self, f: impl FnOnce(Router<SharedState>) -> Router<SharedState>) -> Self {
        self.router = f(self.router);
        self
    }

    pub fn merge(mut self, other: RouteTable) -> Self {
        self.router = self.router.merge(other.router);
        self.routes.extend(other.routes);
        self
    }

    pub fn into_router(self) -> Router<SharedState> {
        self.router
    }
}

impl Default for RouteTable {
    fn default() -> Self {
        Self::new()
    }
}

/// Every route of the service (API and Boot UI), with the table that lists them.
pub fn routes() -> RouteTable {
    routes::table().merge(crate::ui::table())
}
