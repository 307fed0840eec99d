//! Handlers of the API routes and their OpenAPI operations (one `#[utoipa::path]` each).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Json, middleware};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::error::ApiError;
use super::types::*;
use super::{BODY_LIMIT, REQUEST_TIMEOUT_SECS, RouteKind, RouteTable, SharedState};
use crate::auth::{self, host, nonce, signature};
use crate::jobs::{JobEvent, JobId, JobSnapshot, Source, Submission, SubmitError};

/// The API routes. Everything but the event stream runs under the request timeout.
pub(super) fn table() -> RouteTable {
    let timed = RouteTable::new()
        .route(RouteKind::Api, Method::GET, "/api/health", health)
        .route(RouteKind::Api, Method::GET, "/api/status", status)
        .route(RouteKind::Api, Method::GET, "/api/nonce", get_nonce)
        .route(RouteKind::Api, Method::POST, "/api/config", apply_config)
        .route(RouteKind::Api, Method::GET, "/api/config", get_config)
        .route(RouteKind::Api, Method::POST, "/api/validate", validate_config)
        .route(RouteKind::Api, Method::GET, "/api/generations", list_generations)
        .route(RouteKind::Api, Method::POST, "/api/generations/{id}/activate", activate_generation)
        .route(RouteKind::Api, Method::GET, "/api/jobs/{id}", get_job)
        .route(RouteKind::Api, Method::GET, "/openapi.json", get_openapi)
        .layer_so_far(|r| r.route_layer(middleware::from_fn(timeout)).route_layer(DefaultBodyLimit::max(BODY_LIMIT)));
    let streaming = RouteTable::new().route(RouteKind::Api, Method::GET, "/api/jobs/{id}/events", stream_job_events);
    timed.merge(streaming)
}

async fn timeout(request: axum::extract::Request, next: middleware::Next) -> Response {
    match tokio::time::timeout(std::time::Duration::from_secs(REQUEST_TIMEOUT_SECS), next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout(REQUEST_TIMEOUT_SECS).into_response(),
    }
}

/// The parts of a request a signature covers.
pub(crate) struct Signed<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap_or(""))
}

/// Rejects `Cairn-Nonce`/`Cairn-Signature` values that cannot be what the contract says
/// (32 lowercase hex; base64), whether or not the route needs them right now.
pub(crate) fn check_signature_syntax(headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(nonce) = header_str(headers, auth::NONCE_HEADER) {
        if nonce.len() != 32 || !nonce.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(ApiError::BadRequest("Cairn-Nonce must be 32 lowercase hex characters".into()));
        }
    }
    if let Some(signature) = header_str(headers, auth::SIGNATURE_HEADER) {
        let body = signature.trim_end_matches('=');
        if body.is_empty()
            || signature.len() - body.len() > 2
            || !body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        {
            return Err(ApiError::BadRequest("Cairn-Signature must be base64 of an armored SSH signature".into()));
        }
    }
    Ok(())
}

/// Verifies the request's SSH signature against the current generation's admin keys and
/// consumes its nonce. Returns the admin's user name.
pub(crate) fn verify_signed(state: &SharedState, request: &Signed<'_>) -> Result<String, ApiError> {
    check_signature_syntax(request.headers)?;
    let nonce = header_str(request.headers, auth::NONCE_HEADER)
        .ok_or_else(|| ApiError::Unauthorized("this request must be signed: Cairn-Nonce header missing".into()))?;
    let signature_header = header_str(request.headers, auth::SIGNATURE_HEADER)
        .ok_or_else(|| ApiError::Unauthorized("this request must be signed: Cairn-Signature header missing".into()))?;
    let sig = signature::decode_header(signature_header).map_err(|e| ApiError::Unauthorized(e.to_string()))?;
    state.nonces.check(nonce).map_err(|e| ApiError::Unauthorized(e.to_string()))?;
    let admins = state.runner.store().admin_keys();
    let keys = signature::parse_keys(admins.iter().map(|a| a.public_key.as_str()));
    if keys.is_empty() {
        return Err(ApiError::Unauthorized("the device has no admin keys (it is not provisioned)".into()));
    }
    let message = signature::message(
        request.method.as_str(),
        request.uri.path(),
        request.uri.query().unwrap_or(""),
        nonce,
        request.body,
    );
    let index = signature::verify(&keys, &message, &sig).map_err(|e| {
        tracing::warn!(method = %request.method, path = request.uri.path(), reason = %e, "signature refused");
        ApiError::Unauthorized(e.to_string())
    })?;
    // Only now, with a signature over this exact request, may the nonce be spent.
    state.nonces.consume(nonce).map_err(|e| ApiError::Unauthorized(e.to_string()))?;
    let user = admins
        .iter()
        .find(|a| signature::parse_keys([a.public_key.as_str()]).first() == Some(&keys[index]))
        .map(|a| a.user.clone())
        .unwrap_or_default();
    tracing::info!(
        method = %request.method,
        path = request.uri.path(),
        user,
        key = %keys[index].fingerprint(ssh_key::HashAlg::Sha256),
        "signed request accepted"
    );
    Ok(user)
}

/// Host/Origin/Referer checks for unsigned first-boot requests.
pub(crate) fn check_host(state: &SharedState, headers: &HeaderMap) -> Result<(), ApiError> {
    let h = host::Headers {
        host: header_str(headers, header::HOST.as_str()),
        origin: header_str(headers, header::ORIGIN.as_str()),
        referer: header_str(headers, header::REFERER.as_str()),
        sec_fetch_site: header_str(headers, "sec-fetch-site"),
    };
    host::check(h, &state.device_names).map_err(ApiError::Forbidden)
}

/// Who may call a route that is open before the first apply and signed after it.
/// Unprovisioned: Host/Origin checks; provisioned: a valid admin signature.
pub(crate) fn authorize_first_boot_or_signed(
    state: &SharedState,
    request: &Signed<'_>,
    provisioned: bool,
) -> Result<(), ApiError> {
    check_signature_syntax(request.headers)?;
    if provisioned { verify_signed(state, request).map(drop) } else { check_host(state, request.headers) }
}

/// What a submission asks the runner to do.
pub(crate) enum Work {
    Apply(Vec<u8>, Source),
    Activate(u64),
}

/// Decides who may submit and submits, under one lock, so an unsigned first-boot request
/// cannot slip in after a concurrent first apply has made the device provisioned.
/// `authorize` gets whether the device is provisioned.
pub(crate) async fn submit(
    state: &SharedState,
    authorize: impl FnOnce(bool) -> Result<(), ApiError>,
    work: Work,
) -> Result<JobSnapshot, ApiError> {
    let _gate = state.submit_gate.lock().await;
    let provisioned = state.runner.store().status().provisioned;
    authorize(provisioned)?;
    // While a job runs, whether the device is provisioned is not decided yet, so nobody
    // is let through on the strength of "unprovisioned". The runner frees single-flight
    // only after the outcome is committed.
    if let Some(running) = state.runner.active() {
        return Err(ApiError::Busy { running: running.to_string() });
    }
    let runner = state.runner.clone();
    let result = tokio::task::spawn_blocking(move || match work {
        Work::Apply(bytes, source) => runner.submit_apply(Submission { bytes, source }),
        Work::Activate(generation) => runner.submit_activate(generation),
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("submitting the job: {e}")))?;
    result.map_err(submit_error)
}

pub(crate) fn submit_error(e: SubmitError) -> ApiError {
    match e {
        SubmitError::Busy { running } => ApiError::Busy { running: running.to_string() },
        SubmitError::Invalid { diagnostics } => ApiError::InvalidConfig(diagnostics),
        SubmitError::Bundle { message, too_large: true } => ApiError::TooLarge(message),
        SubmitError::Bundle { message, too_large: false } => ApiError::InvalidBundle(message),
        SubmitError::UnknownGeneration { id } => {
            ApiError::NotFound(format!("generation {id} is not kept on this device"))
        }
        SubmitError::Internal(e) => ApiError::Internal(e),
    }
}

/// Accepted body types of `POST /api/config` and `/api/validate` (parameters ignored).
pub(crate) const CONFIG_MEDIA_TYPES: [&str; 4] =
    ["application/toml", "application/octet-stream", "application/gzip", "application/zstd"];

fn check_media_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else { return Ok(()) };
    let value = value.to_str().unwrap_or("");
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if CONFIG_MEDIA_TYPES.contains(&essence.as_str()) || essence == "application/x-gzip" {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(value.to_owned()))
    }
}

pub(crate) fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(format!("the request body is larger than {BODY_LIMIT} bytes"))
        } else {
            ApiError::BadRequest(format!("reading the request body: {rejection}"))
        }
    })
}

fn accepted(job: &JobSnapshot) -> Response {
    let url = format!("/api/jobs/{}", job.id);
    let body = JobAccepted { job_id: job.id.to_string(), state: job.state, job_url: url.clone() };
    let mut response = (StatusCode::ACCEPTED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&url) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// Liveness: the service answers.
#[utoipa::path(get, path = "/api/health", operation_id = "get_health", tag = "service",
    responses((status = 200, description = "The service is up", body = Health)))]
async fn health() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// Whether the device is provisioned, its current and previous generation, the last job and versions.
/// Open before the first apply; signed after it.
#[utoipa::path(get, path = "/api/status", operation_id = "get_status", tag = "device",
    params(super::openapi::OptionalSignatureHeaders),
    responses(
        (status = 200, description = "Device status", body = StatusResponse),
        (status = 400, description = "Malformed signature headers", body = super::error::ErrorBody),
        (status = 401, description = "Provisioned and the request is not signed by a current admin", body = super::error::ErrorBody),
    ))]
async fn status(
    State(state): State<SharedState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<StatusResponse>, ApiError> {
    let body = body_bytes(body)?;
    check_signature_syntax(&headers)?;
    let status = state.runner.store().status();
    if status.provisioned {
        verify_signed(&state, &Signed { method: &method, uri: &uri, headers: &headers, body: &body })?;
    }
    Ok(Json(StatusResponse {
        provisioned: status.provisioned,
        current: status.current,
        previous: status.previous,
        last_job: state.last_job(),
        versions: Versions {
            provision: env!("CARGO_PKG_VERSION").into(),
            api: super::openapi::API_VERSION.into(),
            config: vec![1],
        },
    }))
}

/// A single-use nonce for signing one request; expires after `expires_in` seconds.
#[utoipa::path(get, path = "/api/nonce", operation_id = "get_nonce", tag = "auth",
    responses(
        (status = 200, description = "A fresh nonce", body = NonceResponse),
        (status = 429, description = "Too many outstanding nonces", body = super::error::ErrorBody),
    ))]
async fn get_nonce(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Json<NonceResponse>, ApiError> {
    let nonce = state.nonces.issue(peer.ip()).map_err(|nonce::Exhausted| ApiError::TooManyNonces)?;
    Ok(Json(NonceResponse { nonce, expires_in: nonce::TTL.as_secs() }))
}

/// Validates a config (or bundle) synchronously and queues an apply job.
/// Unsigned only while the device is unprovisioned (with Host/Origin checks); signed after.
#[utoipa::path(post, path = "/api/config", operation_id = "apply_config", tag = "config",
    params(super::openapi::OptionalSignatureHeaders),
    request_body(description = "config.toml, or a .tar.gz/.tar.zst bundle (detected by magic bytes)",
        content(
            (super::openapi::Binary = "application/toml"),
            (super::openapi::Binary = "application/octet-stream"),
            (super::openapi::Binary = "application/gzip"),
            (super::openapi::Binary = "application/zstd"),
        )),
    responses(
        (status = 202, description = "Queued; follow the job at `Location`", body = JobAccepted,
            headers(("Location" = String, description = "The job's URL"))),
        (status = 400, description = "Unreadable request", body = super::error::ErrorBody),
        (status = 401, description = "Provisioned and not signed by a current admin", body = super::error::ErrorBody),
        (status = 403, description = "Unprovisioned and the Host/Origin/Referer checks failed", body = super::error::ErrorBody),
        (status = 409, description = "Another job is running", body = super::error::ErrorBody),
        (status = 413, description = "Body over the size limit", body = super::error::ErrorBody),
        (status = 415, description = "Unsupported Content-Type", body = super::error::ErrorBody),
        (status = 422, description = "Invalid config (`details.diagnostics`) or bundle", body = super::error::ErrorBody),
    ))]
async fn apply_config(
    State(state): State<SharedState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_bytes(body)?;
    check_media_type(&headers)?;
    let signed = Signed { method: &method, uri: &uri, headers: &headers, body: &body };
    let job = submit(
        &state,
        |provisioned| authorize_first_boot_or_signed(&state, &signed, provisioned),
        Work::Apply(body.to_vec(), Source::Api),
    )
    .await?;
    Ok(accepted(&job))
}

/// The exact config.toml bytes of the current generation.
#[utoipa::path(get, path = "/api/config", operation_id = "get_config", tag = "config",
    params(super::openapi::SignatureHeaders),
    responses(
        (status = 200, description = "config.toml as the operator sent it", content_type = "application/toml", body = String),
        (status = 400, description = "Malformed signature headers", body = super::error::ErrorBody),
        (status = 401, description = "Not signed by a current admin", body = super::error::ErrorBody),
        (status = 404, description = "No current generation", body = super::error::ErrorBody),
    ))]
async fn get_config(
    State(state): State<SharedState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_bytes(body)?;
    verify_signed(&state, &Signed { method: &method, uri: &uri, headers: &headers, body: &body })?;
    let config =
        state.runner.store().current_config().ok_or_else(|| ApiError::NotFound("no current generation".into()))?;
    Ok(([(header::CONTENT_TYPE, "application/toml")], config).into_response())
}

/// Reads a submission as the runner will: a bundle (by magic bytes) or plain config.toml.
pub(crate) fn extract_config(body: &[u8]) -> Result<Vec<u8>, ApiError> {
    use cairn_config::bundle::{self, BundleError, BundleFormat};
    match BundleFormat::detect(body) {
        Some(format) => match bundle::read_bundle(format, body) {
            Ok(b) => Ok(b.config_toml),
            Err(
                e @ (BundleError::CompressedTooLarge
                | BundleError::UnpackedTooLarge
                | BundleError::MemberTooLarge { .. }),
            ) => Err(ApiError::TooLarge(e.to_string())),
            Err(e) => Err(ApiError::InvalidBundle(e.to_string())),
        },
        None => Ok(body.to_vec()),
    }
}

/// Validates a config (or bundle) without changing anything.
#[utoipa::path(post, path = "/api/validate", operation_id = "validate_config", tag = "config",
    params(super::openapi::OptionalSignatureHeaders),
    request_body(description = "config.toml, or a .tar.gz/.tar.zst bundle",
        content(
            (super::openapi::Binary = "application/toml"),
            (super::openapi::Binary = "application/octet-stream"),
            (super::openapi::Binary = "application/gzip"),
            (super::openapi::Binary = "application/zstd"),
        )),
    responses(
        (status = 200, description = "Valid (warnings may remain)", body = ValidateOk),
        (status = 400, description = "Unreadable request", body = super::error::ErrorBody),
        (status = 401, description = "Provisioned and not signed by a current admin", body = super::error::ErrorBody),
        (status = 403, description = "Unprovisioned and the Host/Origin/Referer checks failed", body = super::error::ErrorBody),
        (status = 413, description = "Body over the size limit", body = super::error::ErrorBody),
        (status = 415, description = "Unsupported Content-Type", body = super::error::ErrorBody),
        (status = 422, description = "Invalid: every problem found", body = ValidateFailed),
    ))]
async fn validate_config(
    State(state): State<SharedState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_bytes(body)?;
    check_media_type(&headers)?;
    let provisioned = state.runner.store().status().provisioned;
    authorize_first_boot_or_signed(
        &state,
        &Signed { method: &method, uri: &uri, headers: &headers, body: &body },
        provisioned,
    )?;
    let result = tokio::task::spawn_blocking(move || {
        let toml = extract_config(&body)?;
        Ok::<_, ApiError>(cairn_config::validate(&toml))
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("validating: {e}")))?;
    let validated = match result {
        Ok(v) => v,
        Err(e @ ApiError::InvalidBundle(_)) => {
            let error = e.body().error;
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(ValidateFailed { ok: false, diagnostics: vec![], error }),
            )
                .into_response());
        }
        Err(e) => return Err(e),
    };
    if validated.is_valid() {
        Ok(Json(ValidateOk { ok: true, warnings: validated.diagnostics }).into_response())
    } else {
        let error = ApiError::InvalidConfig(Vec::new()).body().error;
        let error = super::error::ErrorObject {
            message: ApiError::InvalidConfig(validated.errors().cloned().collect()).to_string(),
            ..error
        };
        Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(ValidateFailed { ok: false, diagnostics: validated.diagnostics, error }),
        )
            .into_response())
    }
}

/// Kept generations with ids, timestamps, config hashes and outcomes.
#[utoipa::path(get, path = "/api/generations", operation_id = "list_generations", tag = "generations",
    params(super::openapi::SignatureHeaders),
    responses(
        (status = 200, description = "Kept generations", body = GenerationList),
        (status = 400, description = "Malformed signature headers", body = super::error::ErrorBody),
        (status = 401, description = "Not signed by a current admin", body = super::error::ErrorBody),
    ))]
async fn list_generations(
    State(state): State<SharedState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<GenerationList>, ApiError> {
    let body = body_bytes(body)?;
    verify_signed(&state, &Signed { method: &method, uri: &uri, headers: &headers, body: &body })?;
    let store = state.runner.store();
    Ok(Json(GenerationList { current: store.status().current.map(|g| g.id), generations: store.generations() }))
}

/// Re-activates a kept generation (roll back or forward), as a job.
#[utoipa::path(post, path = "/api/generations/{id}/activate", operation_id = "activate_generation", tag = "generations",
    params(("id" = u64, Path, description = "Generation id"), super::openapi::SignatureHeaders),
    responses(
        (status = 202, description = "Queued; follow the job at `Location`", body = JobAccepted,
            headers(("Location" = String, description = "The job's URL"))),
        (status = 400, description = "The id is not a generation number, or malformed signature headers", body = super::error::ErrorBody),
        (status = 401, description = "Not signed by a current admin", body = super::error::ErrorBody),
        (status = 404, description = "No such kept generation", body = super::error::ErrorBody),
        (status = 409, description = "Another job is running", body = super::error::ErrorBody),
    ))]
async fn activate_generation(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_bytes(body)?;
    let generation: u64 = id.parse().map_err(|_| ApiError::BadRequest(format!("{id:?} is not a generation number")))?;
    let signed = Signed { method: &method, uri: &uri, headers: &headers, body: &body };
    let job = submit(&state, |_| verify_signed(&state, &signed).map(drop), Work::Activate(generation)).await?;
    Ok(accepted(&job))
}

fn job_id(id: &str) -> Result<JobId, ApiError> {
    id.parse().map_err(|_| ApiError::NotFound("no such job".into()))
}

/// A job: state, current step, events, warnings, error and rollback outcome.
/// The job id is a 128-bit capability; no signature is needed.
#[utoipa::path(get, path = "/api/jobs/{id}", operation_id = "get_job", tag = "jobs",
    params(("id" = String, Path, description = "Job id (32 hex characters)")),
    responses(
        (status = 200, description = "The job", body = JobSnapshot),
        (status = 404, description = "No such job", body = super::error::ErrorBody),
    ))]
async fn get_job(State(state): State<SharedState>, Path(id): Path<String>) -> Result<Json<JobSnapshot>, ApiError> {
    let id = job_id(&id)?;
    state.runner.job(&id).map(Json).ok_or_else(|| ApiError::NotFound("no such job".into()))
}

/// Server-Sent Events of a job: `event: step` with a JobEvent per step, then one
/// `event: done` whose data is the final job record. Supports `Last-Event-ID` (event `id` = seq).
#[utoipa::path(get, path = "/api/jobs/{id}/events", operation_id = "stream_job_events", tag = "jobs",
    params(("id" = String, Path, description = "Job id (32 hex characters)"),
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event seq")),
    responses(
        (status = 200, description = "`text/event-stream`: `step` events (data: JobEvent JSON), then `done` (data: the job JSON)",
            content_type = "text/event-stream", body = String),
        (status = 404, description = "No such job", body = super::error::ErrorBody),
    ))]
async fn stream_job_events(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let id = job_id(&id)?;
    let (past, receiver) = state.runner.subscribe(&id).ok_or_else(|| ApiError::NotFound("no such job".into()))?;
    let after: Option<u64> = header_str(&headers, "last-event-id").and_then(|v| v.trim().parse().ok());
    let stream =
        EventStream { state: state.clone(), id, pending: past.into(), receiver, last_seq: after, finished: false };
    Ok(Sse::new(futures_util::stream::unfold(stream, EventStream::next)).keep_alive(KeepAlive::default()))
}

struct EventStream {
    state: SharedState,
    id: JobId,
    pending: VecDeque<JobEvent>,
    receiver: tokio::sync::broadcast::Receiver<JobEvent>,
    last_seq: Option<u64>,
    finished: bool,
}

/// The step name of the runner's terminal event.
const DONE_STEP: &str = "done";

impl EventStream {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if self.finished {
                return None;
            }
            if let Some(event) = self.pending.pop_front() {
                if self.last_seq.is_some_and(|s| event.seq <= s) && event.step != DONE_STEP {
                    continue;
                }
                self.last_seq = Some(event.seq);
                if event.step == DONE_STEP {
                    self.finished = true;
                    let job = self.state.runner.job(&self.id);
                    let data = serde_json::to_string(&job).unwrap_or_else(|_| "null".into());
                    return Some((Ok(Event::default().event("done").id(event.seq.to_string()).data(data)), self));
                }
                let data = serde_json::to_string(&event).unwrap_or_else(|_| "null".into());
                return Some((Ok(Event::default().event("step").id(event.seq.to_string()).data(data)), self));
            }
            let mut shutdown = self.state.shutdown.clone();
            if *shutdown.borrow() {
                return None;
            }
            tokio::select! {
                received = self.receiver.recv() => match received {
                    Ok(event) => self.pending.push_back(event),
                    Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => {
                        // Catch up from the record: events we have not sent, in order.
                        let job = self.state.runner.job(&self.id)?;
                        let last = self.last_seq;
                        self.pending.extend(job.events.into_iter().filter(|e| last.is_none_or(|s| e.seq > s)));
                        if self.pending.is_empty() {
                            return None;
                        }
                    }
                },
                _ = shutdown.changed() => return None,
            }
        }
    }
}

/// This document: the OpenAPI 3.1 contract of the API.
#[utoipa::path(get, path = "/openapi.json", operation_id = "get_openapi", tag = "service",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
async fn get_openapi(State(state): State<SharedState>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], state.openapi_json.clone()).into_response()
}
