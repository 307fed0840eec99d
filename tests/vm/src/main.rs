//! `cairn-vm <suite>`: build (or reuse) the Cairn test appliance image, boot it in
//! qemu and run a system test suite against it. See docs/src/appliance.md.
//!
//! Suites: `smoke`, `ota`, `apply`, `power-cut`, `kiosk`; `up` boots it and keeps it
//! running; `build` only builds the image and prints its path.
//! Environment: `CAIRN_VM_ACCEL=auto|tcg|kvm` (default auto: KVM only when a probe
//! boot with it succeeds), `CAIRN_VM_BIN_DIR` (default `target/release`).

mod device;
mod fixture;
mod image;
mod qemu;
mod relay;
mod report;
mod suites;
mod tools;

use anyhow::{Context, Result, bail};
use qemu::{Accel, Vm, VmConfig};
use report::Report;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.join("../..").canonicalize().unwrap_or_else(|_| here.join("../.."))
}

/// KVM is used only when a probe boot with it reaches ssh; the verdict is cached.
fn choose_accel(img: &image::Image, root: &Path) -> Result<Accel> {
    let wanted = std::env::var("CAIRN_VM_ACCEL").unwrap_or_else(|_| "auto".into());
    match wanted.as_str() {
        "tcg" => return Ok(Accel::Tcg),
        "kvm" => return Ok(Accel::Kvm),
        "auto" => {}
        other => bail!("CAIRN_VM_ACCEL={other}: expected auto, tcg or kvm"),
    }
    if std::fs::OpenOptions::new().read(true).write(true).open("/dev/kvm").is_err() {
        return Ok(Accel::Tcg);
    }
    // One verdict per host (it depends on the host's KVM, not on the image).
    let verdict = image::cache_root().join("kvm-probe");
    if let Ok(v) = std::fs::read_to_string(&verdict) {
        return Ok(if v.trim() == "ok" { Accel::Kvm } else { Accel::Tcg });
    }
    eprintln!("cairn-vm: probing KVM with one boot (cached in {})", verdict.display());
    let mut vm = Vm::start(VmConfig {
        base_disk: img.disk(),
        extra_disk_ro: None,
        ssh_key: img.ssh_key(),
        run_dir: run_dir(root, "kvm-probe"),
        accel: Accel::Kvm,
        api_port: None,
    })?;
    let ok = vm.wait_boot(None, Duration::from_secs(60)).is_ok();
    vm.kill();
    std::fs::write(&verdict, if ok { "ok\n" } else { "fail\n" })?;
    eprintln!("cairn-vm: KVM probe {}", if ok { "booted: using KVM" } else { "failed: using TCG" });
    Ok(if ok { Accel::Kvm } else { Accel::Tcg })
}

fn run_dir(root: &Path, suite: &str) -> PathBuf {
    let ts = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    root.join("target/cairn-vm").join(format!("{suite}-{ts}"))
}

fn run(suite: &str, r: &mut Report) -> Result<()> {
    let root = workspace_root();
    let missing = tools::missing(tools::RUN_TOOLS, &[]);
    let mut missing_build = tools::missing(tools::BUILD_TOOLS, tools::BUILD_FILES);
    missing_build.retain(|m| !missing.contains(m));
    let bin_dir =
        std::env::var_os("CAIRN_VM_BIN_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target/release"));
    let bins = image::binaries(&bin_dir)?;
    let hash = image::input_hash(&root, &bins)?;
    for m in missing.iter().chain(&missing_build) {
        r.fail("host tools", m);
    }
    if !missing.is_empty() || !missing_build.is_empty() {
        bail!("missing host tools (image {hash})");
    }
    let img = image::ensure(&root, &bins)?;
    if suite == "build" {
        println!("{}", img.dir.display());
        r.pass("image built");
        return Ok(());
    }
    let accel = choose_accel(&img, &root)?;
    if suite == "kiosk" {
        // Its host-side cameras must be up before qemu starts (qemu forwards to them).
        return suites::kiosk::run(&img, &bins, accel, run_dir(&root, suite), r);
    }
    let mut vm = Vm::start(VmConfig {
        base_disk: img.disk(),
        extra_disk_ro: (suite == "ota").then(|| img.bundles()),
        ssh_key: img.ssh_key(),
        run_dir: run_dir(&root, suite),
        accel,
        api_port: (suite == "up").then(up_port).transpose()?,
    })?;
    let result = match suite {
        "up" => suites::up(&mut vm, &img, r),
        "smoke" => suites::smoke(&mut vm, r),
        "ota" => suites::ota(&mut vm, &img, r),
        "apply" => suites::apply(&mut vm, &img, &bin_dir, r),
        "power-cut" => suites::power_cut(&mut vm, &img, &bin_dir, r),
        other => bail!("unknown suite {other}"),
    };
    eprintln!("cairn-vm: serial log {}", vm.serial_log().display());
    vm.kill();
    result
}

/// The API port `cairn-vm up` forwards to (`CAIRN_VM_API_PORT`, default 8080).
fn up_port() -> Result<u16> {
    match std::env::var("CAIRN_VM_API_PORT") {
        Ok(port) => port.parse().with_context(|| format!("CAIRN_VM_API_PORT={port:?} is not a port")),
        Err(_) => Ok(8080),
    }
}

const SUITES: &[&str] = &["up", "smoke", "ota", "apply", "power-cut", "kiosk", "build"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, addr] = args.as_slice()
        && mode == "relay"
    {
        std::process::exit(relay::run(addr));
    }
    let [suite] = args.as_slice() else {
        eprintln!("usage: cairn-vm <{}>", SUITES.join("|"));
        std::process::exit(2);
    };
    if !SUITES.contains(&suite.as_str()) {
        eprintln!("unknown suite {suite}; usage: cairn-vm <{}>", SUITES.join("|"));
        std::process::exit(2);
    }
    let mut r = Report::new(suite);
    if let Err(e) = qemu::install_signal_cleanup().context("signal handler") {
        r.fail("harness setup", &format!("{e:#}"));
    }
    if let Err(e) = run(suite, &mut r) {
        r.fail(&format!("suite {suite} aborted"), &format!("{e:#}"));
    }
    let ok = r.finish() && r.failed() == 0;
    std::process::exit(if ok { 0 } else { 1 });
}
