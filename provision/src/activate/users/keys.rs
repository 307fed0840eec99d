//! Writing `~/.ssh/authorized_keys` as root into a directory its user controls, without
//! following links: a user who replaced `.ssh` (or the file) with a symlink must not make
//! root write elsewhere. Directory descriptors are opened with O_NOFOLLOW and the file
//! is written beside its final name, then renamed over it (never truncated in place).

use std::fs::File;
use std::io::Write;
use std::path::Path;

use rustix::fs::{AtFlags, Gid, Mode, OFlags, Uid};
use rustix::io::Errno;

const DIR: OFlags = OFlags::DIRECTORY.union(OFlags::NOFOLLOW).union(OFlags::RDONLY).union(OFlags::CLOEXEC);

/// Replaces `<home>/.ssh/authorized_keys` with `contents`, owned by uid:gid, mode 0600
/// (`.ssh` is created 0700 when missing).
pub(crate) fn write(home: &Path, uid: u32, gid: u32, contents: &str) -> Result<(), String> {
    let fail = |what: &str, e: Errno| format!("{what} {}/.ssh: {e}", home.display());
    let home_fd = rustix::fs::open(home, DIR, Mode::empty()).map_err(|e| fail("opening the home of", e))?;
    match rustix::fs::mkdirat(&home_fd, ".ssh", Mode::from_raw_mode(0o700)) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(fail("creating", e)),
    }
    let ssh = rustix::fs::openat(&home_fd, ".ssh", DIR, Mode::empty())
        .map_err(|e| fail("opening (a symlink is refused)", e))?;
    let owner = (Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)));
    rustix::fs::fchown(&ssh, owner.0, owner.1).map_err(|e| fail("chowning", e))?;
    rustix::fs::fchmod(&ssh, Mode::from_raw_mode(0o700)).map_err(|e| fail("chmod of", e))?;
    let tmp = ".authorized_keys.cairn-tmp";
    match rustix::fs::unlinkat(&ssh, tmp, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => return Err(fail("clearing a temporary file in", e)),
    }
    let flags = OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(&ssh, tmp, flags, Mode::from_raw_mode(0o600))
        .map_err(|e| fail("creating authorized_keys in", e))?;
    rustix::fs::fchown(&fd, owner.0, owner.1).map_err(|e| fail("chowning authorized_keys in", e))?;
    let mut file = File::from(fd);
    file.write_all(contents.as_bytes()).map_err(|e| format!("writing {}/.ssh/authorized_keys: {e}", home.display()))?;
    file.sync_all().map_err(|e| format!("syncing {}/.ssh/authorized_keys: {e}", home.display()))?;
    rustix::fs::renameat(&ssh, tmp, &ssh, "authorized_keys").map_err(|e| fail("renaming authorized_keys in", e))?;
    rustix::fs::fsync(&ssh).map_err(|e| fail("syncing", e))
}
