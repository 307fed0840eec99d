//! The system test suites run against the booted appliance.

use crate::image::Image;
use crate::qemu::Vm;
use crate::report::Report;
use anyhow::{Context, Result, bail, ensure};
use std::time::{Duration, Instant};

mod apply;
pub mod kiosk;
mod power_cut;
pub use apply::apply;
pub use power_cut::power_cut;

/// How long one boot may take (TCG on 2 cores boots in well under this).
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(360);

fn release_version(vm: &Vm) -> Result<String> {
    let text = vm.ssh("cat /etc/cairn-release")?;
    text.lines()
        .find_map(|l| l.strip_prefix("VERSION="))
        .map(|v| v.trim().to_owned())
        .context("no VERSION in /etc/cairn-release")
}

fn booted_slot(vm: &Vm) -> Result<String> {
    let cmdline = vm.ssh("cat /proc/cmdline")?;
    cmdline
        .split_whitespace()
        .find_map(|w| w.strip_prefix("rauc.slot="))
        .map(str::to_owned)
        .context("no rauc.slot= on the kernel command line")
}

fn grubenv(vm: &Vm, key: &str) -> Result<String> {
    let text = vm.ssh("grub-editenv /boot/grub/grubenv list")?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(str::to_owned)
        .with_context(|| format!("{key} not in grubenv: {text}"))
}

/// Wait until provision answers `GET /api/health` with 200 through the forward.
fn wait_health(vm: &Vm) -> Result<()> {
    let start = Instant::now();
    loop {
        match vm.http_get("/api/health") {
            Ok((200, _)) => return Ok(()),
            Ok((code, body)) if start.elapsed() > Duration::from_secs(120) => bail!("status {code}, body {body:?}"),
            Err(e) if start.elapsed() > Duration::from_secs(120) => return Err(e),
            _ => std::thread::sleep(Duration::from_secs(2)),
        }
    }
}

/// Boots, waits for the API, and returns the run's directory for test bundles.
fn boot_for_bundles(vm: &mut Vm, r: &mut Report) -> Result<std::path::PathBuf> {
    if !r.check("appliance boots and answers ssh", vm.wait_boot(None, BOOT_TIMEOUT).map(|_| ())) {
        bail!("no boot");
    }
    if !r.check("provision answers /api/health", wait_health(vm)) {
        bail!("provision is not answering");
    }
    let work = vm.run_dir().join("bundles");
    std::fs::create_dir_all(&work)?;
    Ok(work)
}

/// Wait for a oneshot unit to have finished successfully.
fn wait_unit_done(vm: &Vm, unit: &str, timeout: Duration) -> Result<()> {
    let start = Instant::now();
    loop {
        let state = vm.ssh(&format!("systemctl show -P ActiveState {unit}"))?;
        let state = state.trim();
        if state == "active" {
            return Ok(());
        }
        if state == "failed" {
            let log = vm.ssh(&format!("journalctl -b -u {unit} --no-pager | tail -n 20")).unwrap_or_default();
            bail!("{unit} failed: {log}");
        }
        if start.elapsed() > timeout {
            bail!("{unit} not done after {} s (state {state:?})", timeout.as_secs());
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

fn expect_slot(vm: &Vm, slot: &str, version: &str) -> Result<()> {
    let (s, v) = (booted_slot(vm)?, release_version(vm)?);
    ensure!(s == slot && v == version, "booted slot {s} version {v}, expected slot {slot} version {version}");
    Ok(())
}

fn marked_good(vm: &Vm, slot: &str) -> Result<()> {
    wait_unit_done(vm, "cairn-mark-good.service", Duration::from_secs(120))?;
    let (ok, tries) = (grubenv(vm, &format!("{slot}_OK"))?, grubenv(vm, &format!("{slot}_TRY"))?);
    ensure!(ok == "1" && tries == "0", "grubenv {slot}_OK={ok} {slot}_TRY={tries}, expected 1 and 0");
    Ok(())
}

/// smoke: API through the forward, read-only /usr, volatile /etc, persistent /data.
/// `cairn-vm up`: boot the appliance and keep it running with the API and Boot UI on
/// 127.0.0.1 until interrupted (the README's main job).
pub fn up(vm: &mut Vm, img: &Image, r: &mut Report) -> Result<()> {
    let boot = vm.wait_boot(None, BOOT_TIMEOUT);
    if !r.check("appliance boots and answers ssh", boot.as_ref().map(|_| ()).map_err(|e| anyhow::anyhow!("{e:#}"))) {
        bail!("no boot");
    }
    let health = wait_health(vm);
    if !r.check("provision answers /api/health", health) {
        bail!("provision is not answering");
    }
    eprintln!();
    eprintln!("Cairn appliance is up: API and Boot UI on http://127.0.0.1:{}/", vm.api_port);
    eprintln!(
        "  ssh (test image only): ssh -i {} -p {} -o StrictHostKeyChecking=no root@127.0.0.1",
        img.ssh_key().display(),
        vm.ssh_port
    );
    eprintln!("  serial log: {}", vm.serial_log().display());
    eprintln!("  Ctrl-C stops it.");
    let status = vm.wait_exit()?;
    bail!("qemu exited ({status})")
}

pub fn smoke(vm: &mut Vm, r: &mut Report) -> Result<()> {
    let boot = vm.wait_boot(None, BOOT_TIMEOUT);
    if !r.check("appliance boots and answers ssh", boot.as_ref().map(|_| ()).map_err(|e| anyhow::anyhow!("{e:#}"))) {
        bail!("no boot");
    }
    r.check(
        "root is the read-only squashfs slot",
        (|| {
            let fstype = vm.ssh("findmnt -no FSTYPE,OPTIONS /")?;
            ensure!(fstype.starts_with("squashfs") && fstype.contains("ro"), "/ is {fstype:?}");
            Ok(())
        })(),
    );
    r.check(
        "GET /api/health through 127.0.0.1 forward is 200",
        (|| {
            let start = Instant::now();
            loop {
                match vm.http_get("/api/health") {
                    Ok((200, body)) => {
                        ensure!(body.contains("\"ok\""), "200 but body {body:?}");
                        return Ok(());
                    }
                    Ok((code, body)) if start.elapsed() > Duration::from_secs(60) => {
                        bail!("status {code}, body {body:?}")
                    }
                    Err(e) if start.elapsed() > Duration::from_secs(60) => return Err(e),
                    _ => std::thread::sleep(Duration::from_secs(2)),
                }
            }
        })(),
    );
    r.check(
        "writing to /usr fails",
        (|| {
            let out = vm.ssh_output("touch /usr/cairn-write-probe")?;
            ensure!(!out.status.success(), "touch /usr/cairn-write-probe succeeded");
            let err = String::from_utf8_lossy(&out.stderr);
            ensure!(err.contains("Read-only"), "failed, but not as read-only: {err}");
            Ok(())
        })(),
    );
    r.check("/etc is writable (tmpfs overlay)", vm.ssh("echo probe > /etc/cairn-volatile-probe").map(|_| ()));
    r.check(
        "/data is the persistent ext4 partition",
        (|| {
            let src = vm.ssh("findmnt -no FSTYPE,SOURCE /data")?;
            ensure!(src.starts_with("ext4"), "/data is {src:?}");
            vm.ssh("echo cairn-smoke-token > /data/smoke-token && sync /data/smoke-token")?;
            Ok(())
        })(),
    );
    let shot = vm.serial_log().with_file_name("screen.png");
    r.check(
        "QMP screendump writes a PNG",
        (|| {
            vm.screendump(&shot)?;
            let bytes = std::fs::read(&shot)?;
            ensure!(bytes.starts_with(b"\x89PNG"), "{} is not a PNG", shot.display());
            Ok(())
        })(),
    );
    let cut = vm.power_cut(BOOT_TIMEOUT);
    if !r.check("boots again after a hard power cut", cut.map(|_| ())) {
        bail!("no boot after power cut");
    }
    r.check(
        "file under /data survives the power cut",
        (|| {
            let t = vm.ssh("cat /data/smoke-token")?;
            ensure!(t.trim() == "cairn-smoke-token", "content {t:?}");
            Ok(())
        })(),
    );
    r.check(
        "/etc changes are gone after reboot",
        (|| {
            let out = vm.ssh_output("test -e /etc/cairn-volatile-probe")?;
            ensure!(!out.status.success(), "/etc/cairn-volatile-probe survived the reboot");
            Ok(())
        })(),
    );
    Ok(())
}

/// ota: RAUC install switches slots, boot counting falls back, foreign bundles are refused.
pub fn ota(vm: &mut Vm, image: &Image, r: &mut Report) -> Result<()> {
    let max_tries: usize = image.env("CAIRN_MAX_TRIES")?.parse()?;
    let good = image.env("CAIRN_GOOD_VERSION")?;
    let nomark = image.env("CAIRN_NOMARK_VERSION")?;
    let first = image.env("CAIRN_IMAGE_VERSION")?;

    let boot = vm.wait_boot(None, BOOT_TIMEOUT);
    if !r.check("appliance boots and answers ssh", boot.map(|_| ())) {
        bail!("no boot");
    }
    r.check(&format!("first boot runs slot A version {first}"), expect_slot(vm, "A", &first));
    r.check("slot A is marked good", marked_good(vm, "A"));
    vm.ssh("mount -o ro /dev/vdb /mnt").context("mounting the bundle disk")?;

    r.check(
        "bundle signed by another CA is refused",
        (|| {
            let out = vm.ssh_output("rauc install /mnt/foreign.raucb")?;
            let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            ensure!(!out.status.success(), "rauc install of the foreign bundle succeeded: {text}");
            ensure!(text.to_lowercase().contains("signature"), "refused, but not for its signature: {text}");
            let order = grubenv(vm, "ORDER")?;
            ensure!(order == "A B", "ORDER changed to {order:?}");
            Ok(())
        })(),
    );

    let installed = r.check(
        &format!("rauc install of signed bundle (version {good})"),
        (|| {
            vm.ssh("rauc install /mnt/good.raucb")?;
            let order = grubenv(vm, "ORDER")?;
            ensure!(order == "B A", "after install ORDER={order:?}, expected \"B A\"");
            Ok(())
        })(),
    );
    if !installed {
        bail!("install failed");
    }
    if !r.check("reboots after install", vm.reboot(BOOT_TIMEOUT).map(|_| ())) {
        bail!("no boot after install");
    }
    r.check(&format!("new slot B runs version {good}"), expect_slot(vm, "B", &good));
    r.check("slot B is marked good", marked_good(vm, "B"));

    let installed = r.check(
        &format!("rauc install of never-good bundle (version {nomark}) into slot A"),
        (|| {
            vm.ssh("mount -o ro /dev/vdb /mnt && rauc install /mnt/nomark.raucb")?;
            let order = grubenv(vm, "ORDER")?;
            ensure!(order == "A B", "after install ORDER={order:?}, expected \"A B\"");
            Ok(())
        })(),
    );
    if !installed {
        bail!("install failed");
    }
    for attempt in 1..=max_tries {
        if !r.check(&format!("reboot into unconfirmed slot A, attempt {attempt}"), vm.reboot(BOOT_TIMEOUT).map(|_| ()))
        {
            bail!("no boot");
        }
        r.check(
            &format!("attempt {attempt}: slot A runs {nomark}, not marked good"),
            (|| {
                expect_slot(vm, "A", &nomark)?;
                let tries = grubenv(vm, "A_TRY")?;
                ensure!(tries == attempt.to_string(), "A_TRY={tries}, expected {attempt}");
                Ok(())
            })(),
        );
    }
    if !r.check("reboot after the last allowed attempt", vm.reboot(BOOT_TIMEOUT).map(|_| ())) {
        bail!("no boot");
    }
    r.check(&format!("fell back to slot B version {good} after {max_tries} attempts"), expect_slot(vm, "B", &good));
    r.check("slot B is still marked good after fallback", marked_good(vm, "B"));
    eprintln!("cairn-vm: GRUB boot lines:\n  {}", vm.boot_lines().join("\n  "));
    Ok(())
}
