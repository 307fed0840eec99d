//! power-cut: hard resets (QMP `system_reset`: the guest's unwritten page cache is lost,
//! nothing is shut down) at random moments during re-applies. After every reboot exactly
//! one generation is current and complete (every file matches its recorded hash), the
//! containers that run are that generation's, and provision is healthy.
//!
//! `CAIRN_VM_POWER_CUTS` (default 20) sets the number of cuts; `CAIRN_VM_SEED` replays
//! a run's random moments (the seed is printed).

use super::{BOOT_TIMEOUT, boot_for_bundles, wait_health, wait_unit_done};
use crate::device::{self, Client, Manager};
use crate::fixture::{Container, TestConfig, public_key};
use crate::image::Image;
use crate::qemu::Vm;
use crate::report::Report;
use anyhow::{Context, Result, bail, ensure};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Two configs that differ in both containers and in their files, so every apply
/// restarts units and stages a new files/ tree.
fn config(admin_key: &str, revision: u32) -> TestConfig {
    let mut containers = vec![Container::httpd("p1", 8101), Container::rootless_httpd("p2", 8209)];
    for c in &mut containers {
        c.revision = revision;
    }
    TestConfig {
        admin_key: admin_key.to_owned(),
        containers,
        page: format!("cairn power-cut revision {revision}\n"),
        timeout_seconds: 900,
        settle_seconds: 0,
    }
}

/// xorshift64*: enough randomness for cut moments, reproducible from the seed.
struct Moments(u64);

impl Moments {
    fn next_below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound.max(1)
    }
}

fn seed() -> Result<u64> {
    match std::env::var("CAIRN_VM_SEED") {
        Ok(s) => s.parse().with_context(|| format!("CAIRN_VM_SEED={s:?} is not a number")),
        Err(_) => Ok(SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos() as u64 | 1),
    }
}

fn cuts() -> Result<u32> {
    match std::env::var("CAIRN_VM_POWER_CUTS") {
        Ok(s) => s.parse().with_context(|| format!("CAIRN_VM_POWER_CUTS={s:?} is not a number")),
        Err(_) => Ok(20),
    }
}

/// What a reboot left: the current generation and whether everything agrees with it.
fn after_reboot(vm: &Vm, before: Option<u64>, configs: &[TestConfig; 2]) -> Result<u64> {
    wait_unit_done(vm, "cairn-boot.service", Duration::from_secs(600))?;
    wait_health(vm)?;
    let store = device::store(vm)?;
    ensure!(store.verified && store.damaged.is_empty(), "store does not verify: {store:?}");
    let current = store.current.context("no current generation after the reboot")?;
    let before = before.context("the device was provisioned before the cut")?;
    ensure!(current >= before, "current went back from {before} to {current}");
    // The current generation's page is the one its containers were built with and serve.
    let page = vm.ssh("cat /data/cairn/current/files/www/index.html")?;
    ensure!(configs.iter().any(|c| c.page == page), "current's page is neither config's: {page:?}");
    for (manager, service, url) in [
        (Manager::System, "p1.service", "http://127.0.0.1:8101/"),
        (Manager::Appsvc, "p2.service", "http://127.0.0.1:8209/"),
    ] {
        let state = device::unit(vm, manager, service)?;
        ensure!(state.active == "active", "{service} is {}", state.active);
        let served = device::fetch_in_guest(vm, url)?;
        ensure!(served == page, "{service} serves {served:?}, but current's page is {page:?}");
    }
    Ok(current)
}

pub fn power_cut(vm: &mut Vm, img: &Image, bin_dir: &Path, r: &mut Report) -> Result<()> {
    let work = boot_for_bundles(vm, r)?;
    let admin = public_key(&img.ssh_key())?;
    let configs = [config(&admin, 1), config(&admin, 2)];
    let bundles: Vec<PathBuf> =
        configs.iter().enumerate().map(|(i, c)| c.bundle(&work, &format!("rev{}", i + 1))).collect::<Result<_>>()?;
    let client = Client::new(bin_dir, vm, &img.ssh_key());

    // An uninterrupted first apply and re-apply: the re-apply's duration is the window
    // the cuts are spread over.
    let mut window = Duration::ZERO;
    let ready = r.check(
        "first apply and one uninterrupted re-apply succeed",
        (|| {
            for bundle in &bundles {
                let started = Instant::now();
                let applied = client.apply(bundle)?;
                ensure!(applied.succeeded, "apply failed: {}", applied.output);
                window = started.elapsed();
            }
            Ok(())
        })(),
    );
    if !ready {
        bail!("the device could not be provisioned");
    }
    let seed = seed()?;
    let cuts = cuts()?;
    eprintln!("cairn-vm: {cuts} power cuts within {:.1} s of submitting; seed {seed}", window.as_secs_f64());
    let mut moments = Moments(seed);
    let (mut kept_old, mut got_new) = (0, 0);
    for cut in 1..=cuts {
        let before = device::store(vm)?.current;
        let bundle = &bundles[cut as usize % 2];
        let delay = Duration::from_millis(moments.next_below(window.as_millis() as u64 * 6 / 5));
        let mut client_process = client.spawn_apply(bundle)?;
        std::thread::sleep(delay);
        let reset = vm.power_cut(BOOT_TIMEOUT);
        let _ = client_process.kill();
        let _ = client_process.wait();
        if !r.check(&format!("cut {cut} at {:.1} s: the appliance boots again", delay.as_secs_f64()), reset.map(|_| ()))
        {
            bail!("no boot after cut {cut}");
        }
        let outcome = after_reboot(vm, before, &configs);
        if let Ok(current) = &outcome {
            if Some(*current) == before { kept_old += 1 } else { got_new += 1 }
        }
        let ok = r.check(
            &format!("cut {cut}: exactly one complete generation is current, its containers run, provision is healthy"),
            outcome.map(|current| eprintln!("cairn-vm: cut {cut}: generation {before:?} → {current}")),
        );
        if !ok {
            eprintln!("cairn-vm: replay with CAIRN_VM_SEED={seed}");
        }
    }
    eprintln!("cairn-vm: {kept_old} cuts kept the old generation, {got_new} ended on the new one");
    r.check(
        "after the cuts a signed re-apply still succeeds",
        client.apply(&bundles[0]).and_then(|a| {
            ensure!(a.succeeded, "apply failed: {}", a.output);
            Ok(())
        }),
    );
    Ok(())
}
