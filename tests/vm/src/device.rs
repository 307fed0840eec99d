//! What the system suites ask of a provisioned appliance: submit a config through the
//! real client (`provision apply --url`), read jobs from the API, and look at units in
//! the guest — the system manager's and appsvc's user manager's.

use crate::qemu::Vm;
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The account running rootless units (its uid is fixed in image/configure-rootfs.sh).
pub const APPSVC_UID: u32 = 900;

/// Which manager runs a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    System,
    Appsvc,
}

impl Manager {
    pub fn of(privileged: bool) -> Self {
        if privileged { Manager::System } else { Manager::Appsvc }
    }

    /// `systemctl` with the right manager, as a shell command prefix.
    fn systemctl(self) -> String {
        match self {
            Manager::System => "systemctl".into(),
            Manager::Appsvc => format!(
                "runuser -u appsvc -- env XDG_RUNTIME_DIR=/run/user/{APPSVC_UID} \
                 DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/{APPSVC_UID}/bus systemctl --user"
            ),
        }
    }
}

/// A unit's state as systemd reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitState {
    pub load: String,
    pub active: String,
    pub main_pid: u32,
    pub restarts: u32,
}

pub fn unit(vm: &Vm, manager: Manager, service: &str) -> Result<UnitState> {
    let text =
        vm.ssh(&format!("{} show -p LoadState -p ActiveState -p MainPID -p NRestarts {service}", manager.systemctl()))?;
    let field = |key: &str| {
        text.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).map(str::to_owned).unwrap_or_default()
    };
    Ok(UnitState {
        load: field("LoadState"),
        active: field("ActiveState"),
        main_pid: field("MainPID").parse().unwrap_or(0),
        restarts: field("NRestarts").parse().unwrap_or(0),
    })
}

/// Waits until `check` holds for the unit, or fails with its last state.
pub fn wait_unit(
    vm: &Vm,
    manager: Manager,
    service: &str,
    timeout: Duration,
    check: impl Fn(&UnitState) -> bool,
) -> Result<UnitState> {
    let start = Instant::now();
    loop {
        let state = unit(vm, manager, service)?;
        if check(&state) {
            return Ok(state);
        }
        if start.elapsed() > timeout {
            bail!("{service} after {} s: {state:?}", timeout.as_secs());
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// `GET url` inside the guest (curl); returns the body.
pub fn fetch_in_guest(vm: &Vm, url: &str) -> Result<String> {
    vm.ssh(&format!("curl -sS --max-time 10 {url}"))
}

/// The host's `provision` client, pointed at the VM's forwarded API.
#[derive(Debug, Clone)]
pub struct Client {
    pub bin: PathBuf,
    pub url: String,
    pub key: PathBuf,
}

/// How a `provision apply` ended.
#[derive(Debug)]
pub struct Applied {
    pub job_id: String,
    pub succeeded: bool,
    pub output: String,
}

impl Client {
    pub fn new(bin_dir: &Path, vm: &Vm, key: &Path) -> Self {
        Self { bin: bin_dir.join("provision"), url: format!("http://127.0.0.1:{}", vm.api_port), key: key.to_owned() }
    }

    fn command(&self, bundle: &Path) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(["apply", "--url", &self.url, "--key"]).arg(&self.key).arg(bundle).stdin(Stdio::null());
        cmd
    }

    /// Submits `bundle` and follows the job to its end.
    pub fn apply(&self, bundle: &Path) -> Result<Applied> {
        let out = self.command(bundle).output().with_context(|| format!("running {}", self.bin.display()))?;
        let output = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let job_id = output
            .lines()
            .find_map(|l| l.trim().strip_prefix("submitted job "))
            .map(str::to_owned)
            .with_context(|| format!("no job was submitted: {output}"))?;
        Ok(Applied { job_id, succeeded: out.status.success(), output })
    }

    /// Starts `provision apply` without waiting for it (the power-cut suite cuts under it).
    pub fn spawn_apply(&self, bundle: &Path) -> Result<Child> {
        self.command(bundle)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("running {}", self.bin.display()))
    }
}

/// `GET /api/jobs/{id}` (the id is the capability; no signature needed).
pub fn job(vm: &Vm, id: &str) -> Result<Value> {
    let (status, body) = vm.http_get(&format!("/api/jobs/{id}"))?;
    if status != 200 {
        bail!("GET /api/jobs/{id}: {status} {body}");
    }
    serde_json::from_str(&body).with_context(|| format!("job {id} is not JSON: {body}"))
}

/// The message of a job's event for `step` with `status`, if any.
pub fn event<'a>(job: &'a Value, step: &str, status: &str) -> Option<&'a str> {
    job["events"]
        .as_array()?
        .iter()
        .find(|e| e["step"] == step && e["status"] == status)
        .and_then(|e| e["message"].as_str())
}

/// Milliseconds from the job's creation to its last event (`done`).
pub fn wall_ms(job: &Value) -> u64 {
    job["events"].as_array().and_then(|e| e.last()).and_then(|e| e["elapsed_ms"].as_u64()).unwrap_or(0)
}

/// Milliseconds a step took (its `succeeded` event minus its `started` event).
pub fn step_ms(job: &Value, step: &str) -> Option<u64> {
    let at = |status: &str| {
        job["events"].as_array()?.iter().find(|e| e["step"] == step && e["status"] == status)?["elapsed_ms"].as_u64()
    };
    Some(at("succeeded")?.saturating_sub(at("started")?))
}

/// The store as `provision generations --verify` sees it in the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    pub current: Option<u64>,
    pub previous: Option<u64>,
    pub kept: Vec<u64>,
    /// Every kept generation's files match their recorded hashes.
    pub verified: bool,
    pub damaged: Vec<String>,
}

pub fn store(vm: &Vm) -> Result<Store> {
    let out = vm.ssh_output("provision generations --state-dir /data/cairn --verify --format json")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(text.trim())
        .with_context(|| format!("provision generations: {text}{}", String::from_utf8_lossy(&out.stderr)))?;
    Ok(Store {
        current: v["status"]["current"]["id"].as_u64(),
        previous: v["status"]["previous"]["id"].as_u64(),
        kept: v["generations"].as_array().into_iter().flatten().filter_map(|g| g["id"].as_u64()).collect(),
        verified: out.status.success(),
        damaged: v["damaged"].as_array().into_iter().flatten().map(|d| d.to_string()).collect(),
    })
}
