//! Shared test doubles: a renderer that writes one unit file per container, and an
//! activator whose health check passes or fails on demand.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use cairn_config::Config;
use provision::activate::{Activate, BoxFuture, Failure, Progress, Request};
use provision::jobs::{JobRunner, JobSnapshot, JobState, Source, Submission};
use provision::plan::{UnitEntry, UnitMode, sha256_hex};
use provision::render::{Render, RenderContext, Rendered, RenderedFile};

pub const MINIMAL: &[u8] = include_bytes!("../../../config/tests/fixtures/valid/minimal.toml");
pub const FULL: &[u8] = include_bytes!("../../../config/tests/fixtures/valid/full.toml");

pub fn submission(bytes: &[u8]) -> Submission {
    Submission { bytes: bytes.to_vec(), source: Source::Cli }
}

/// Waits (up to 5 s) for a job to end.
pub async fn wait(runner: &JobRunner, job: &JobSnapshot) -> JobSnapshot {
    for _ in 0..500 {
        let now = runner.job(&job.id).unwrap();
        if matches!(now.state, JobState::Succeeded | JobState::Failed) {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("job {} did not end", job.id);
}

pub fn runner(dir: &Path, fail_health: bool) -> JobRunner {
    JobRunner::with_parts(dir, Box::new(Scripted { fail_health }), Box::new(OneUnitPerContainer)).unwrap()
}

/// One unit per container, contents derived from the config so edits change hashes.
#[derive(Debug)]
pub struct OneUnitPerContainer;

impl Render for OneUnitPerContainer {
    fn describe(&self) -> &'static str {
        "test renderer"
    }
    fn render(&self, config: &Config, _: &RenderContext) -> Result<Rendered, String> {
        let mut rendered = Rendered::default();
        for unit in config.containers.containers() {
            let name = &unit.name.value;
            let contents = format!("[Container]\n# {unit:?}\n").into_bytes();
            let path = format!("quadlet/{name}.container");
            rendered.units.push(UnitEntry {
                kind: "container".into(),
                name: name.clone(),
                mode: UnitMode::Rootful,
                service: format!("{name}.service"),
                path: path.clone(),
                sha256: sha256_hex(&contents),
                uses_payload: false,
            });
            rendered.files.push(RenderedFile { path, contents, mode: 0o644, owner: None });
        }
        rendered.files.push(RenderedFile {
            path: "users.json".into(),
            contents: b"{}".to_vec(),
            mode: 0o600,
            owner: None,
        });
        rendered.manifest_json = serde_json::to_vec(&serde_json::json!({ "units": rendered.units })).unwrap();
        Ok(rendered)
    }
}

/// Activates fine; health fails while `fail_health` says so.
#[derive(Debug)]
pub struct Scripted {
    pub fail_health: bool,
}

impl Activate for Scripted {
    fn skipped(&self) -> Option<&'static str> {
        None
    }
    fn activate<'a>(&'a self, r: &'a Request, p: Progress<'a>) -> BoxFuture<'a, Result<String, Failure>> {
        Box::pin(async move {
            p(format!("would start {}", r.plan.start.len()));
            Ok(r.plan.summary())
        })
    }
    fn health<'a>(&'a self, _: &'a Request, _: Progress<'a>) -> BoxFuture<'a, Result<String, Failure>> {
        let fail = self.fail_health;
        Box::pin(async move {
            if fail {
                Err(Failure { message: "web.service failed".into(), details: vec!["journal: boom".into()] })
            } else {
                Ok("healthy".into())
            }
        })
    }
}
