//! The job state machine: every change of a job's state goes through [`transition`],
//! which accepts exactly the documented moves and rejects everything else.

use super::types::JobState;

/// What happens to a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// The runner picked it up.
    Start,
    /// Every step passed (or was skipped in dev mode).
    Succeed,
    /// A step failed, or the service stopped while it ran.
    Fail,
}

/// A move the state machine does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a {state:?} job cannot {command:?}")]
pub(crate) struct Rejected {
    pub(crate) command: Command,
    pub(crate) state: JobState,
}

/// `queued → running → succeeded | failed`; a queued job may also fail (interrupted before it ran).
pub(crate) fn transition(command: Command, state: JobState) -> Result<JobState, Rejected> {
    match (command, state) {
        (Command::Start, JobState::Queued) => Ok(JobState::Running),
        (Command::Succeed, JobState::Running) => Ok(JobState::Succeeded),
        (Command::Fail, JobState::Queued | JobState::Running) => Ok(JobState::Failed),
        (command, state) => Err(Rejected { command, state }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_documented_moves_are_allowed() {
        use Command::*;
        use JobState::*;
        assert_eq!(transition(Start, Queued), Ok(Running));
        assert_eq!(transition(Succeed, Running), Ok(Succeeded));
        assert_eq!(transition(Fail, Running), Ok(Failed));
        assert_eq!(transition(Fail, Queued), Ok(Failed));
        for (command, state) in [
            (Start, Running),
            (Start, Succeeded),
            (Start, Failed),
            (Succeed, Queued),
            (Succeed, Succeeded),
            (Succeed, Failed),
            (Fail, Succeeded),
            (Fail, Failed),
        ] {
            assert_eq!(transition(command, state), Err(Rejected { command, state }));
        }
    }
}
