//! kiosk: a config with `[kiosk]` enabled is applied through the API; the display
//! runs under cage on the appliance's screen, showing real RTSP cameras.
//!
//! The cameras are `tests/kiosk/rtsp_server.py` on the host (127.0.0.1, one solid
//! colour each). The guest reaches them on its LAN at `GUEST_FORWARD_ADDR:8554`
//! through a qemu `guestfwd` that runs `cairn-vm relay` per connection; nothing else on
//! the host is reachable (`restrict=on`). Checks: the apply job's health waits for
//! `cairn-kiosk.service`; a QMP screendump shows every camera's colour in its tile and
//! the html tile; the kiosk's local API reports every camera playing; killing the
//! kiosk process gets the display restarted by systemd, showing the layout again.

use crate::image::Image;
use crate::qemu::{self, Accel, Extras, GUEST_FORWARD_ADDR, LAN_HOST_ADDR, Vm, VmConfig};
use crate::report::Report;
use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The cameras' RTSP port as the guest sees it.
const CAMERA_PORT: u16 = 8554;
/// Each camera's colour (the RTSP server's `NAME=RRGGBB`), in its tile's grid cell.
const CAMERAS: &[(&str, [u8; 3], (u32, u32))] =
    &[("red", [255, 0, 0], (0, 0)), ("green", [0, 255, 0], (1, 0)), ("blue", [0, 0, 255], (0, 1))];
/// The html tile's colour and cell.
const HTML_TILE: ([u8; 3], (u32, u32)) = ([255, 255, 0], (1, 1));
/// Camera streams in the VM: small and slow, because the guest's CPU is emulated.
const STREAM_SIZE: &str = "320x180";
const STREAM_FPS: &str = "5";
/// From the POST to the job's end (its activation deadline is 300 s).
const JOB_TIMEOUT: Duration = Duration::from_secs(600);
/// From the unit being active to every tile painted.
const SCREEN_TIMEOUT: Duration = Duration::from_secs(120);
/// From the kill to the display being back (RestartSec=2, then start and READY=1).
const RESTART_TIMEOUT: Duration = Duration::from_secs(240);
const UNIT: &str = "cairn-kiosk.service";

/// The applied config: the kiosk, its cameras and one 2x2 layout.
fn config() -> String {
    let cameras: String = CAMERAS
        .iter()
        .map(|(name, _, _)| {
            format!("[cameras.{name}]\nmain = \"rtsp://{GUEST_FORWARD_ADDR}:{CAMERA_PORT}/{name}\"\nlatency_ms = 200\n")
        })
        .collect();
    let cells: String = CAMERAS
        .iter()
        .map(|(name, _, (col, row))| format!("[[layouts.grid.cells]]\ncamera = \"{name}\"\ncol = {col}\nrow = {row}\n"))
        .collect();
    let ([r, g, b], (col, row)) = HTML_TILE;
    format!(
        r#"# tests/vm kiosk suite: the display with three RTSP cameras and an html tile.
version = 1

[users.admin]
isAdmin = true
ssh_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINMeyLr+EOiFUGkNDE86YOpdLvmMSDdge2ci2auycMLj ed25519@fixture"

[activation]
required = ["kiosk"]
# A display that crashes soon after READY=1 must fail the apply, not pass by luck.
settle_seconds = 20

# The validator wants a container. No image is present in the test VM and pulling is
# off, so it fails fast, which a unit that is not required may.
[containers.container.idle]
privileged = true
[containers.container.idle.Container]
Image = "localhost/cairn-absent:1"
Pull = "never"

[kiosk]
enable = true
default_layout = "grid"
idle_revert_seconds = 0
local_api = "127.0.0.1:18090"

{cameras}
[layouts.grid]
columns = 2
rows = 2
{cells}[[layouts.grid.cells]]
html = "<body style='margin:0;background:#{r:02x}{g:02x}{b:02x}'></body>"
col = {col}
row = {row}
fit = "fill"
"#
    )
}

/// The host's RTSP server; killed on drop.
struct Cameras {
    child: Child,
    port: u16,
}

impl Cameras {
    fn start(root: &Path, run_dir: &Path) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = run_dir.join("rtsp.log");
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg(root.join("tests/kiosk/rtsp_server.py"))
            .args(["--size", STREAM_SIZE, "--fps", STREAM_FPS, &port.to_string()])
            .args(CAMERAS.iter().map(|(name, [r, g, b], _)| format!("{name}={r:02x}{g:02x}{b:02x}")))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(run_dir.join("rtsp.stderr"))?);
        let child = cmd.spawn().context("starting tests/kiosk/rtsp_server.py (Debian package python3-gi)")?;
        qemu::track(child.id());
        let mut cameras = Self { child, port };
        let start = Instant::now();
        loop {
            if std::fs::read_to_string(&log).unwrap_or_default().contains("rtsp server on") {
                return Ok(cameras);
            }
            if let Some(status) = cameras.child.try_wait()? {
                let err = std::fs::read_to_string(run_dir.join("rtsp.stderr")).unwrap_or_default();
                bail!("the RTSP server exited ({status}): {}", err.trim());
            }
            ensure!(start.elapsed() < Duration::from_secs(20), "the RTSP server did not start within 20 s");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Cameras {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        qemu::untrack(self.child.id());
    }
}

/// The RTSP server's host packages, checked the way it uses them.
fn host_prerequisites() -> Result<()> {
    ensure!(Path::new("/usr/bin/python3").is_file(), "/usr/bin/python3 is missing: install Debian package `python3`");
    let probe = r#"
import sys
try:
    import gi
    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import Gst, GstRtspServer
except (ImportError, ValueError) as e:
    sys.exit("python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-rtsp-server-1.0 (%s)" % e)
Gst.init(None)
packages = {"videotestsrc": "gstreamer1.0-plugins-base", "x264enc": "gstreamer1.0-plugins-ugly", "rtph264pay": "gstreamer1.0-plugins-good"}
missing = sorted({p for e, p in packages.items() if Gst.ElementFactory.find(e) is None})
if missing:
    sys.exit(" ".join(missing))
"#;
    let out = Command::new("/usr/bin/python3").args(["-c", probe]).output().context("running /usr/bin/python3")?;
    ensure!(
        out.status.success(),
        "the host's RTSP cameras need Debian packages: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(())
}

/// Runs the suite on its own VM (the cameras and the forward exist before qemu starts).
pub fn run(img: &Image, bins: &[PathBuf], accel: Accel, run_dir: PathBuf, r: &mut Report) -> Result<()> {
    let root = crate::workspace_root();
    if !bins.iter().any(|b| b.file_name().is_some_and(|n| n == "kiosk")) {
        r.fail(
            "kiosk binary in the image",
            "target/release/kiosk is missing: build it with `cargo build --release -p cairn-kiosk --features display`",
        );
        bail!("no kiosk binary");
    }
    if !r.check("host packages for the RTSP cameras", host_prerequisites()) {
        bail!("missing host packages");
    }
    std::fs::create_dir_all(&run_dir)?;
    let cameras = Cameras::start(&root, &run_dir);
    let Some(cameras) = r.check_value("RTSP cameras on 127.0.0.1 (tests/kiosk/rtsp_server.py)", cameras) else {
        bail!("no cameras");
    };
    let exe = std::env::current_exe()?;
    let exe = exe.to_str().filter(|p| !p.contains('\'')).context("cairn-vm's path cannot be quoted for qemu")?;
    let extras = Extras { guest_forwards: vec![(CAMERA_PORT, format!("'{exe}' relay 127.0.0.1:{}", cameras.port))] };
    let mut vm = Vm::start_with(
        VmConfig {
            base_disk: img.disk(),
            extra_disk_ro: None,
            ssh_key: img.ssh_key(),
            run_dir: run_dir.clone(),
            accel,
            api_port: None,
        },
        &extras,
    )?;
    let result = checks(&mut vm, &cameras, &run_dir, r);
    if let Ok(journal) = vm.ssh(&format!("journalctl -b -u {UNIT} --no-pager")) {
        let _ = std::fs::write(run_dir.join("kiosk-journal.txt"), journal);
    }
    eprintln!(
        "cairn-vm: serial log {}, kiosk journal and screenshots in {}",
        vm.serial_log().display(),
        run_dir.display()
    );
    vm.kill();
    drop(cameras);
    result
}

fn checks(vm: &mut Vm, cameras: &Cameras, run_dir: &Path, r: &mut Report) -> Result<()> {
    let boot_start = Instant::now();
    let boot = vm.wait_boot(None, super::BOOT_TIMEOUT);
    if !r.check("appliance boots and answers ssh", boot.map(|_| ())) {
        bail!("no boot");
    }
    let boot_s = boot_start.elapsed().as_secs();
    r.check(
        "kiosk runtime installed, no kiosk before the first apply",
        (|| {
            vm.ssh(
                "test -x /usr/bin/cairn-kiosk && test -x /usr/bin/cage && id cairn-kiosk && test -e /dev/dri/card0",
            )?;
            let load = vm.ssh(&format!("systemctl show -P LoadState {UNIT}"))?;
            ensure!(load.trim() == "not-found", "{UNIT} is {load:?} before any config was applied");
            Ok(())
        })(),
    );
    r.check(
        &format!("guest reaches the cameras at {GUEST_FORWARD_ADDR}:{CAMERA_PORT}, and not the host's own port"),
        (|| {
            let options = |url: &str| format!("curl -sS -m 10 -o /dev/null -w '%{{http_code}}' -X OPTIONS {url}");
            let code = vm.ssh(&options(&format!("rtsp://{GUEST_FORWARD_ADDR}:{CAMERA_PORT}/red")))?;
            ensure!(code.trim() == "200", "RTSP OPTIONS through the forward answered {code:?}");
            for host in ["10.0.2.2", LAN_HOST_ADDR] {
                let direct = vm.ssh_output(&options(&format!("rtsp://{host}:{}/red", cameras.port)))?;
                ensure!(!direct.status.success(), "the guest reached the host's 127.0.0.1-only port through {host}");
            }
            Ok(())
        })(),
    );

    let job = r.check_value("POST /api/config (first apply, tokenless) is accepted", submit(vm, &config()));
    let Some(job) = job else { bail!("no apply job") };
    let apply_start = Instant::now();
    let snapshot = wait_job(vm, &job);
    let apply_s = apply_start.elapsed().as_secs();
    let Some(snapshot) = r.check_value("the apply job ends", snapshot) else { bail!("job did not end") };
    std::fs::write(run_dir.join("job.json"), serde_json::to_string_pretty(&snapshot)?)?;
    let succeeded = r.check(
        "the apply job succeeded",
        (|| {
            ensure!(
                snapshot["state"] == "succeeded",
                "state {}, error {}; kiosk journal:\n{}",
                snapshot["state"],
                snapshot["error"],
                journal_tail(vm)
            );
            Ok(())
        })(),
    );
    r.check("the job's health step waited for the kiosk", health_includes_kiosk(&snapshot));
    if !succeeded {
        bail!("the kiosk config was not applied");
    }
    let first = r.check_value("cairn-kiosk.service runs cage with the kiosk as cairn-kiosk", display_processes(vm));
    let shot = run_dir.join("screen-applied.ppm");
    r.check("QMP screendump: each camera's colour in its tile, the html tile painted", wait_layout(vm, &shot));
    r.check("local API: key file 0600 on /data, every camera playing", local_api(vm));
    let figures = figures(vm);
    r.check(
        "the display stayed up since the apply (no restart)",
        (|| {
            let (restarts, pid) = display_processes(vm)?;
            let first_pid = first.map(|(_, pid)| pid);
            ensure!(
                restarts == 0 && first_pid == Some(pid),
                "NRestarts {restarts}, kiosk pid {pid} (was {first_pid:?})"
            );
            Ok(())
        })(),
    );

    let restart = (|| {
        let (before, kiosk_pid) = first.context("no kiosk process to kill")?;
        vm.ssh(&format!("kill -KILL {kiosk_pid}"))?;
        let killed = Instant::now();
        loop {
            let restarts: u32 = vm.ssh(&format!("systemctl show -P NRestarts {UNIT}"))?.trim().parse()?;
            if restarts > before
                && let Ok((_, pid)) = display_processes(vm)
            {
                ensure!(pid != kiosk_pid, "still the same kiosk process {pid}");
                return Ok(killed.elapsed());
            }
            if killed.elapsed() > RESTART_TIMEOUT {
                bail!(
                    "not active again {} s after the kill (NRestarts {restarts}); journal:\n{}",
                    RESTART_TIMEOUT.as_secs(),
                    journal_tail(vm)
                );
            }
            std::thread::sleep(Duration::from_secs(2));
        }
    })();
    let restart = r.check_value("kiosk process killed (SIGKILL): systemd restarts the display", restart);
    r.check(
        "QMP screendump after the restart shows the layout again",
        wait_layout(vm, &run_dir.join("screen-restarted.ppm")),
    );
    eprintln!("cairn-vm: kiosk figures (TCG guest, 2 vCPUs, shared host):");
    eprintln!("  boot to ssh {boot_s} s; apply job (POST to end) {apply_s} s");
    match figures {
        Ok(f) => eprintln!("  {f}"),
        Err(e) => eprintln!("  not measured: {e:#}"),
    }
    if let Some(d) = restart {
        eprintln!("  kill to active again (READY=1 after RestartSec=2): {:.0} s", d.as_secs_f64());
    }
    Ok(())
}

fn journal_tail(vm: &Vm) -> String {
    vm.ssh(&format!("journalctl -b -u {UNIT} --no-pager | tail -n 30")).unwrap_or_else(|e| format!("({e:#})"))
}

/// POST the config to the forwarded API; returns the job id.
fn submit(vm: &Vm, config: &str) -> Result<String> {
    let start = Instant::now();
    while !matches!(vm.http_get("/api/health"), Ok((200, _))) {
        ensure!(start.elapsed() < Duration::from_secs(120), "no 200 from /api/health within 120 s");
        std::thread::sleep(Duration::from_secs(2));
    }
    let mut s = TcpStream::connect(("127.0.0.1", vm.api_port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        s,
        "POST /api/config HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/toml\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{config}",
        vm.api_port,
        config.len()
    )?;
    let mut reply = String::new();
    s.read_to_string(&mut reply)?;
    let status = reply.split_whitespace().nth(1).unwrap_or("");
    let body = reply.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    ensure!(status == "202", "status {status}: {body}");
    let v: Value = serde_json::from_str(body).with_context(|| format!("reply {body:?}"))?;
    v["job_id"].as_str().map(str::to_owned).with_context(|| format!("no job_id in {body}"))
}

/// Polls `GET /api/jobs/{id}` (through the LAN forward) until the job ends.
fn wait_job(vm: &Vm, job: &str) -> Result<Value> {
    let start = Instant::now();
    let mut last = String::new();
    loop {
        let text = vm.http_get(&format!("/api/jobs/{job}")).map(|(_, body)| body);
        if let Ok(text) = &text
            && let Ok(v) = serde_json::from_str::<Value>(text)
        {
            if v["state"] == "succeeded" || v["state"] == "failed" {
                return Ok(v);
            }
            let step = v["step"].as_str().unwrap_or("").to_owned();
            if step != last {
                eprintln!("cairn-vm: job {job}: {step} ({:.0} s)", start.elapsed().as_secs_f64());
                last = step;
            }
        }
        ensure!(start.elapsed() < JOB_TIMEOUT, "job {job} not done after {} s (last: {text:?})", JOB_TIMEOUT.as_secs());
        std::thread::sleep(Duration::from_secs(3));
    }
}

/// The job's health step reported the kiosk unit active and then succeeded.
fn health_includes_kiosk(job: &Value) -> Result<()> {
    let events = job["events"].as_array().context("no events in the job")?;
    let health: Vec<&Value> = events.iter().filter(|e| e["step"] == "health").collect();
    let messages: Vec<String> =
        health.iter().map(|e| format!("{}: {}", e["status"], e["message"].as_str().unwrap_or(""))).collect();
    ensure!(
        health.iter().any(|e| e["message"].as_str().is_some_and(|m| m.contains(&format!("{UNIT}: active")))),
        "no health event says {UNIT} is active: {messages:?}"
    );
    ensure!(health.last().is_some_and(|e| e["status"] == "succeeded"), "health did not succeed: {messages:?}");
    eprintln!("cairn-vm: health events: {}", messages.join(" | "));
    Ok(())
}

/// (NRestarts, kiosk pid) once the unit is active with cage as its main process and
/// the kiosk as cage's child, running as cairn-kiosk.
fn display_processes(vm: &Vm) -> Result<(u32, u32)> {
    let show = vm.ssh(&format!("systemctl show -p ActiveState,SubState,MainPID,NRestarts {UNIT}"))?;
    let prop = |key: &str| {
        show.lines()
            .find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
            .with_context(|| format!("no {key} in {show:?}"))
    };
    let (active, sub, main_pid, restarts) =
        (prop("ActiveState")?, prop("SubState")?, prop("MainPID")?, prop("NRestarts")?);
    ensure!(active == "active" && sub == "running", "{UNIT} is {active}/{sub}\n{}", journal_tail(vm));
    let main = vm.ssh(&format!("cat /proc/{main_pid}/comm"))?;
    ensure!(main.trim() == "cage", "the main process {main_pid} is {main:?}, not cage");
    let kiosk = vm.ssh(&format!("ps -o pid=,user=,comm= --ppid {main_pid}"))?;
    let line = kiosk
        .lines()
        .find(|l| l.contains("cairn-kiosk"))
        .with_context(|| format!("no cairn-kiosk child of cage ({main_pid}): {kiosk:?}"))?;
    let mut words = line.split_whitespace();
    let pid: u32 = words.next().context("ps")?.parse()?;
    let user = vm.ssh(&format!("stat -c %U /proc/{pid}"))?;
    ensure!(user.trim() == "cairn-kiosk", "the kiosk runs as {user:?}");
    Ok((restarts.trim().parse()?, pid))
}

/// An RGB screenshot.
struct Shot {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Shot {
    /// Binary PPM (P6, maxval 255), what QMP's screendump writes.
    fn parse(bytes: &[u8]) -> Result<Self> {
        let mut fields = Vec::new();
        let mut i = 0;
        while fields.len() < 4 {
            while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            let start = i;
            while bytes.get(i).is_some_and(|b| !b.is_ascii_whitespace()) {
                i += 1;
            }
            ensure!(i > start, "truncated PPM header");
            fields.push(std::str::from_utf8(&bytes[start..i])?.to_owned());
        }
        ensure!(fields[0] == "P6" && fields[3] == "255", "not an 8-bit binary PPM: {fields:?}");
        let (width, height): (usize, usize) = (fields[1].parse()?, fields[2].parse()?);
        let rgb = bytes.get(i + 1..).context("no pixels")?.to_vec();
        ensure!(rgb.len() == width * height * 3, "{} bytes of pixels for {width}x{height}", rgb.len());
        Ok(Self { width, height, rgb })
    }

    fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let o = (y * self.width + x) * 3;
        [self.rgb[o], self.rgb[o + 1], self.rgb[o + 2]]
    }

    /// Where to sample a cell of a 2x2 grid: in its upper left quarter, away from the
    /// tile's centre (status text) and top-right corner (the M/S badge).
    fn sample_point(&self, (col, row): (u32, u32)) -> (usize, usize) {
        let (w, h) = (self.width / 2, self.height / 2);
        (col as usize * w + w / 4, row as usize * h + h / 3)
    }

    /// Every expected cell colour within 48 per channel; the error lists them all.
    fn check(&self, expected: &[(&str, [u8; 3], (u32, u32))]) -> Result<()> {
        let mut report = Vec::new();
        let mut ok = true;
        for (name, want, cell) in expected {
            let (x, y) = self.sample_point(*cell);
            let got = self.pixel(x, y);
            let near = got.iter().zip(want).all(|(g, w)| g.abs_diff(*w) <= 48);
            ok &= near;
            report.push(format!("{name} at ({x},{y}) is {got:?}, want {want:?}"));
        }
        ensure!(ok, "{}x{}: {}", self.width, self.height, report.join("; "));
        Ok(())
    }
}

/// Screendumps until every tile shows its colour or the timeout passes.
fn wait_layout(vm: &Vm, path: &Path) -> Result<()> {
    let mut expected: Vec<(&str, [u8; 3], (u32, u32))> = CAMERAS.to_vec();
    expected.push(("html", HTML_TILE.0, HTML_TILE.1));
    let start = Instant::now();
    loop {
        let _ = std::fs::remove_file(path);
        vm.qmp("screendump", serde_json::json!({"filename": path.to_string_lossy(), "format": "ppm"}))?;
        let shot = Shot::parse(&std::fs::read(path)?)?;
        match shot.check(&expected) {
            Ok(()) => {
                eprintln!(
                    "cairn-vm: layout on screen ({}x{}) after {:.0} s",
                    shot.width,
                    shot.height,
                    start.elapsed().as_secs_f64()
                );
                return Ok(());
            }
            Err(e) if start.elapsed() > SCREEN_TIMEOUT => {
                return Err(e.context(format!("screenshot {}", path.display())));
            }
            Err(_) => std::thread::sleep(Duration::from_secs(3)),
        }
    }
}

/// The kiosk's local API, from inside the guest with the device-generated key.
fn local_api(vm: &Vm) -> Result<()> {
    let key = vm.ssh("stat -c '%a %U' /data/cairn/kiosk/local.key")?;
    ensure!(key.trim() == "600 cairn-kiosk", "/data/cairn/kiosk/local.key is {key:?}");
    let start = Instant::now();
    loop {
        let info = vm.ssh(
            "curl -sS -m 10 -H \"Authorization: Bearer $(cat /data/cairn/kiosk/local.key)\" \
             http://127.0.0.1:18090/local/info",
        )?;
        let v: Value = serde_json::from_str(&info).with_context(|| format!("/local/info: {info:?}"))?;
        let pool = v["pool"].as_array().context("no pool in /local/info")?;
        let playing = |camera: &str| {
            pool.iter().any(|p| {
                p["key"].as_str().is_some_and(|k| k.starts_with(&format!("camera:{camera}:")))
                    && p["state"].as_str().is_some_and(|s| s.contains("playing"))
            })
        };
        if CAMERAS.iter().all(|(name, _, _)| playing(name)) {
            ensure!(v["current_layout"] == "grid", "current layout {}", v["current_layout"]);
            return Ok(());
        }
        ensure!(start.elapsed() < Duration::from_secs(60), "not every camera is playing: {pool:?}");
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// What the display costs in the VM: figures for the report, not assertions.
fn figures(vm: &Vm) -> Result<String> {
    let ts = |prop: &str| -> Result<u64> { Ok(vm.ssh(&format!("systemctl show -P {prop} {UNIT}"))?.trim().parse()?) };
    let start_to_ready = ts("ActiveEnterTimestampMonotonic")?.saturating_sub(ts("ExecMainStartTimestampMonotonic")?);
    let (c0, t0) = (ts("CPUUsageNSec")?, Instant::now());
    std::thread::sleep(Duration::from_secs(20));
    let (c1, t1) = (ts("CPUUsageNSec")?, Instant::now());
    let cpu_pct = (c1.saturating_sub(c0)) as f64 / 1e9 / (t1 - t0).as_secs_f64() * 100.0;
    let mem = ts("MemoryCurrent")?;
    Ok(format!(
        "unit start to READY=1 {:.1} s; cage + kiosk (+ WebKit) CPU {cpu_pct:.0} % of one vCPU with 3 cameras at \
         {STREAM_SIZE} {STREAM_FPS} fps; memory {} MiB",
        start_to_ready as f64 / 1e6,
        mem / (1 << 20)
    ))
}
