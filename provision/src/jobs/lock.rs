//! The state lock: an exclusive flock on `<state>/lock`, held for the whole of a job (or
//! a recovery), so the API, the CLI and boot recovery never mutate the store at once.
//! The holder writes its job id into the file so a refused caller can say who is busy.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use rustix::fs::{FlockOperation, flock};

/// Held while alive; the kernel releases it when the file closes (also on crash).
#[derive(Debug)]
pub(crate) struct StateLock {
    _file: File,
}

/// Someone else holds the lock.
#[derive(Debug)]
pub(crate) struct Held {
    /// What the holder wrote into the lock file (a job id, or `recover`).
    pub(crate) holder: String,
}

impl StateLock {
    /// Takes the lock without waiting. `Ok(Err(Held))` when another holder has it.
    pub(crate) fn try_acquire(path: &Path, holder: &str) -> io::Result<Result<Self, Held>> {
        let mut file = open(path)?;
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Ok(Err(Held { holder: text.trim().to_owned() }));
            }
            Err(e) => return Err(e.into()),
        }
        label(&mut file, holder)?;
        Ok(Ok(Self { _file: file }))
    }

    /// [`StateLock::try_acquire`], retried for up to 200 ms. A process that forks (any
    /// `Command::spawn`) holds a copy of every open lock until its child execs; that
    /// window must not turn into a spurious "busy". A real job holds it far longer.
    pub(crate) fn try_acquire_briefly(path: &Path, holder: &str) -> io::Result<Result<Self, Held>> {
        let mut attempt = 0;
        loop {
            match Self::try_acquire(path, holder)? {
                Err(held) if attempt < 20 => {
                    attempt += 1;
                    let _ = held;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                result => return Ok(result),
            }
        }
    }

    /// Waits for the lock (boot recovery and CLI commands).
    pub(crate) fn acquire(path: &Path, holder: &str) -> io::Result<Self> {
        let mut file = open(path)?;
        flock(&file, FlockOperation::LockExclusive)?;
        label(&mut file, holder)?;
        Ok(Self { _file: file })
    }
}

fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).open(path)
}

/// The lock file holds only a label, not state: rewriting it in place is fine.
fn label(file: &mut File, holder: &str) -> io::Result<()> {
    file.set_len(0)?;
    file.rewind()?;
    file.write_all(holder.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_told_who_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let first = StateLock::try_acquire(&path, "job-a").unwrap().unwrap();
        let refused = StateLock::try_acquire(&path, "job-b").unwrap().unwrap_err();
        assert_eq!(refused.holder, "job-a");
        drop(first);
        assert!(StateLock::try_acquire(&path, "job-b").unwrap().is_ok());
    }
}
