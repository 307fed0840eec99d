//! One qemu process running the appliance: ports, serial log, QMP, ssh, cleanup.
//!
//! qemu is killed when the [`Vm`] is dropped (normal return, error, panic) and by
//! the signal handler installed with [`install_signal_cleanup`] (SIGINT, SIGTERM,
//! SIGHUP), so no qemu outlives the harness.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// PIDs of live qemu processes, for the signal handler.
static LIVE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn kill_pid(pid: u32) {
    let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
}

/// Have the signal handler also kill this helper process (a host-side peer of a suite,
/// such as the kiosk suite's RTSP server); [`untrack`] it once it is gone.
pub fn track(pid: u32) {
    if let Ok(mut live) = LIVE.lock() {
        live.push(pid);
    }
}

pub fn untrack(pid: u32) {
    if let Ok(mut live) = LIVE.lock() {
        live.retain(|p| *p != pid);
    }
}

/// Kill every live qemu and exit when the harness is interrupted.
pub fn install_signal_cleanup() -> Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            let pids = LIVE.lock().map(|v| v.clone()).unwrap_or_default();
            for pid in pids {
                kill_pid(pid);
            }
            eprintln!("cairn-vm: signal {sig}: killed qemu, exiting");
            std::process::exit(128 + sig);
        }
    });
    Ok(())
}

/// Which accelerator qemu uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    Tcg,
    Kvm,
}

impl Accel {
    fn args(self) -> &'static [&'static str] {
        match self {
            Accel::Tcg => &["-accel", "tcg,thread=multi", "-cpu", "max"],
            Accel::Kvm => &["-accel", "kvm", "-cpu", "host"],
        }
    }
}

/// Two distinct free TCP ports on 127.0.0.1 (both listeners are held until both are
/// known, then closed for qemu to bind).
fn free_ports() -> Result<(u16, u16)> {
    let a = TcpListener::bind("127.0.0.1:0")?;
    let b = TcpListener::bind("127.0.0.1:0")?;
    Ok((a.local_addr()?.port(), b.local_addr()?.port()))
}

/// The LAN segment qemu emulates on eth1: the appliance's default LAN gateway address
/// (CONFIG.md's `gateway_cidr` default) and qemu's own address on that segment.
const LAN_NET: &str = "172.20.30.0/24";
const LAN_GUEST: &str = "172.20.30.1";
const LAN_HOST: &str = "172.20.30.2";

/// Options for one VM.
#[derive(Debug, Clone)]
pub struct VmConfig {
    pub base_disk: PathBuf,
    pub extra_disk_ro: Option<PathBuf>,
    pub ssh_key: PathBuf,
    pub run_dir: PathBuf,
    pub accel: Accel,
    /// Forward the API to this 127.0.0.1 port instead of a free one (`cairn-vm up`).
    pub api_port: Option<u16>,
}

/// The address on the LAN segment (eth1) where [`Extras::guest_forwards`] listen:
/// where a device's cameras would be.
pub const GUEST_FORWARD_ADDR: &str = "172.20.30.100";
/// qemu's own address on the LAN segment (the host as the guest sees it there).
pub const LAN_HOST_ADDR: &str = LAN_HOST;

/// What some suites add to a VM.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// (port, host command): a guest connection to `GUEST_FORWARD_ADDR:port` runs the
    /// command on the host with the connection as its stdin and stdout (qemu's
    /// `guestfwd=...-cmd:`), one process per connection. The only way out of the
    /// guest besides the replies to the host forwards (`restrict=on`).
    pub guest_forwards: Vec<(u16, String)>,
}

/// A running appliance VM.
#[derive(Debug)]
pub struct Vm {
    child: Child,
    cfg: VmConfig,
    pub api_port: u16,
    pub ssh_port: u16,
}

impl Vm {
    /// Start qemu on a copy-on-write overlay of the base disk.
    pub fn start(cfg: VmConfig) -> Result<Self> {
        Self::start_with(cfg, &Extras::default())
    }

    /// [`Vm::start`] with a suite's [`Extras`].
    pub fn start_with(cfg: VmConfig, extras: &Extras) -> Result<Self> {
        std::fs::create_dir_all(&cfg.run_dir)?;
        let overlay = cfg.run_dir.join("disk.qcow2");
        let _ = std::fs::remove_file(&overlay);
        let out = Command::new("qemu-img")
            .args(["create", "-q", "-f", "qcow2", "-F", "raw", "-b"])
            .arg(&cfg.base_disk)
            .arg(&overlay)
            .output()
            .context("qemu-img (Debian package qemu-utils)")?;
        if !out.status.success() {
            bail!("qemu-img create: {}", String::from_utf8_lossy(&out.stderr));
        }
        let (free_api_port, ssh_port) = free_ports()?;
        let api_port = cfg.api_port.unwrap_or(free_api_port);
        let qmp = cfg.run_dir.join("qmp.sock");
        let _ = std::fs::remove_file(&qmp);
        let mut cmd = Command::new("qemu-system-x86_64");
        cmd.args(cfg.accel.args())
            .args(["-m", "1024", "-smp", "2", "-nodefaults", "-display", "none", "-vga", "std"])
            .arg("-drive")
            .arg(format!("file={},if=none,id=root,format=qcow2", overlay.display()))
            .args(["-device", "virtio-blk-pci,drive=root,bootindex=0"]);
        if let Some(extra) = &cfg.extra_disk_ro {
            cmd.arg("-drive")
                .arg(format!("file={},if=none,id=extra,format=raw,readonly=on", extra.display()))
                .args(["-device", "virtio-blk-pci,drive=extra"]);
        }
        // Two ports, as on a device: eth0 is the WAN (DHCP, nothing forwarded to it) and
        // eth1 the LAN, where the appliance has its default gateway address and where
        // the API and ssh are reached (the WAN firewall refuses them once provisioned).
        // restrict=on: the guest reaches nothing outside; only the host forwards
        // (bound to 127.0.0.1) get in.
        // qemu's option syntax escapes a comma as two.
        let guestfwd: String = extras
            .guest_forwards
            .iter()
            .map(|(port, command)| {
                format!(",guestfwd=tcp:{GUEST_FORWARD_ADDR}:{port}-cmd:{}", command.replace(',', ",,"))
            })
            .collect();
        cmd.args(["-netdev", "user,id=wan,restrict=on", "-device", "virtio-net-pci,netdev=wan"])
            .arg("-netdev")
            .arg(format!(
                "user,id=lan,restrict=on,net={LAN_NET},host={LAN_HOST},\
                 hostfwd=tcp:127.0.0.1:{api_port}-{LAN_GUEST}:8080,hostfwd=tcp:127.0.0.1:{ssh_port}-{LAN_GUEST}:22{guestfwd}"
            ))
            .args(["-device", "virtio-net-pci,netdev=lan"])
            .args(["-device", "virtio-rng-pci"])
            .arg("-serial")
            .arg(format!("file:{}", cfg.run_dir.join("serial.log").display()))
            .arg("-qmp")
            .arg(format!("unix:{},server=on,wait=off", qmp.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(cfg.run_dir.join("qemu.stderr"))?);
        let child = cmd.spawn().context("starting qemu-system-x86_64 (Debian package qemu-system-x86)")?;
        LIVE.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.push(child.id());
        let vm = Self { child, cfg, api_port, ssh_port };
        eprintln!(
            "cairn-vm: qemu pid {} ({:?}), api 127.0.0.1:{}, ssh 127.0.0.1:{}, logs {}",
            vm.child.id(),
            vm.cfg.accel,
            api_port,
            ssh_port,
            vm.cfg.run_dir.display()
        );
        Ok(vm)
    }

    /// The directory holding this VM's overlay disk, logs and sockets.
    pub fn run_dir(&self) -> &Path {
        &self.cfg.run_dir
    }

    pub fn serial_log(&self) -> PathBuf {
        self.cfg.run_dir.join("serial.log")
    }

    pub fn serial_text(&self) -> String {
        std::fs::read_to_string(self.serial_log()).map(|s| s.replace('\r', "")).unwrap_or_default()
    }

    /// Lines GRUB printed for each boot (`cairn-boot: slot=... attempt=...`).
    pub fn boot_lines(&self) -> Vec<String> {
        self.serial_text().lines().filter_map(|l| l.find("cairn-boot: slot=").map(|i| l[i..].to_owned())).collect()
    }

    fn alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            let err = std::fs::read_to_string(self.cfg.run_dir.join("qemu.stderr")).unwrap_or_default();
            bail!("qemu exited ({status}): {}", err.trim());
        }
        Ok(())
    }

    /// Run a command in the guest over ssh.
    pub fn ssh_output(&self, command: &str) -> Result<Output> {
        Command::new("ssh")
            .args(["-i"])
            .arg(&self.cfg.ssh_key)
            .args(["-p", &self.ssh_port.to_string()])
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=10",
                "-o",
                "ServerAliveInterval=5",
                "-o",
                "ServerAliveCountMax=12",
                "-o",
                "LogLevel=ERROR",
                "root@127.0.0.1",
                command,
            ])
            .stdin(Stdio::null())
            .output()
            .context("running ssh (Debian package openssh-client)")
    }

    /// Run a command in the guest; fail unless it exits 0. Returns stdout.
    pub fn ssh(&self, command: &str) -> Result<String> {
        let out = self.ssh_output(command)?;
        if !out.status.success() {
            bail!(
                "`{command}` failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The guest's boot id, or an error when ssh does not answer.
    pub fn boot_id(&self) -> Result<String> {
        Ok(self.ssh("cat /proc/sys/kernel/random/boot_id")?.trim().to_owned())
    }

    /// Wait until ssh answers with a boot id different from `previous`.
    pub fn wait_boot(&mut self, previous: Option<&str>, timeout: Duration) -> Result<String> {
        let start = Instant::now();
        loop {
            self.alive()?;
            if let Ok(id) = self.boot_id()
                && Some(id.as_str()) != previous
            {
                eprintln!("cairn-vm: guest up after {:.0} s", start.elapsed().as_secs_f64());
                return Ok(id);
            }
            if start.elapsed() > timeout {
                let serial = self.serial_text();
                let tail: Vec<&str> = serial.lines().rev().take(15).collect();
                bail!(
                    "guest did not answer ssh within {} s; serial tail:\n{}",
                    timeout.as_secs(),
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
            std::thread::sleep(Duration::from_secs(2));
        }
    }

    /// Clean reboot from inside the guest; waits for the next boot.
    pub fn reboot(&mut self, timeout: Duration) -> Result<String> {
        let before = self.boot_id()?;
        // ssh may be cut while the guest goes down: its exit status is meaningless.
        let _ = self.ssh_output("systemctl reboot");
        self.wait_boot(Some(&before), timeout)
    }

    /// Hard power cut: reset the machine without letting the guest sync or shut down.
    pub fn power_cut(&mut self, timeout: Duration) -> Result<String> {
        let before = self.boot_id()?;
        self.qmp("system_reset", json!({}))?;
        self.wait_boot(Some(&before), timeout)
    }

    /// One QMP command on a fresh connection; returns its `return` value.
    pub fn qmp(&self, execute: &str, arguments: Value) -> Result<Value> {
        let sock = UnixStream::connect(self.cfg.run_dir.join("qmp.sock")).context("QMP connect")?;
        sock.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut reader = BufReader::new(sock.try_clone()?);
        let mut w = sock;
        let mut line = String::new();
        reader.read_line(&mut line)?; // greeting
        let mut send = |v: Value| -> Result<Value> {
            writeln!(w, "{v}")?;
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    bail!("QMP closed");
                }
                let reply: Value = serde_json::from_str(&line)?;
                if reply.get("event").is_some() {
                    continue;
                }
                if let Some(err) = reply.get("error") {
                    bail!("QMP error: {err}");
                }
                return Ok(reply.get("return").cloned().unwrap_or(Value::Null));
            }
        };
        send(json!({"execute": "qmp_capabilities"}))?;
        send(json!({"execute": execute, "arguments": arguments}))
    }

    /// Save the VM's display as a PNG file.
    pub fn screendump(&self, path: &Path) -> Result<()> {
        self.qmp("screendump", json!({"filename": path.to_string_lossy(), "format": "png"}))?;
        Ok(())
    }

    /// `GET path` on the forwarded provision API port; returns (status, body).
    pub fn http_get(&self, path: &str) -> Result<(u16, String)> {
        let mut s = TcpStream::connect(("127.0.0.1", self.api_port))?;
        s.set_read_timeout(Some(Duration::from_secs(20)))?;
        write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n", self.api_port)?;
        let mut buf = String::new();
        s.read_to_string(&mut buf)?;
        let status = buf
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .with_context(|| format!("no HTTP status in reply {buf:?}"))?;
        let body = buf.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
        Ok((status, body))
    }

    /// Blocks until qemu exits (it runs until killed, e.g. by Ctrl-C in `cairn-vm up`).
    pub fn wait_exit(&mut self) -> Result<std::process::ExitStatus> {
        Ok(self.child.wait()?)
    }

    /// Kill qemu now (also done on drop).
    pub fn kill(&mut self) {
        let pid = self.child.id();
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Ok(mut live) = LIVE.lock() {
            live.retain(|p| *p != pid);
        }
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        self.kill();
    }
}
