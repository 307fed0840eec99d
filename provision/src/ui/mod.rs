//! The Boot UI: the first-boot page a person uses to give the device its config.
//!
//! Server-rendered HTML; the stylesheet and script are compiled into the binary
//! (`include_str!`), so it works on an isolated LAN. Every route is gone (404) once the
//! device is provisioned, sits behind the Host/Origin/Referer checks, and the form POST
//! needs the per-boot bootstrap token. Progress streams from the public job API (SSE).

mod render;

use axum::extract::multipart::Multipart;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::api::error::ApiError;
use crate::api::{BODY_LIMIT, RouteKind, RouteTable, SharedState};
use crate::jobs::{JobId, Source};

const STYLE: &str = include_str!("assets/style.css");
const SCRIPT: &str = include_str!("assets/app.js");

pub(crate) fn table() -> RouteTable {
    RouteTable::new()
        .route(RouteKind::Ui, Method::GET, "/", index)
        .route(RouteKind::Ui, Method::POST, "/ui/apply", apply)
        .route(RouteKind::Ui, Method::GET, "/ui/jobs/{id}", job)
        .route(RouteKind::Ui, Method::GET, "/ui/assets/style.css", style)
        .route(RouteKind::Ui, Method::GET, "/ui/assets/app.js", script)
        .layer_so_far(|r| r.route_layer(DefaultBodyLimit::max(BODY_LIMIT)))
}

/// 404 once provisioned, 403 for untrusted Host/Origin/Referer.
fn gate(state: &SharedState, headers: &HeaderMap) -> Result<(), ApiError> {
    if state.runner.store().status().provisioned {
        return Err(ApiError::NotFound("the device is provisioned; the setup page is closed".into()));
    }
    crate::api::routes_check_host(state, headers)
}

async fn index(State(state): State<SharedState>, headers: HeaderMap) -> Result<Html<String>, ApiError> {
    gate(&state, &headers)?;
    Ok(Html(render::form_page(state.token.as_str(), &render::FormPage::default())))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

async fn style(State(state): State<SharedState>, headers: HeaderMap) -> Result<Response, ApiError> {
    gate(&state, &headers)?;
    Ok(asset("text/css; charset=utf-8", STYLE))
}

async fn script(State(state): State<SharedState>, headers: HeaderMap) -> Result<Response, ApiError> {
    gate(&state, &headers)?;
    Ok(asset("text/javascript; charset=utf-8", SCRIPT))
}

/// The form fields of `POST /ui/apply`.
#[derive(Default)]
struct Form {
    token: String,
    action: String,
    pasted: String,
    file: Vec<u8>,
}

async fn read_form(mut multipart: Multipart) -> Result<Form, ApiError> {
    let mut form = Form::default();
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(format!("the upload is larger than {BODY_LIMIT} bytes"))
        } else {
            ApiError::BadRequest(format!("reading the form: {e}"))
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name().unwrap_or("") {
            "token" => form.token = field.text().await.map_err(bad)?,
            "action" => form.action = field.text().await.map_err(bad)?,
            "config" => form.pasted = field.text().await.map_err(bad)?,
            "file" => form.file = field.bytes().await.map_err(bad)?.to_vec(),
            _ => {}
        }
    }
    Ok(form)
}

fn page(status: StatusCode, html: String) -> Response {
    (status, Html(html)).into_response()
}

async fn apply(
    State(state): State<SharedState>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    gate(&state, &headers)?;
    let form = read_form(multipart).await?;
    if !state.token.matches(&form.token) {
        return Err(ApiError::Forbidden(crate::auth::host::HostError::BadToken));
    }
    let token = state.token.as_str();
    let (bytes, pasted) =
        if form.file.is_empty() { (form.pasted.clone().into_bytes(), true) } else { (form.file, false) };
    let prefill = if pasted { form.pasted.as_str() } else { "" };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        let p = render::FormPage {
            banner: Some(render::Banner::Bad("Paste a config.toml or choose a file first.".into())),
            ..Default::default()
        };
        return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, render::form_page(token, &p)));
    }
    let checked = {
        let bytes = bytes.clone();
        tokio::task::spawn_blocking(move || {
            crate::api::extract_config(&bytes).map(|toml| {
                let validated = cairn_config::validate(&toml);
                (toml, validated)
            })
        })
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("validating: {e}")))?
    };
    let (toml, validated) = match checked {
        Ok(v) => v,
        Err(e @ (ApiError::InvalidBundle(_) | ApiError::TooLarge(_))) => {
            let p = render::FormPage { prefill, banner: Some(render::Banner::Bad(e.to_string())), source: None };
            return Ok(page(e.status_and_code().0, render::form_page(token, &p)));
        }
        Err(e) => return Err(e),
    };
    let source = String::from_utf8_lossy(&toml).into_owned();
    let Some(config) = &validated.config else {
        let p = render::FormPage {
            prefill,
            banner: Some(render::Banner::Bad(format!(
                "The config has {} error(s); nothing was changed. Each problem is shown under its line.",
                validated.errors().count()
            ))),
            source: Some((&source, &validated.diagnostics)),
        };
        return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, render::form_page(token, &p)));
    };
    if form.action == "validate" {
        let p = render::FormPage {
            prefill,
            banner: Some(render::Banner::Ok(format!(
                "The config is valid ({} warning(s)). Nothing was changed.",
                validated.warnings().count()
            ))),
            source: Some((&source, &validated.diagnostics)),
        };
        return Ok(page(StatusCode::OK, render::form_page(token, &p)));
    }
    let device_url = render::device_url(config, headers.get(header::HOST).and_then(|h| h.to_str().ok()));
    let submitted = crate::api::submit(
        &state,
        |provisioned| if provisioned { Err(ApiError::NotFound("the device is provisioned".into())) } else { Ok(()) },
        crate::api::Work::Apply(bytes, Source::BootUi),
    )
    .await;
    match submitted {
        Ok(job) => {
            let mut jobs = state.ui_jobs.lock().unwrap_or_else(|e| e.into_inner());
            if jobs.len() >= 64 {
                // Only first-boot attempts land here; forgetting old ones only drops a link.
                jobs.clear();
            }
            jobs.insert(job.id.to_string(), device_url);
            Ok(Redirect::to(&format!("/ui/jobs/{}", job.id)).into_response())
        }
        Err(e @ (ApiError::Busy { .. } | ApiError::InvalidBundle(_) | ApiError::TooLarge(_))) => {
            let p = render::FormPage { prefill, banner: Some(render::Banner::Bad(e.to_string())), source: None };
            Ok(page(e.status_and_code().0, render::form_page(token, &p)))
        }
        Err(ApiError::InvalidConfig(diagnostics)) => {
            let p = render::FormPage {
                prefill,
                banner: Some(render::Banner::Bad("The config is invalid; nothing was changed.".into())),
                source: Some((&source, &diagnostics)),
            };
            Ok(page(StatusCode::UNPROCESSABLE_ENTITY, render::form_page(token, &p)))
        }
        Err(e) => Err(e),
    }
}

async fn job(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    gate(&state, &headers)?;
    let not_found = || ApiError::NotFound("no such job".into());
    let id: JobId = id.parse().map_err(|_| not_found())?;
    let job = state.runner.job(&id).ok_or_else(not_found)?;
    let url = state.ui_jobs.lock().unwrap_or_else(|e| e.into_inner()).get(&id.to_string()).cloned();
    Ok(Html(render::job_page(&job, url.as_deref())).into_response())
}
