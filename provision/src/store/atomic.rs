//! The one audited place that makes writes durable: atomic file replacement, symlink
//! flips and directory fsyncs. Every byte the store persists goes through here, so the
//! fsync discipline cannot drift between callers.
//!
//! The order is always: temp file in the same directory → write → set mode → fsync the
//! file → rename over the target → fsync the directory. A reader sees the old file or
//! the new one, never a truncated mix, and after the directory fsync the rename survives
//! power loss.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Replaces `path` with `bytes` atomically and durably, with permission bits `mode`.
pub(crate) fn write_file(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let dir = parent(path)?;
    let tmp = temp_name(path);
    // A crash between creating and renaming the temp file leaves it behind; callers hold
    // the state lock, so a temp file found here is stale.
    let _ = fs::remove_file(&tmp);
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).mode(mode).open(&tmp)?;
        file.write_all(bytes)?;
        // The umask may have narrowed `mode` at creation; set it exactly.
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(dir)
}

/// Writes a new file that must not exist yet (staging), durably but without a rename:
/// the containing directory is renamed into place as a whole later.
pub(crate) fn create_file(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).mode(mode).open(path)?;
    file.write_all(bytes)?;
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    file.sync_all()
}

/// Streams `data` into a new file (bundle payload), durably.
pub(crate) fn create_file_from(path: &Path, data: &mut dyn io::Read, mode: u32) -> io::Result<u64> {
    let mut file = OpenOptions::new().write(true).create_new(true).mode(mode).open(path)?;
    let n = io::copy(data, &mut file)?;
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    file.sync_all()?;
    Ok(n)
}

/// Points the symlink `link` at `target` with one rename(2) of a temporary symlink,
/// then fsyncs the directory: the pointer is always either the old or the new target.
pub(crate) fn flip_symlink(link: &Path, target: &Path) -> io::Result<()> {
    let dir = parent(link)?;
    let tmp = temp_name(link);
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)?;
    if let Err(e) = fs::rename(&tmp, link) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(dir)
}

/// Removes a file or symlink if present, then fsyncs its directory.
pub(crate) fn remove_file(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => sync_dir(parent(path)?),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Renames `from` to `to` (same file system) and fsyncs the directory of both.
pub(crate) fn rename(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)?;
    let to_dir = parent(to)?;
    sync_dir(to_dir)?;
    let from_dir = parent(from)?;
    if from_dir != to_dir { sync_dir(from_dir) } else { Ok(()) }
}

/// fsyncs a directory so that entries created, renamed or removed in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Creates a directory (and parents) with `mode`, fsyncing the parent of the new one.
pub(crate) fn create_dir(path: &Path, mode: u32) -> io::Result<()> {
    match fs::create_dir(path) {
        Ok(()) => {
            fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
            sync_dir(parent(path)?)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            create_dir(parent(path)?, mode)?;
            create_dir(path, mode)
        }
        Err(e) => Err(e),
    }
}

fn parent(path: &Path) -> io::Result<&Path> {
    match path.parent() {
        Some(p) if p.as_os_str().is_empty() => Ok(Path::new(".")),
        Some(p) => Ok(p),
        None => Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{} has no parent directory", path.display()))),
    }
}

/// `.<name>.tmp` beside the target: same directory, so rename(2) is atomic; a dot name
/// so listings of generations never mistake it for real state.
fn temp_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_file_replaces_and_sets_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write_file(&path, b"one", 0o600).unwrap();
        write_file(&path, b"two", 0o644).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o644);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left behind");
    }

    #[test]
    fn a_temp_file_left_by_a_crash_does_not_block_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        fs::write(dir.path().join(".journal.tmp"), b"half").unwrap();
        write_file(&path, b"whole", 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"whole");
        assert!(!dir.path().join(".journal.tmp").exists());
    }

    #[test]
    fn flip_symlink_replaces_the_pointer() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("current");
        flip_symlink(&link, Path::new("generations/1")).unwrap();
        flip_symlink(&link, Path::new("generations/2")).unwrap();
        assert_eq!(fs::read_link(&link).unwrap(), Path::new("generations/2"));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
