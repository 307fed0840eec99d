//! The steps of a job, in order, each reported as events: render → plan → promote →
//! activate → health → commit for an apply; plan → promote → activate → health → commit
//! to re-activate a kept generation. Any failure after `current` moved flips it back and
//! re-activates the previous generation. Runs on a blocking thread (see `task.rs`, which
//! ends the job however this returns or dies); async activation is driven with the
//! runtime handle.

use cairn_config::Config;

use super::journald;
use super::prepare::Prepared;
use super::types::{JobId, Rollback, StepStatus};
use super::{Command, JobRunner};
use crate::activate::Request;
use crate::plan::{self, Manifest};
use crate::render::RenderContext;
use crate::store::{Candidate, Transition};

/// How a failed job ended.
struct Failed {
    message: String,
    rollback: Rollback,
}

impl Failed {
    fn before_promotion(message: String) -> Self {
        Self { message, rollback: Rollback::NotNeeded }
    }

    /// A failure after `current` moved, and how rolling back went: when it failed, the
    /// job's error says why after the original failure.
    fn after_promotion(message: String, rolled: Result<Rollback, String>) -> Self {
        match rolled {
            Ok(rollback) => Self { message, rollback },
            Err(why) => Self { message: format!("{message}; rollback failed: {why}"), rollback: Rollback::Failed },
        }
    }
}

/// How a job ended: `Err((error, rollback))` for a failure.
pub(super) type Outcome = Result<(), (String, Rollback)>;

pub(super) fn run_apply(runner: &JobRunner, id: &JobId, input: Prepared) -> Outcome {
    runner.change(id, Command::Start, |_| {});
    let result = recover_first(runner, id).and_then(|()| apply(runner, id, input));
    result.map_err(|f| (f.message, f.rollback))
}

pub(super) fn run_activate(runner: &JobRunner, id: &JobId, generation: u64) -> Outcome {
    runner.change(id, Command::Start, |_| {});
    runner.set_generation(id, generation);
    let result = recover_first(runner, id).and_then(|()| activate_kept(runner, id, generation));
    result.map_err(|f| (f.message, f.rollback))
}

/// With the lock held, the store must be in a committed state before anything moves
/// (a rollback that failed earlier may have left a transition behind).
fn recover_first(runner: &JobRunner, id: &JobId) -> Result<(), Failed> {
    match runner.store().recover() {
        Ok(crate::store::Recovery::Clean) => Ok(()),
        Ok(done) => {
            runner.emit(id, "promote", StepStatus::Started, format!("recovered a leftover transition first: {done}"));
            Ok(())
        }
        Err(e) => Err(Failed::before_promotion(format!("recovering the state directory: {e}"))),
    }
}

/// Runs `f` as step `name`: a `started` event, then `succeeded` with its message or `failed`.
fn step<T>(
    runner: &JobRunner,
    id: &JobId,
    name: &str,
    f: impl FnOnce() -> Result<(T, String), String>,
) -> Result<T, String> {
    runner.emit(id, name, StepStatus::Started, "");
    match f() {
        Ok((value, message)) => {
            runner.emit(id, name, StepStatus::Succeeded, message);
            Ok(value)
        }
        Err(e) => {
            runner.emit(id, name, StepStatus::Failed, e.clone());
            Err(format!("{name}: {e}"))
        }
    }
}

fn apply(runner: &JobRunner, id: &JobId, input: Prepared) -> Result<(), Failed> {
    let store = runner.store();
    let context = RenderContext::for_state_dir(store.root());
    let renderer = &runner.inner.renderer;
    let rendered = step(runner, id, "render", || {
        let rendered = renderer.render(&input.config, &context)?;
        let note = renderer.describe();
        Ok((rendered.clone(), format!("{} files, {} units ({note})", rendered.files.len(), rendered.units.len())))
    })
    .map_err(Failed::before_promotion)?;

    let old = store.current_id();
    let old_manifest =
        old.map(|g| store.manifest(g)).transpose().map_err(|e| Failed::before_promotion(e.to_string()))?;
    let candidate_manifest = rendered.manifest(input.payload.clone(), &context.files_dir);
    let plan = step(runner, id, "plan", || {
        let plan = plan::diff(old_manifest.as_ref(), &candidate_manifest, &restart_services(&input.config));
        report_plan(runner, id, &plan);
        let summary = plan.summary();
        Ok((plan, summary))
    })
    .map_err(Failed::before_promotion)?;

    let candidate = Candidate {
        config_toml: &input.config_toml,
        bundle: input.bundle.as_ref().map(|(format, bytes)| (*format, bytes.as_slice())),
        rendered: &rendered,
        source: input.source.as_str(),
        created_at: super::now(),
    };
    runner.emit(id, "promote", StepStatus::Started, "");
    let staged = match store.stage(&candidate) {
        Ok(staged) => staged,
        Err(e) => {
            runner.emit(id, "promote", StepStatus::Failed, e.to_string());
            return Err(Failed::before_promotion(format!("promote: {e}")));
        }
    };
    let generation = staged.id;
    runner.set_generation(id, generation);
    if !staged.unowned.is_empty() {
        runner.emit(
            id,
            "promote",
            StepStatus::Started,
            format!("left owned by root (account missing on this host): {}", staged.unowned.join(", ")),
        );
    }
    let transition = promote(runner, id, store.promote(generation), old)?;
    let request = Request {
        state_dir: store.root().to_owned(),
        generation,
        config: input.config,
        manifest: candidate_manifest,
        plan,
        started: std::time::Instant::now(),
    };
    activate_and_commit(runner, id, &transition, request, old_manifest)
}

fn activate_kept(runner: &JobRunner, id: &JobId, generation: u64) -> Result<(), Failed> {
    let store = runner.store();
    let old = store.current_id();
    let (config, manifest, old_manifest, plan) = step(runner, id, "plan", || {
        let bytes = store.config(generation).map_err(|e| e.to_string())?;
        let config = cairn_config::validate(&bytes)
            .config
            .ok_or_else(|| format!("generation {generation}'s config.toml no longer validates"))?;
        let manifest = store.manifest(generation).map_err(|e| e.to_string())?;
        let old_manifest = old.map(|g| store.manifest(g)).transpose().map_err(|e| e.to_string())?;
        let plan = plan::diff(old_manifest.as_ref(), &manifest, &restart_services(&config));
        report_plan(runner, id, &plan);
        let summary = plan.summary();
        Ok(((config, manifest, old_manifest, plan), summary))
    })
    .map_err(Failed::before_promotion)?;
    runner.emit(id, "promote", StepStatus::Started, "");
    let transition = promote(runner, id, store.reactivate(generation), old)?;
    let request = Request {
        state_dir: store.root().to_owned(),
        generation,
        config,
        manifest,
        plan,
        started: std::time::Instant::now(),
    };
    activate_and_commit(runner, id, &transition, request, old_manifest)
}

/// Reports the flip; a flip that failed half-way is undone.
fn promote(
    runner: &JobRunner,
    id: &JobId,
    result: Result<Transition, crate::store::StoreError>,
    old: Option<u64>,
) -> Result<Transition, Failed> {
    match result {
        Ok(t) => {
            let was = old.map_or("nothing was".to_owned(), |o| format!("was generation {o}"));
            journald::record(
                journald::PROMOTED,
                5,
                &format!("generation {} is current ({was}); activating", t.target()),
                &[("CAIRN_GENERATION", t.target().to_string()), ("CAIRN_JOB", id.to_string())],
            );
            runner.emit(id, "promote", StepStatus::Succeeded, format!("generation {} is current ({was})", t.target()));
            Ok(t)
        }
        Err(e) => {
            runner.emit(id, "promote", StepStatus::Failed, e.to_string());
            // The journal may already be written: recovery semantics put everything back.
            let rollback = match runner.store().recover() {
                Ok(_) => Rollback::Completed,
                Err(_) => Rollback::Failed,
            };
            Err(Failed { message: format!("promote: {e}"), rollback })
        }
    }
}

fn activate_and_commit(
    runner: &JobRunner,
    id: &JobId,
    transition: &Transition,
    request: Request,
    old_manifest: Option<Manifest>,
) -> Result<(), Failed> {
    let activator = &runner.inner.activator;
    if let Some(reason) = activator.skipped() {
        runner.emit(id, "activate", StepStatus::Skipped, reason);
        runner.emit(id, "health", StepStatus::Skipped, reason);
    } else {
        for name in ["activate", "health"] {
            runner.emit(id, name, StepStatus::Started, "");
            let progress = |line: String| runner.emit(id, name, StepStatus::Started, line);
            let result = runner.inner.handle.block_on(async {
                match name {
                    "activate" => activator.activate(&request, &progress).await,
                    _ => activator.health(&request, &progress).await,
                }
            });
            match result {
                Ok(summary) => runner.emit(id, name, StepStatus::Succeeded, summary),
                Err(failure) => {
                    runner.emit(id, name, StepStatus::Failed, failure.to_string());
                    let rolled = roll_back(runner, id, transition, &request, old_manifest.as_ref());
                    return Err(Failed::after_promotion(format!("{name}: {}", failure.message), rolled));
                }
            }
        }
    }
    let store = runner.store();
    step(runner, id, "commit", || {
        store.commit(transition).map_err(|e| e.to_string())?;
        journald::record(
            journald::COMMITTED,
            5,
            &format!("generation {} committed", transition.target()),
            &[("CAIRN_GENERATION", transition.target().to_string()), ("CAIRN_JOB", id.to_string())],
        );
        let collected = store
            .collect()
            .map_err(|e| format!("generation {} committed; collecting old ones: {e}", transition.target()))?;
        let note =
            if collected.is_empty() { String::new() } else { format!("; removed old generations {collected:?}") };
        Ok(((), format!("generation {} committed{note}", transition.target())))
    })
    .map_err(|message| {
        // A commit that failed before its journal said `committed` is undone by recovery.
        if store.committed_ids().0 == Some(transition.target()) {
            Failed { message, rollback: Rollback::NotNeeded }
        } else {
            Failed::after_promotion(message, roll_back(runner, id, transition, &request, old_manifest.as_ref()))
        }
    })
}

/// Flips `current` back and re-activates what was running before: `Completed`, or
/// `Discarded` for a failed first apply once the units it started are stopped again;
/// `Err` says what could not be done.
fn roll_back(
    runner: &JobRunner,
    id: &JobId,
    transition: &Transition,
    failed: &Request,
    old_manifest: Option<&Manifest>,
) -> Result<Rollback, String> {
    let store = runner.store();
    runner.emit(id, "rollback", StepStatus::Started, "");
    if let Err(e) = store.undo(transition, "rolled_back") {
        runner.emit(id, "rollback", StepStatus::Failed, format!("flipping back: {e}"));
        journald::record(
            journald::ROLLBACK_FAILED,
            2,
            &format!("rolling back from generation {} failed: {e}", transition.target()),
            &[("CAIRN_GENERATION", transition.target().to_string()), ("CAIRN_JOB", id.to_string())],
        );
        return Err(format!("flipping back: {e}"));
    }
    journald::record(
        journald::ROLLED_BACK,
        4,
        &format!("generation {} failed and was rolled back", transition.target()),
        &[("CAIRN_GENERATION", transition.target().to_string()), ("CAIRN_JOB", id.to_string())],
    );
    let (outcome, restored) = match transition.from() {
        None if transition.discards_on_undo() => {
            (Rollback::Discarded, "the failed first generation was discarded; the device is unprovisioned".to_owned())
        }
        None => (Rollback::Completed, "nothing is current again".to_owned()),
        Some(g) => (Rollback::Completed, format!("generation {g} is current again")),
    };
    if let Some(reason) = runner.inner.activator.skipped() {
        runner.emit(id, "rollback", StepStatus::Succeeded, format!("{restored} ({reason})"));
        return Ok(outcome);
    }
    // The restored generation's own config decides which of its units may fail.
    let config = transition
        .from()
        .and_then(|g| store.config(g).ok())
        .and_then(|bytes| cairn_config::validate(&bytes).config)
        .unwrap_or_else(|| failed.config.clone());
    let back = Request {
        state_dir: failed.state_dir.clone(),
        generation: transition.from().unwrap_or(0),
        config,
        manifest: old_manifest.cloned().unwrap_or_default(),
        plan: plan::diff(Some(&failed.manifest), &old_manifest.cloned().unwrap_or_default(), &[]),
        started: std::time::Instant::now(),
    };
    let progress = |line: String| runner.emit(id, "rollback", StepStatus::Started, line);
    match runner.inner.handle.block_on(runner.inner.activator.activate(&back, &progress)) {
        Ok(summary) => {
            runner.emit(id, "rollback", StepStatus::Succeeded, format!("{restored}; {summary}"));
            Ok(outcome)
        }
        Err(failure) => {
            // For a discarded first apply, "re-activating" nothing means stopping what it started.
            let what = if outcome == Rollback::Discarded { "stopping its units" } else { "re-activating it" };
            runner.emit(id, "rollback", StepStatus::Failed, format!("{restored}, but {what} failed: {failure}"));
            journald::record(
                journald::ROLLBACK_FAILED,
                2,
                &format!("rolling back from generation {} failed: {what}: {}", transition.target(), failure.message),
                &[("CAIRN_GENERATION", transition.target().to_string()), ("CAIRN_JOB", id.to_string())],
            );
            Err(format!("{restored}, but {what} failed: {}", failure.message))
        }
    }
}

/// One progress event per non-empty part of the plan (`start: a.service, b.service (appsvc)`).
fn report_plan(runner: &JobRunner, id: &JobId, plan: &crate::plan::Plan) {
    for (label, units) in [("stop", &plan.stop), ("restart", &plan.restart), ("start", &plan.start)] {
        if !units.is_empty() {
            let names: Vec<String> = units.iter().map(|u| u.to_string()).collect();
            runner.emit(id, "plan", StepStatus::Started, format!("{label}: {}", names.join(", ")));
        }
    }
    if !plan.host.is_empty() {
        let names: Vec<&str> = plan.host.iter().map(|h| h.as_str()).collect();
        runner.emit(id, "plan", StepStatus::Started, format!("host settings: {}", names.join(", ")));
    }
}

/// `activation.restart` names containers; their services are `<name>.service`.
fn restart_services(config: &Config) -> Vec<String> {
    config.activation.restart.iter().map(|n| format!("{}.service", n.value)).collect()
}
