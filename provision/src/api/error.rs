//! The one error type of the HTTP API and its one mapping to status codes.
//!
//! Every error answers `{"error": {"code", "message", "details"}}`. The `match` in
//! [`IntoResponse for ApiError`] has no wildcard arm: a new variant does not compile
//! until someone decides its status code.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::auth::host::HostError;

/// The error body of every route.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": {"code": "unauthorized", "message": "the nonce is unknown, already used or expired", "details": null}}))]
pub struct ErrorBody {
    pub error: ErrorObject,
}

/// What went wrong: a stable machine `code`, a human `message`, and optional structured
/// `details` (diagnostics for `invalid_config`, the running job for `busy`, …).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorObject {
    /// Stable identifier: bad_request, unauthorized, forbidden, not_found, method_not_allowed,
    /// busy, too_large, unsupported_media_type, invalid_config, invalid_bundle,
    /// too_many_nonces, timeout, internal.
    pub code: String,
    pub message: String,
    /// Structured context; `null` when there is none.
    pub details: Value,
}

/// Everything a route can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(#[from] HostError),
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("another job is running ({running}); retry when it has finished")]
    Busy { running: String },
    /// The body (or a bundle's contents) is over a size limit; the message says which.
    #[error("{0}")]
    TooLarge(String),
    #[error(
        "unsupported Content-Type {0:?}; send application/toml, application/octet-stream, application/gzip or application/zstd"
    )]
    UnsupportedMediaType(String),
    #[error("the config is invalid ({} problem{})", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    InvalidConfig(Vec<cairn_config::Diagnostic>),
    #[error("{0}")]
    InvalidBundle(String),
    #[error("too many outstanding nonces; retry in a few seconds")]
    TooManyNonces,
    #[error("the request took longer than {0} seconds")]
    Timeout(u64),
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

impl ApiError {
    /// The status and code of this error — the single mapping, no wildcard.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Busy { .. } => (StatusCode::CONFLICT, "busy"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            ApiError::InvalidConfig(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_config"),
            ApiError::InvalidBundle(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_bundle"),
            ApiError::TooManyNonces => (StatusCode::TOO_MANY_REQUESTS, "too_many_nonces"),
            ApiError::Timeout(_) => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    fn details(&self) -> Value {
        match self {
            ApiError::Busy { running } => json!({ "running_job": running }),
            ApiError::InvalidConfig(diagnostics) => json!({ "diagnostics": diagnostics }),
            ApiError::Forbidden(reason) => json!({ "reason": reason.to_string() }),
            ApiError::BadRequest(_)
            | ApiError::Unauthorized(_)
            | ApiError::TooLarge(_)
            | ApiError::NotFound(_)
            | ApiError::MethodNotAllowed
            | ApiError::UnsupportedMediaType(_)
            | ApiError::InvalidBundle(_)
            | ApiError::TooManyNonces
            | ApiError::Timeout(_)
            | ApiError::Internal(_) => Value::Null,
        }
    }

    /// The JSON body (also used by the Boot UI to show the same message).
    pub fn body(&self) -> ErrorBody {
        let (_, code) = self.status_and_code();
        let message = match self {
            // Do not leak internals to clients; the log has the chain.
            ApiError::Internal(_) => "internal error; see the service log".to_owned(),
            other => other.to_string(),
        };
        ErrorBody { error: ErrorObject { code: code.to_owned(), message, details: self.details() } }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, _) = self.status_and_code();
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = format!("{e:#}"), "request failed");
        }
        let mut response = (status, axum::Json(self.body())).into_response();
        match &self {
            ApiError::Busy { .. } | ApiError::TooManyNonces | ApiError::Timeout(_) => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            ApiError::Unauthorized(_) => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Cairn-Signature realm=\"cairn\""));
            }
            ApiError::BadRequest(_)
            | ApiError::Forbidden(_)
            | ApiError::NotFound(_)
            | ApiError::MethodNotAllowed
            | ApiError::TooLarge(_)
            | ApiError::UnsupportedMediaType(_)
            | ApiError::InvalidConfig(_)
            | ApiError::InvalidBundle(_)
            | ApiError::Internal(_) => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_shape() {
        let e = ApiError::Busy { running: "ab".into() };
        let v = serde_json::to_value(e.body()).unwrap();
        assert_eq!(v, json!({"error": {"code": "busy", "message": e.to_string(), "details": {"running_job": "ab"}}}));
        let e = ApiError::Internal(anyhow::anyhow!("secret path /data/x"));
        assert!(!serde_json::to_string(&e.body()).unwrap().contains("secret"));
    }
}
