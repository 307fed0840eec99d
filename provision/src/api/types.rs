//! Request and response bodies of the HTTP API (the schemas of the OpenAPI document).
//! Job and generation records are the pipeline's own types, serialized as they are.

use serde::Serialize;
use utoipa::ToSchema;

use crate::api::error::ErrorObject;
use crate::jobs::JobSnapshot;
use crate::store::GenerationInfo;

/// `GET /api/health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the service answers.
    #[schema(example = "ok")]
    pub status: String,
}

/// `GET /api/nonce`: a single-use nonce for one signed request.
#[derive(Debug, Serialize, ToSchema)]
pub struct NonceResponse {
    /// 128 random bits, lowercase hex.
    #[schema(example = "9f2c4e0b7a1d3c5e6f708192a3b4c5d6")]
    pub nonce: String,
    /// Seconds until the nonce expires.
    #[schema(example = 300)]
    pub expires_in: u64,
}

/// `202 Accepted` for a queued job.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobAccepted {
    /// The job's id: 128 random bits, hex. It is a capability: whoever knows it may watch the job.
    pub job_id: String,
    /// `queued` or `running`.
    #[schema(value_type = String, example = "queued")]
    pub state: crate::jobs::JobState,
    /// Where to follow the job (also in the `Location` header).
    pub job_url: String,
}

/// One validation problem, located by key path and line/column in config.toml.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiagnosticSchema {
    /// `error` or `warning`.
    #[schema(example = "error")]
    pub severity: String,
    /// Dotted key path; empty for the document.
    #[schema(example = "containers.container.web.Container.Image")]
    pub path: String,
    /// 1-based line.
    pub line: u64,
    /// 1-based column, in characters.
    pub col: u64,
    pub message: String,
    /// A one-line suggestion of how to fix it.
    pub hint: Option<String>,
}

/// `200` of `POST /api/validate`: the config is valid (it may still have warnings).
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidateOk {
    /// Always `true`.
    pub ok: bool,
    #[schema(value_type = Vec<DiagnosticSchema>)]
    pub warnings: Vec<cairn_config::Diagnostic>,
}

/// `422` of `POST /api/validate`: every problem found, plus the common error object.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidateFailed {
    /// Always `false`.
    pub ok: bool,
    #[schema(value_type = Vec<DiagnosticSchema>)]
    pub diagnostics: Vec<cairn_config::Diagnostic>,
    pub error: ErrorObject,
}

/// Versions of the running service.
#[derive(Debug, Serialize, ToSchema)]
pub struct Versions {
    /// The `provision` binary.
    pub provision: String,
    /// The HTTP API contract (this document's `info.version`).
    pub api: String,
    /// config.toml versions understood.
    pub config: Vec<u32>,
}

/// `GET /api/status`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusResponse {
    /// Whether a generation has been committed by a successful apply.
    pub provisioned: bool,
    pub current: Option<GenerationInfo>,
    pub previous: Option<GenerationInfo>,
    /// The newest job kept on the device (job records survive restarts).
    pub last_job: Option<JobSnapshot>,
    pub versions: Versions,
}

/// `GET /api/generations`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GenerationList {
    /// Id of the current generation, if any.
    pub current: Option<u64>,
    /// Kept generations, oldest first.
    pub generations: Vec<GenerationInfo>,
}
