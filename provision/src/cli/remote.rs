//! The client side of the HTTP API for `provision apply/status/export/generations --url`:
//! plain HTTP with ureq, request signing exactly as API.md describes (key file or
//! ssh-agent), and Server-Sent Events reading.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use crate::auth::agent::Signer;
use crate::auth::{NONCE_HEADER, SIGNATURE_HEADER, signature};

/// Options shared by the remote commands.
#[derive(Debug, clap::Args)]
pub(crate) struct Target {
    /// The device's API, e.g. http://192.168.1.20:8080
    #[arg(long, env = "CAIRN_URL")]
    pub url: String,
    /// Private key file to sign with; a .pub file selects that key in ssh-agent.
    /// Without it the first ssh-agent key is used (SSH_AUTH_SOCK).
    #[arg(long, env = "CAIRN_KEY")]
    pub key: Option<PathBuf>,
}

/// A response: status, content type, body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.body).with_context(|| format!("the device answered {} with non-JSON", self.status))
    }

    /// The error message of the common error shape, or the raw body.
    pub fn error_message(&self) -> String {
        match self.json() {
            Ok(v) => match (v["error"]["code"].as_str(), v["error"]["message"].as_str()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                _ => v.to_string(),
            },
            Err(_) => String::from_utf8_lossy(&self.body).into_owned(),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Remote {
    base: String,
    agent: ureq::Agent,
    signer: Option<Signer>,
}

impl Remote {
    /// `require_signer`: fail now if there is no key (routes that are always signed);
    /// otherwise a missing key means unsigned requests (first boot).
    pub fn new(target: &Target, require_signer: bool) -> Result<Self> {
        let base = target.url.trim_end_matches('/').to_owned();
        if !base.starts_with("http://") && !base.starts_with("https://") {
            bail!("--url must start with http:// (got {base:?})");
        }
        let signer = match &target.key {
            Some(path) => Some(Signer::from_key_file(path)?),
            None => match Signer::from_agent() {
                Ok(s) => Some(s),
                Err(e) if require_signer => return Err(e.context("this request must be signed: pass --key FILE")),
                Err(_) => None,
            },
        };
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .build();
        Ok(Self { base, agent: config.into(), signer })
    }

    pub fn has_signer(&self) -> bool {
        self.signer.is_some()
    }

    fn nonce(&self) -> Result<String> {
        let reply = self.send("GET", "/api/nonce", None, &[])?;
        if reply.status != 200 {
            bail!("GET /api/nonce: {} {}", reply.status, reply.error_message());
        }
        reply.json()?["nonce"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("GET /api/nonce: no nonce in the answer"))
    }

    /// Sends a request, signed when a signer is configured.
    pub fn call(&self, method: &str, path_and_query: &str, body: Option<(&[u8], &str)>) -> Result<Reply> {
        let mut headers = Vec::new();
        if let Some(signer) = &self.signer {
            let nonce = self.nonce()?;
            let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
            let message = signature::message(method, path, query, &nonce, body.map(|b| b.0).unwrap_or(&[]));
            let sig = signer.sign(&message)?;
            headers.push((NONCE_HEADER, nonce));
            headers.push((SIGNATURE_HEADER, signature::encode_header(&sig)?));
        }
        self.send(method, path_and_query, body, &headers)
    }

    fn send(
        &self,
        method: &str,
        path_and_query: &str,
        body: Option<(&[u8], &str)>,
        headers: &[(&str, String)],
    ) -> Result<Reply> {
        let url = format!("{}{}", self.base, path_and_query);
        let context = || format!("{method} {url}");
        let mut response = match method {
            "GET" => {
                let mut request = self.agent.get(&url);
                for (k, v) in headers {
                    request = request.header(*k, v.as_str());
                }
                request.call()
            }
            "POST" => {
                let (bytes, content_type) = body.unwrap_or((&[], "application/octet-stream"));
                let mut request = self.agent.post(&url).header("content-type", content_type);
                for (k, v) in headers {
                    request = request.header(*k, v.as_str());
                }
                request.send(bytes)
            }
            other => bail!("unsupported method {other}"),
        }
        .with_context(context)?;
        let status = response.status().as_u16();
        let body = response.body_mut().with_config().limit(64 * 1024 * 1024).read_to_vec().with_context(context)?;
        Ok(Reply { status, body })
    }

    /// Follows `GET {job_url}/events`, calling `on_event(event_name, data)` per event
    /// until `done` (whose data is returned) or the stream ends.
    pub fn follow(&self, job_url: &str, mut on_event: impl FnMut(&str, &Value)) -> Result<Value> {
        let url = format!("{}{}/events", self.base, job_url);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .build()
            .into();
        let response =
            agent.get(&url).header("accept", "text/event-stream").call().with_context(|| format!("GET {url}"))?;
        if response.status() != 200 {
            bail!("GET {url}: {}", response.status());
        }
        let reader = BufReader::new(response.into_body().into_reader());
        let (mut event, mut data) = (String::new(), String::new());
        for line in reader.lines() {
            let line = line.with_context(|| format!("reading {url}"))?;
            if line.is_empty() {
                if !data.is_empty() {
                    let value: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
                    let name = if event.is_empty() { "message" } else { event.as_str() };
                    if name == "done" {
                        return Ok(value);
                    }
                    on_event(name, &value);
                }
                event.clear();
                data.clear();
            } else if let Some(v) = line.strip_prefix("event:") {
                event = v.trim_start().to_owned();
            } else if let Some(v) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(v.strip_prefix(' ').unwrap_or(v));
            }
        }
        // The stream ended without `done` (service restart): read the record instead.
        let reply = self.send("GET", job_url, None, &[])?;
        reply.json()
    }
}

/// The Content-Type of a submission, by magic bytes (the server detects the same way).
pub(crate) fn content_type(bytes: &[u8]) -> &'static str {
    match cairn_config::bundle::BundleFormat::detect(bytes) {
        Some(cairn_config::bundle::BundleFormat::TarGz) => "application/gzip",
        Some(cairn_config::bundle::BundleFormat::TarZst) => "application/zstd",
        None => "application/toml",
    }
}

pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    let limit = crate::api::BODY_LIMIT as u64;
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.len() > limit {
        bail!("{} is {} bytes; the device accepts at most {limit}", path.display(), meta.len());
    }
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// `provision generations --url`: the device's kept generations.
pub(crate) fn generations(target: &Target, json: bool) -> Result<()> {
    let remote = Remote::new(target, true)?;
    let reply = remote.call("GET", "/api/generations", None)?;
    if reply.status != 200 {
        bail!("GET /api/generations: {} {}", reply.status, reply.error_message());
    }
    let v = reply.json()?;
    if json {
        return emit(&format!("{}\n", serde_json::to_string_pretty(&v)?));
    }
    let mut out = String::new();
    let current = v["current"].as_u64();
    let _ = writeln!(out, "{:>4}  {:<25}  {:<12}  outcome", "id", "created", "sha256");
    for g in v["generations"].as_array().into_iter().flatten() {
        let id = g["id"].as_u64().unwrap_or_default();
        let mark = if Some(id) == current { "*" } else { " " };
        let sha = g["config_sha256"].as_str().unwrap_or("");
        let _ = writeln!(
            out,
            "{mark}{id:>3}  {:<25}  {:<12}  {}",
            g["created_at"].as_str().unwrap_or(""),
            &sha[..sha.len().min(12)],
            g["outcome"].as_str().unwrap_or("")
        );
    }
    emit(&out)
}

/// Writes command output to stdout; a closed pipe (`| head`) is not an error.
pub(crate) fn emit(text: &str) -> Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing stdout"),
    }
}
