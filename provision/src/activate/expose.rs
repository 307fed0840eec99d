//! Exposing `current`'s units to systemd: one symlink per unit file in the runtime
//! directories the managers and the Quadlet generator read, each pointing through
//! `<state>/current/rendered/…`. A flip of `current` changes what the links resolve to;
//! syncing the links adds new files and removes the ones the generation no longer has.
//! Only links pointing into our tree are ever removed: other files there are left alone.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Where each part of `rendered/` is exposed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeDirs {
    /// `quadlet/rootful` → `/run/containers/systemd` (system Quadlet generator).
    pub rootful_quadlet: PathBuf,
    /// `quadlet/rootless` → `/run/user/<uid>/containers/systemd` (appsvc's generator).
    pub rootless_quadlet: Option<PathBuf>,
    /// `systemd` → `/run/systemd/system` (native units of the system manager).
    pub system_units: PathBuf,
}

impl RuntimeDirs {
    /// The device's directories; rootless units need appsvc's uid.
    pub fn device(rootless_uid: Option<u32>) -> Self {
        Self {
            rootful_quadlet: "/run/containers/systemd".into(),
            rootless_quadlet: rootless_uid.map(|uid| PathBuf::from(format!("/run/user/{uid}/containers/systemd"))),
            system_units: "/run/systemd/system".into(),
        }
    }
}

/// What one sync changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exposed {
    pub linked: Vec<PathBuf>,
    pub removed: Vec<PathBuf>,
}

/// Makes the runtime directories show exactly the unit files of `<state>/current`.
/// `rootless_owner` (uid, gid) owns a created rootless directory.
pub fn sync(state_dir: &Path, dirs: &RuntimeDirs, rootless_owner: Option<(u32, u32)>) -> io::Result<Exposed> {
    // Links must be absolute: they are read from other directories.
    let rendered = std::path::absolute(state_dir)?.join("current/rendered");
    let mut exposed = Exposed::default();
    sync_one(&rendered.join("quadlet/rootful"), &dirs.rootful_quadlet, None, &mut exposed)?;
    if let Some(dir) = &dirs.rootless_quadlet {
        sync_one(&rendered.join("quadlet/rootless"), dir, rootless_owner, &mut exposed)?;
    }
    sync_one(&rendered.join("systemd"), &dirs.system_units, None, &mut exposed)?;
    Ok(exposed)
}

fn sync_one(source: &Path, target: &Path, owner: Option<(u32, u32)>, out: &mut Exposed) -> io::Result<()> {
    // The names `current` now holds (none when the generation has no such directory).
    let wanted: Vec<String> = match fs::read_dir(source) {
        Ok(entries) => entries.flatten().filter_map(|e| e.file_name().into_string().ok()).collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    if wanted.is_empty() && !target.exists() {
        return Ok(());
    }
    if !target.exists() {
        create_owned(target, owner)?;
    }
    for entry in fs::read_dir(target)?.flatten() {
        let path = entry.path();
        let Ok(points_to) = fs::read_link(&path) else { continue };
        let ours = points_to.parent() == Some(source);
        let name = entry.file_name().into_string().unwrap_or_default();
        if ours && !wanted.contains(&name) {
            fs::remove_file(&path)?;
            out.removed.push(path);
        }
    }
    for name in wanted {
        let link = target.join(&name);
        let want = source.join(&name);
        match fs::read_link(&link) {
            Ok(existing) if existing == want => continue,
            Ok(_) => fs::remove_file(&link)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(_) => {
                // A real file of the same name that is not ours: never overwrite it.
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a link Cairn made", link.display()),
                ));
            }
        }
        std::os::unix::fs::symlink(&want, &link)?;
        out.linked.push(link);
    }
    Ok(())
}

/// Creates `dir` and its missing parents, each owned by `owner` when given: podman run
/// as appsvc creates siblings of `containers/systemd` (its run root
/// `/run/user/<uid>/containers`), so no directory it needs may be left to root.
fn create_owned(dir: &Path, owner: Option<(u32, u32)>) -> io::Result<()> {
    let missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
    for d in missing.into_iter().rev() {
        match fs::create_dir(d) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
        if let Some((uid, gid)) = owner {
            rustix::fs::chown(d, Some(rustix::fs::Uid::from_raw(uid)), Some(rustix::fs::Gid::from_raw(gid)))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn links_follow_current_and_foreign_files_are_left_alone() {
        let state = tempfile::tempdir().unwrap();
        let run = tempfile::tempdir().unwrap();
        let dirs = RuntimeDirs {
            rootful_quadlet: run.path().join("containers/systemd"),
            rootless_quadlet: Some(run.path().join("user/containers/systemd")),
            system_units: run.path().join("systemd/system"),
        };
        let g1 = state.path().join("generations/1/rendered");
        write(&g1.join("quadlet/rootful/db.container"), "db");
        write(&g1.join("quadlet/rootless/web.container"), "web");
        write(&g1.join("systemd/cairn-kiosk.service"), "kiosk");
        let g2 = state.path().join("generations/2/rendered");
        write(&g2.join("quadlet/rootful/db.container"), "db2");
        write(&g2.join("quadlet/rootful/cache.container"), "cache");
        std::os::unix::fs::symlink("generations/1", state.path().join("current")).unwrap();
        write(&dirs.system_units.join("operator.service"), "not ours");

        let first = sync(state.path(), &dirs, None).unwrap();
        assert_eq!(first.linked.len(), 3);
        assert_eq!(fs::read_to_string(dirs.rootful_quadlet.join("db.container")).unwrap(), "db");
        assert_eq!(fs::read_to_string(dirs.system_units.join("cairn-kiosk.service")).unwrap(), "kiosk");

        fs::remove_file(state.path().join("current")).unwrap();
        std::os::unix::fs::symlink("generations/2", state.path().join("current")).unwrap();
        // The flip alone changes what existing links show.
        assert_eq!(fs::read_to_string(dirs.rootful_quadlet.join("db.container")).unwrap(), "db2");
        let second = sync(state.path(), &dirs, None).unwrap();
        assert_eq!(second.linked, vec![dirs.rootful_quadlet.join("cache.container")]);
        let mut removed = second.removed.clone();
        removed.sort();
        assert_eq!(
            removed,
            vec![
                dirs.system_units.join("cairn-kiosk.service"),
                run.path().join("user/containers/systemd/web.container")
            ]
        );
        assert_eq!(fs::read_to_string(dirs.system_units.join("operator.service")).unwrap(), "not ours");
        assert_eq!(sync(state.path(), &dirs, None).unwrap(), Exposed::default(), "a second sync changes nothing");
    }

    #[test]
    fn a_foreign_file_with_a_rendered_name_is_an_error_not_overwritten() {
        let state = tempfile::tempdir().unwrap();
        let run = tempfile::tempdir().unwrap();
        let dirs = RuntimeDirs {
            rootful_quadlet: run.path().join("q"),
            rootless_quadlet: None,
            system_units: run.path().join("s"),
        };
        write(&state.path().join("generations/1/rendered/quadlet/rootful/db.container"), "db");
        std::os::unix::fs::symlink("generations/1", state.path().join("current")).unwrap();
        write(&dirs.rootful_quadlet.join("db.container"), "operator's");
        assert!(sync(state.path(), &dirs, None).is_err());
        assert_eq!(fs::read_to_string(dirs.rootful_quadlet.join("db.container")).unwrap(), "operator's");
    }

    #[test]
    fn every_directory_created_for_rootless_units_belongs_to_their_owner() {
        let state = tempfile::tempdir().unwrap();
        let run = tempfile::tempdir().unwrap();
        let user_dir = run.path().join("user/900");
        fs::create_dir_all(&user_dir).unwrap();
        let dirs = RuntimeDirs {
            rootful_quadlet: run.path().join("q"),
            rootless_quadlet: Some(user_dir.join("containers/systemd")),
            system_units: run.path().join("s"),
        };
        write(&state.path().join("generations/1/rendered/quadlet/rootless/web.container"), "web");
        std::os::unix::fs::symlink("generations/1", state.path().join("current")).unwrap();
        // An owner other than the test's own user shows the chown happened (tests run as
        // root in CI; elsewhere the owner is the current user, and the check still holds).
        let me = rustix::process::geteuid().as_raw();
        let owner = if me == 0 { (900, 900) } else { (me, rustix::process::getegid().as_raw()) };
        sync(state.path(), &dirs, Some(owner)).unwrap();
        use std::os::unix::fs::MetadataExt;
        for dir in [user_dir.join("containers"), user_dir.join("containers/systemd")] {
            let meta = fs::metadata(&dir).unwrap();
            assert_eq!((meta.uid(), meta.gid()), owner, "{} is not owned by the rootless user", dir.display());
        }
        let parent = fs::metadata(&user_dir).unwrap();
        assert_eq!(parent.uid(), me, "an existing parent is left as it was");
    }
}
