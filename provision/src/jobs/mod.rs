//! The single-flight job runner shared by the HTTP API and the CLI.
//!
//! One job at a time per state directory: an in-process guard plus an flock on
//! `<state>/lock` (held from submission to the end of the job) shut out other processes
//! (the CLI, boot recovery). Each job runs on a blocking thread; its events are kept in
//! memory, broadcast to subscribers and persisted to `<state>/jobs/<id>.json` after
//! every change. See docs/architecture/jobs.md.

mod journald;
mod lock;
mod machine;
mod pipeline;
mod prepare;
mod records;
mod task;
mod types;

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use anyhow::Context;
use tokio::sync::broadcast;

pub use records::KEEP_JOBS;
pub use types::{
    ActivatorKind, BadJobId, JobEvent, JobId, JobKind, JobSnapshot, JobState, Rollback, Source, StepStatus, Submission,
    SubmitError,
};

use crate::activate::{Activate, NoActivator, systemd::SystemdActivator};
use crate::render::{self, Render};
use crate::store::{Recovery, Store};
use lock::StateLock;
use machine::{Command, transition};
use task::JobTask;

/// Runs apply and activate jobs against one state directory. Cheap to clone.
#[derive(Clone, Debug)]
pub struct JobRunner {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    activator: Box<dyn Activate>,
    renderer: Box<dyn Render>,
    handle: tokio::runtime::Handle,
    table: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    jobs: HashMap<JobId, Entry>,
    /// Oldest first.
    order: VecDeque<JobId>,
    active: Option<JobId>,
}

#[derive(Debug)]
struct Entry {
    snapshot: JobSnapshot,
    events: broadcast::Sender<JobEvent>,
    created: Option<Instant>,
}

impl JobRunner {
    /// Opens the state dir (creating it), runs boot recovery first (unless another
    /// process holds the lock, i.e. is running a job), and loads kept job records. Must be
    /// called inside a tokio runtime.
    pub fn open(state_dir: &Path, activator: ActivatorKind) -> anyhow::Result<Self> {
        let activator: Box<dyn Activate> = match activator {
            ActivatorKind::None => Box::new(NoActivator),
            ActivatorKind::Systemd => Box::new(SystemdActivator::default()),
        };
        Self::with_parts(state_dir, activator, render::default_renderer())
    }

    /// [`JobRunner::open`] with an explicit activator and renderer (tests, tools).
    #[doc(hidden)]
    pub fn with_parts(
        state_dir: &Path,
        activator: Box<dyn Activate>,
        renderer: Box<dyn Render>,
    ) -> anyhow::Result<Self> {
        let handle = tokio::runtime::Handle::try_current().context("the job runner needs a tokio runtime")?;
        let store =
            Store::open(state_dir).with_context(|| format!("opening state directory {}", state_dir.display()))?;
        let recovered = match StateLock::try_acquire_briefly(&store.lock_path(), "recover")
            .with_context(|| format!("locking {}", store.lock_path().display()))?
        {
            Ok(_lock) => Some(store.recover().context("recovering the state directory")?),
            Err(_held) => None,
        };
        let runner = Self { inner: Arc::new(Inner { store, activator, renderer, handle, table: Mutex::default() }) };
        runner.load_records(recovered.as_ref());
        Ok(runner)
    }

    /// Validates synchronously (so callers can answer 422 at once), then queues an apply job.
    pub fn submit_apply(&self, submission: Submission) -> Result<JobSnapshot, SubmitError> {
        let prepared = prepare::prepare(&submission)?;
        let (id, lock) = self.begin()?;
        let warnings = prepared.warnings.clone();
        let message = match warnings.len() {
            0 => "valid".to_owned(),
            n => format!("valid with {n} warning{}", if n == 1 { "" } else { "s" }),
        };
        let snapshot = self.register(&id, JobKind::Apply, warnings);
        self.emit(&id, "validate", StepStatus::Succeeded, message);
        let task = JobTask::new(self.clone(), id, lock);
        self.inner.handle.spawn_blocking(move || task.run(|runner, id| pipeline::run_apply(runner, id, prepared)));
        Ok(snapshot)
    }

    /// Queues a job that re-activates a kept generation (rollback or forward).
    pub fn submit_activate(&self, generation: u64) -> Result<JobSnapshot, SubmitError> {
        if !self.inner.store.exists(generation) {
            return Err(SubmitError::UnknownGeneration { id: generation });
        }
        let (id, lock) = self.begin()?;
        let snapshot = self.register(&id, JobKind::Activate, Vec::new());
        let task = JobTask::new(self.clone(), id, lock);
        self.inner.handle.spawn_blocking(move || task.run(|runner, id| pipeline::run_activate(runner, id, generation)));
        Ok(snapshot)
    }

    /// A job of this process, or one another process (the CLI) recorded on disk.
    pub fn job(&self, id: &JobId) -> Option<JobSnapshot> {
        let known = self.table().jobs.get(id).map(|e| e.snapshot.clone());
        known.or_else(|| records::load_one(&self.inner.store.jobs_dir(), id))
    }

    /// Events so far plus a live receiver; the stream ends with a terminal event (step
    /// `done`). When the events so far already end with `done`, nothing more will come.
    pub fn subscribe(&self, id: &JobId) -> Option<(Vec<JobEvent>, broadcast::Receiver<JobEvent>)> {
        let table = self.table();
        match table.jobs.get(id) {
            Some(entry) => Some((entry.snapshot.events.clone(), entry.events.subscribe())),
            // Another process's job: what it recorded so far; nothing live arrives here.
            None => {
                records::load_one(&self.inner.store.jobs_dir(), id).map(|job| (job.events, broadcast::channel(1).1))
            }
        }
    }

    /// Kept jobs, newest first.
    pub fn jobs(&self) -> Vec<JobSnapshot> {
        let table = self.table();
        table.order.iter().rev().filter_map(|id| table.jobs.get(id).map(|e| e.snapshot.clone())).collect()
    }

    /// The job running now, if any (in this process).
    pub fn active(&self) -> Option<JobId> {
        self.table().active.clone()
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.inner.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Claims single-flight: the in-process guard first, then the state flock.
    fn begin(&self) -> Result<(JobId, StateLock), SubmitError> {
        let mut table = self.table();
        if let Some(running) = &table.active {
            return Err(SubmitError::Busy { running: running.clone() });
        }
        let id = JobId::random().map_err(|e| SubmitError::Internal(e.into()))?;
        let lock_path = self.inner.store.lock_path();
        let lock = match StateLock::try_acquire_briefly(&lock_path, id.as_str()) {
            Ok(Ok(lock)) => lock,
            Ok(Err(held)) => {
                return Err(SubmitError::Busy { running: held.holder.parse().unwrap_or_else(|_| JobId::unknown()) });
            }
            Err(e) => {
                return Err(SubmitError::Internal(
                    anyhow::Error::new(e).context(format!("locking {}", lock_path.display())),
                ));
            }
        };
        table.active = Some(id.clone());
        Ok((id, lock))
    }

    fn register(&self, id: &JobId, kind: JobKind, warnings: Vec<cairn_config::Diagnostic>) -> JobSnapshot {
        let snapshot = JobSnapshot {
            id: id.clone(),
            kind,
            state: JobState::Queued,
            step: None,
            events: Vec::new(),
            warnings,
            error: None,
            rollback: Rollback::NotNeeded,
            generation: None,
            created_at: now(),
            finished_at: None,
        };
        let mut table = self.table();
        table.jobs.insert(
            id.clone(),
            Entry { snapshot: snapshot.clone(), events: broadcast::channel(256).0, created: Some(Instant::now()) },
        );
        table.order.push_back(id.clone());
        self.prune(&mut table);
        self.persist(&snapshot);
        snapshot
    }

    /// Appends an event, persists the record and broadcasts the event.
    fn emit(&self, id: &JobId, step: &str, status: StepStatus, message: impl Into<String>) {
        let mut table = self.table();
        let Some(entry) = table.jobs.get_mut(id) else { return };
        let event = JobEvent {
            seq: entry.snapshot.events.len() as u64 + 1,
            step: step.to_owned(),
            status,
            message: message.into(),
            elapsed_ms: entry.created.map_or(0, |c| c.elapsed().as_millis() as u64),
            at: now(),
        };
        entry.snapshot.step = Some(step.to_owned());
        entry.snapshot.events.push(event.clone());
        let _ = entry.events.send(event);
        let snapshot = entry.snapshot.clone();
        drop(table);
        self.persist(&snapshot);
    }

    /// Changes a job through the state machine; other fields through `update`.
    fn change(&self, id: &JobId, command: Command, update: impl FnOnce(&mut JobSnapshot)) {
        let mut table = self.table();
        let Some(entry) = table.jobs.get_mut(id) else { return };
        match transition(command, entry.snapshot.state) {
            Ok(state) => entry.snapshot.state = state,
            Err(rejected) => eprintln!("job {id}: {rejected}"),
        }
        update(&mut entry.snapshot);
        let snapshot = entry.snapshot.clone();
        drop(table);
        self.persist(&snapshot);
    }

    fn set_generation(&self, id: &JobId, generation: u64) {
        let mut table = self.table();
        if let Some(entry) = table.jobs.get_mut(id) {
            entry.snapshot.generation = Some(generation);
        }
    }

    /// Ends a job: releases the state lock, then in one step sets the final state, appends
    /// the `done` event and frees single-flight, so whoever sees the final state can
    /// submit the next job at once.
    fn finish(&self, id: &JobId, lock: StateLock, result: Result<(), String>, rollback: Rollback) {
        drop(lock);
        let (command, status, message) = match &result {
            Ok(()) => (Command::Succeed, StepStatus::Succeeded, "succeeded".to_owned()),
            Err(e) => (Command::Fail, StepStatus::Failed, format!("failed: {e}")),
        };
        let mut table = self.table();
        if table.active.as_ref() == Some(id) {
            table.active = None;
        }
        let Some(entry) = table.jobs.get_mut(id) else { return };
        match transition(command, entry.snapshot.state) {
            Ok(state) => entry.snapshot.state = state,
            Err(rejected) => eprintln!("job {id}: {rejected}"),
        }
        let job = &mut entry.snapshot;
        job.error = result.err();
        job.rollback = rollback;
        job.finished_at = Some(now());
        let event = JobEvent {
            seq: job.events.len() as u64 + 1,
            step: "done".to_owned(),
            status,
            message,
            elapsed_ms: entry.created.map_or(0, |c| c.elapsed().as_millis() as u64),
            at: now(),
        };
        job.events.push(event.clone());
        let snapshot = job.clone();
        // Persist before anyone can observe the end, so a record never lags the API.
        self.persist(&snapshot);
        let _ = entry.events.send(event);
    }

    fn persist(&self, job: &JobSnapshot) {
        if let Err(e) = records::save(&self.inner.store.jobs_dir(), job) {
            eprintln!("job {}: persisting its record: {e}", job.id);
        }
    }

    fn prune(&self, table: &mut Table) {
        while table.order.len() > KEEP_JOBS {
            let Some(oldest) = table.order.front().cloned() else { break };
            if table.active.as_ref() == Some(&oldest) {
                break;
            }
            table.order.pop_front();
            table.jobs.remove(&oldest);
            if let Err(e) = records::remove(&self.inner.store.jobs_dir(), &oldest) {
                eprintln!("removing job record {oldest}: {e}");
            }
        }
    }

    /// Loads kept records; a job left `queued`/`running` by a stopped service is marked
    /// failed, with what recovery found (only when this process ran recovery).
    fn load_records(&self, recovered: Option<&Recovery>) {
        let (jobs, problems) = records::load(&self.inner.store.jobs_dir());
        for p in problems {
            eprintln!("skipping unreadable job record {p}");
        }
        let current = self.inner.store.committed_ids().0;
        let mut table = self.table();
        for mut job in jobs {
            let unfinished = matches!(job.state, JobState::Queued | JobState::Running);
            if let (true, Some(recovery)) = (unfinished, recovered) {
                let stage = job.step.clone().unwrap_or_else(|| "queued".to_owned());
                job.state = transition(Command::Fail, job.state).unwrap_or(JobState::Failed);
                job.rollback = match (job.generation, current) {
                    (None, _) => Rollback::NotNeeded,
                    (Some(g), Some(c)) if g == c => Rollback::NotNeeded,
                    (Some(_), None) => Rollback::Discarded,
                    (Some(_), Some(_)) => Rollback::Completed,
                };
                let now_current = current.map_or("none (unprovisioned)".to_owned(), |c| format!("generation {c}"));
                job.error = Some(format!(
                    "interrupted: the provision service stopped during step {stage}; recovery at start: {recovery}; \
                     current is {now_current}"
                ));
                job.finished_at = Some(now());
                job.events.push(JobEvent {
                    seq: job.events.len() as u64 + 1,
                    step: "done".to_owned(),
                    status: StepStatus::Failed,
                    message: job.error.clone().unwrap_or_default(),
                    elapsed_ms: job.events.last().map_or(0, |e| e.elapsed_ms),
                    at: now(),
                });
                self.persist(&job);
            }
            table.order.push_back(job.id.clone());
            table.jobs.insert(job.id.clone(), Entry { snapshot: job, events: broadcast::channel(1).0, created: None });
        }
        self.prune(&mut table);
    }
}

/// RFC 3339 UTC with milliseconds (sorts lexicographically).
pub(crate) fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// Waits for the state lock (CLI commands that mutate the store outside a job).
pub(crate) fn hold_state_lock(store: &Store, holder: &str) -> anyhow::Result<impl std::fmt::Debug> {
    StateLock::acquire(&store.lock_path(), holder).with_context(|| format!("locking {}", store.lock_path().display()))
}
