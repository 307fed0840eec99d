//! PASS/FAIL lines per check and the closing `N passed, N failed` line.

use std::time::Instant;

/// Collects the outcome of each check of one suite.
#[derive(Debug)]
pub struct Report {
    suite: String,
    passed: usize,
    failed: usize,
    started: Instant,
}

impl Report {
    pub fn new(suite: &str) -> Self {
        println!("== suite {suite}");
        Self { suite: suite.to_owned(), passed: 0, failed: 0, started: Instant::now() }
    }

    pub fn pass(&mut self, name: &str) {
        self.passed += 1;
        println!("PASS: {name} ({:.0} s)", self.started.elapsed().as_secs_f64());
    }

    pub fn fail(&mut self, name: &str, why: &str) {
        self.failed += 1;
        println!("FAIL: {name}: {why}");
    }

    /// Record `result` under `name`; returns whether it passed.
    pub fn check(&mut self, name: &str, result: anyhow::Result<()>) -> bool {
        match result {
            Ok(()) => {
                self.pass(name);
                true
            }
            Err(e) => {
                self.fail(name, &format!("{e:#}"));
                false
            }
        }
    }

    /// [`Report::check`] for a result carrying a value: `Some(value)` when it passed.
    pub fn check_value<T>(&mut self, name: &str, result: anyhow::Result<T>) -> Option<T> {
        match result {
            Ok(value) => {
                self.pass(name);
                Some(value)
            }
            Err(e) => {
                self.fail(name, &format!("{e:#}"));
                None
            }
        }
    }

    pub fn failed(&self) -> usize {
        self.failed
    }

    /// Print the summary; true when nothing failed and at least one check ran.
    pub fn finish(&self) -> bool {
        println!("suite {} took {:.0} s", self.suite, self.started.elapsed().as_secs_f64());
        println!("{} passed, {} failed", self.passed, self.failed);
        self.failed == 0 && self.passed > 0
    }
}
