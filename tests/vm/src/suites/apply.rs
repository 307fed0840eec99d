//! apply: the pipeline against the appliance's real systemd, Quadlet and Podman.
//! First apply starts every container; a re-apply changing one container restarts only
//! it; `Restart=` from `[Service]` works; a broken container rolls back to the old one;
//! changed bundle files rebuild the image and restart its containers; a removed
//! container is stopped and its unit is gone; a rollback to a kept generation restores
//! it; a reboot brings `current` back.
//! Also measures the benchmark: a 10-container re-apply where one changes.

use super::{BOOT_TIMEOUT, boot_for_bundles, wait_unit_done};
use crate::device::{self, Client, Manager};
use crate::fixture::{Container, TestConfig, public_key};
use crate::image::Image;
use crate::qemu::Vm;
use crate::report::Report;
use anyhow::{Context, Result, bail, ensure};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Ten containers: eight rootful (two serve HTTP on the host's network, one restarts
/// always), two rootless serving HTTP on published 127.0.0.1 ports.
fn base_config(admin_key: String) -> TestConfig {
    let mut containers = vec![Container::httpd("c01", 8101), Container::httpd("c02", 8102)];
    containers.push(Container { restart_always: true, ..Container::sleeper("c03") });
    for n in 4..=8 {
        containers.push(Container::sleeper(&format!("c{n:02}")));
    }
    containers.push(Container::rootless_httpd("c09", 8209));
    containers.push(Container::rootless_httpd("c10", 8210));
    TestConfig { admin_key, containers, page: "cairn apply suite\n".into(), timeout_seconds: 900, settle_seconds: 10 }
}

/// Every container's unit state, by name.
fn states(vm: &Vm, config: &TestConfig) -> Result<BTreeMap<String, device::UnitState>> {
    config
        .containers
        .iter()
        .map(|c| Ok((c.name.clone(), device::unit(vm, Manager::of(c.privileged), &format!("{}.service", c.name))?)))
        .collect()
}

fn all_active(vm: &Vm, config: &TestConfig) -> Result<BTreeMap<String, device::UnitState>> {
    let states = states(vm, config)?;
    let down: Vec<String> =
        states.iter().filter(|(_, s)| s.active != "active").map(|(n, s)| format!("{n}: {}", s.active)).collect();
    ensure!(down.is_empty(), "not active: {}", down.join(", "));
    Ok(states)
}

fn applied_ok(vm: &Vm, client: &Client, bundle: &Path) -> Result<serde_json::Value> {
    let applied = client.apply(bundle)?;
    let job = device::job(vm, &applied.job_id)?;
    ensure!(applied.succeeded && job["state"] == "succeeded", "apply failed: {}\njob: {job:#}", applied.output);
    Ok(job)
}

/// The number after `word` in an activate summary ("… restarted 1, started 0 …").
fn count_after(summary: &str, word: &str) -> Option<u64> {
    let rest = &summary[summary.find(word)? + word.len()..];
    rest.split(|c: char| !c.is_ascii_digit()).find(|s| !s.is_empty())?.parse().ok()
}

pub fn apply(vm: &mut Vm, img: &Image, bin_dir: &Path, r: &mut Report) -> Result<()> {
    let work = boot_for_bundles(vm, r)?;
    let client = Client::new(bin_dir, vm, &img.ssh_key());
    let a = base_config(public_key(&img.ssh_key())?);
    r.check(
        "the new device is unprovisioned",
        device::store(vm).and_then(|s| {
            ensure!(s.current.is_none(), "{s:?}");
            Ok(())
        }),
    );

    // 1. First apply (tokenless): builds the image in both modes and starts all ten.
    let first = r.check(
        "first apply succeeds and starts all ten containers",
        (|| {
            let job = applied_ok(vm, &client, &a.bundle(&work, "a")?)?;
            eprintln!("cairn-vm: first apply took {:.1} s", device::wall_ms(&job) as f64 / 1000.0);
            all_active(vm, &a)?;
            Ok(())
        })(),
    );
    if !first {
        bail!("nothing to re-apply");
    }
    r.check(
        "rootful container answers on the host network",
        device::fetch_in_guest(vm, "http://127.0.0.1:8101/").and_then(|body| {
            ensure!(body == a.page, "body {body:?}");
            Ok(())
        }),
    );
    r.check(
        "rootless container answers on its 127.0.0.1 port, and only there",
        (|| {
            let body = device::fetch_in_guest(vm, "http://127.0.0.1:8209/")?;
            ensure!(body == a.page, "body {body:?}");
            let listening = vm.ssh("ss -ltnH 'sport = :8209'")?;
            ensure!(
                listening.lines().count() > 0 && listening.lines().all(|l| l.contains("127.0.0.1:8209")),
                "listeners on 8209: {listening:?}"
            );
            let lan = vm.ssh_output("curl -sS --max-time 5 http://172.20.30.1:8209/")?;
            ensure!(!lan.status.success(), "8209 answered on the LAN address");
            Ok(())
        })(),
    );

    // 2. Re-apply with one container changed: only it restarts.
    let before = states(vm, &a)?;
    let mut b = a.clone();
    b.container_mut("c05").revision = 2;
    r.check(
        "re-apply changing c05 restarts only c05 (others keep their PID)",
        (|| {
            let job = applied_ok(vm, &client, &b.bundle(&work, "b")?)?;
            let after = all_active(vm, &b)?;
            for (name, state) in &after {
                let old = before[name].main_pid;
                if name == "c05" {
                    ensure!(state.main_pid != old, "c05 kept PID {old}");
                } else {
                    ensure!(state.main_pid == old, "{name} changed PID {old} → {}", state.main_pid);
                }
            }
            let summary = device::event(&job, "activate", "succeeded").unwrap_or("");
            let restarted = count_after(summary, "restarted").unwrap_or(u64::MAX);
            ensure!(restarted == 1, "activate: {summary}");
            let secs = |ms: Option<u64>| ms.map_or("?".to_owned(), |ms| format!("{:.2} s", ms as f64 / 1000.0));
            println!(
                "benchmark: 10-container re-apply, one changed: {} from job start to succeeded \
                 (activate step {}, health step {} incl. settle_seconds = {}); units restarted: {restarted} \
                 (AtomixOS restarts all 10); activate: {summary}",
                secs(Some(device::wall_ms(&job))),
                secs(device::step_ms(&job, "activate")),
                secs(device::step_ms(&job, "health")),
                b.settle_seconds
            );
            Ok(())
        })(),
    );

    // 3. Restart= from [Service]: killing c03 gets it restarted by systemd.
    r.check(
        "Restart=always from [Service] restarts a killed container",
        (|| {
            let old = device::unit(vm, Manager::System, "c03.service")?;
            vm.ssh("systemctl kill --signal=SIGKILL c03.service")?;
            device::wait_unit(vm, Manager::System, "c03.service", Duration::from_secs(120), |s| {
                s.active == "active" && s.restarts > old.restarts && s.main_pid != old.main_pid && s.main_pid != 0
            })?;
            Ok(())
        })(),
    );

    // 4. A broken container fails the apply; the old generation runs again.
    let current_b = device::store(vm)?.current;
    let mut broken = b.clone();
    broken.container_mut("c06").exec = "/bin/busybox false".into();
    r.check(
        "a broken container fails the apply and rolls back to the old one",
        (|| {
            let applied = client.apply(&broken.bundle(&work, "broken")?)?;
            let job = device::job(vm, &applied.job_id)?;
            ensure!(!applied.succeeded && job["state"] == "failed", "the broken apply did not fail: {job:#}");
            ensure!(job["rollback"] == "completed", "rollback {} (job {job:#})", job["rollback"]);
            // The failed step carries the unit's last journal lines as evidence.
            let evidence = device::event(&job, "health", "failed")
                .or_else(|| device::event(&job, "activate", "failed"))
                .unwrap_or("");
            ensure!(
                evidence.contains("c06.service") && evidence.lines().skip(1).any(|l| l.contains("c06")),
                "the failed step has no journal lines of c06: {evidence:?}"
            );
            let store = device::store(vm)?;
            ensure!(store.current == current_b && store.verified, "after rollback: {store:?}, expected {current_b:?}");
            all_active(vm, &b)?;
            let exposed = vm.ssh("cat /run/containers/systemd/c06.container")?;
            ensure!(!exposed.contains("busybox false"), "c06's exposed unit is the broken one:\n{exposed}");
            Ok(())
        })(),
    );

    // 5. Only files/ changes: both builds (rootful, rootless) run again and systemd
    //    restarts every container that requires them, which then serve the new page.
    let before = states(vm, &b)?;
    let mut e = b.clone();
    e.page = "cairn apply suite, files changed\n".into();
    r.check(
        "changing only the bundle's files rebuilds the image; its containers restart and serve the new files",
        (|| {
            let job = applied_ok(vm, &client, &e.bundle(&work, "e")?)?;
            let planned = device::event(&job, "plan", "succeeded").unwrap_or("");
            ensure!(planned.contains("restart 2,"), "plan: {planned}");
            let after = all_active(vm, &e)?;
            let kept: Vec<&String> = after.keys().filter(|n| after[*n].main_pid == before[*n].main_pid).collect();
            ensure!(kept.is_empty(), "not restarted with the new image: {kept:?}");
            for url in ["http://127.0.0.1:8101/", "http://127.0.0.1:8209/"] {
                let body = device::fetch_in_guest(vm, url)?;
                ensure!(body == e.page, "{url} serves {body:?}");
            }
            Ok(())
        })(),
    );

    // 6. A removed (rootless) container is stopped and its unit is gone.
    let mut d = e.clone();
    d.containers.retain(|c| c.name != "c10");
    r.check(
        "removing c10 stops it and its unit is gone",
        (|| {
            applied_ok(vm, &client, &d.bundle(&work, "d")?)?;
            let c10 = device::unit(vm, Manager::Appsvc, "c10.service")?;
            ensure!(c10.load == "not-found" && c10.active == "inactive", "c10 after removal: {c10:?}");
            let names = vm.ssh(&format!(
                "runuser -u appsvc -- env XDG_RUNTIME_DIR=/run/user/{} podman ps --format '{{{{.Names}}}}'",
                device::APPSVC_UID
            ))?;
            ensure!(!names.lines().any(|n| n.trim() == "systemd-c10"), "c10's container still runs: {names}");
            ensure!(names.lines().any(|n| n.trim() == "systemd-c09"), "c09's container is not listed: {names}");
            let gone = vm.ssh_output("curl -sS --max-time 5 http://127.0.0.1:8210/")?;
            ensure!(!gone.status.success(), "127.0.0.1:8210 still answers");
            all_active(vm, &d)?;
            Ok(())
        })(),
    );

    // 7. Rolling back to a kept generation (the CLI on the device; the API's
    //    POST /api/generations/{id}/activate runs the same job) brings back its
    //    containers and its files.
    let rolled_back = r.check(
        "provision rollback to the second generation restores c10 and that generation's files",
        (|| {
            let target = current_b.context("no generation to roll back to")?;
            vm.ssh(&format!("provision rollback --state-dir /data/cairn {target}"))?;
            let store = device::store(vm)?;
            ensure!(store.current == Some(target) && store.verified, "after rollback: {store:?}");
            all_active(vm, &b)?;
            for url in ["http://127.0.0.1:8101/", "http://127.0.0.1:8210/"] {
                let body = device::fetch_in_guest(vm, url)?;
                ensure!(body == b.page, "{url} serves {body:?}");
            }
            Ok(())
        })(),
    );
    let current = if rolled_back { &b } else { &d };

    // 8. After a reboot, cairn-boot.service brings the current generation back.
    let rebooted = r.check("reboots", vm.reboot(BOOT_TIMEOUT).map(|_| ()));
    if rebooted {
        r.check(
            "after reboot the current generation's containers run again",
            (|| {
                wait_unit_done(vm, "cairn-boot.service", Duration::from_secs(600))?;
                all_active(vm, current)?;
                let body = device::fetch_in_guest(vm, "http://127.0.0.1:8209/")?;
                ensure!(body == current.page, "body {body:?}");
                Ok(())
            })(),
        );
    }
    Ok(())
}
