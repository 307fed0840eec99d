//! The appliance image: content hash of its inputs, cache lookup, build.
//!
//! Inputs: every file under `image/`, the unit files under `provision/units/` and the
//! installed binaries. The image lives in
//! `${XDG_CACHE_HOME:-~/.cache}/cairn/image/<hash>/` and is rebuilt only when one
//! of those changes.

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Workspace binaries installed into the image when they exist. `provision` is
/// required; the others (the kiosk display program) are taken once their crate
/// builds them.
pub const BINARIES: &[(&str, bool)] = &[("provision", true), ("kiosk", false)];

/// A built image in the cache.
#[derive(Debug, Clone)]
pub struct Image {
    pub dir: PathBuf,
}

impl Image {
    pub fn disk(&self) -> PathBuf {
        self.dir.join("disk.raw")
    }
    pub fn bundles(&self) -> PathBuf {
        self.dir.join("bundles.ext4")
    }
    pub fn ssh_key(&self) -> PathBuf {
        self.dir.join("keys/ssh_test_key")
    }
    /// A value from `image.env` written by `image/build.sh`.
    pub fn env(&self, key: &str) -> Result<String> {
        let text = std::fs::read_to_string(self.dir.join("image.env"))?;
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .map(str::to_owned)
            .with_context(|| format!("{key} missing from image.env"))
    }
}

/// `${XDG_CACHE_HOME:-~/.cache}/cairn/image`.
pub fn cache_root() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into())).join(".cache"));
    base.join("cairn/image")
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            files_under(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Hash of the names and bytes of all inputs, relative to the workspace root.
pub fn input_hash(root: &Path, bins: &[PathBuf]) -> Result<String> {
    let mut files = Vec::new();
    files_under(&root.join("image"), &mut files)?;
    // Host-side scripts that do not shape the image.
    files.retain(|f| {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        !matches!(name, "ci.sh" | "host-deps.sh") && !name.ends_with(".md")
    });
    files_under(&root.join("provision/units"), &mut files)?;
    files.sort();
    let mut h = Sha256::new();
    for f in files.iter().chain(bins) {
        let name = f.strip_prefix(root).unwrap_or(f);
        h.update(name.to_string_lossy().as_bytes());
        h.update([0]);
        let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    Ok(h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect())
}

/// The binaries to install: every entry of [`BINARIES`] found in `bin_dir`.
pub fn binaries(bin_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for (name, required) in BINARIES {
        let p = bin_dir.join(name);
        if p.is_file() {
            out.push(p);
        } else if *required {
            bail!("{} not found: build it with `cargo build --release -p {name}`", p.display());
        }
    }
    Ok(out)
}

/// How many built images the cache keeps (each is a few GiB). More than one, so two
/// checkouts testing different images (worktrees, bisecting) do not delete each other's.
const KEEP_IMAGES: usize = 3;

/// Remove all but the [`KEEP_IMAGES`] most recently used images; keeps the KVM verdict.
fn prune(just_built: &str) {
    let Ok(entries) = std::fs::read_dir(cache_root()) else {
        return;
    };
    let mut images: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.len() == 16 && name.bytes().all(|b| b.is_ascii_hexdigit()) && name != just_built
        })
        .map(|e| (e.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH), e.path()))
        .collect();
    images.sort_by_key(|b| std::cmp::Reverse(b.0));
    for (_, dir) in images.into_iter().skip(KEEP_IMAGES - 1) {
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_file(dir.with_extension("log"));
    }
}

/// Return the cached image for these inputs, building it first when absent.
pub fn ensure(root: &Path, bins: &[PathBuf]) -> Result<Image> {
    let hash = input_hash(root, bins)?;
    let dir = cache_root().join(&hash);
    if dir.join("image.env").is_file() {
        eprintln!("cairn-vm: using cached image {}", dir.display());
        // Its mtime marks it recently used for pruning.
        let _ = std::fs::File::open(&dir).and_then(|f| f.set_modified(std::time::SystemTime::now()));
        return Ok(Image { dir });
    }
    let tmp = cache_root().join(format!("{hash}.partial"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    std::fs::create_dir_all(&tmp)?;
    let log = tmp.with_extension("log");
    eprintln!("cairn-vm: building image {hash} (first build takes a few minutes; log {})", log.display());
    let started = Instant::now();
    let logf = std::fs::File::create(&log)?;
    let status = Command::new(root.join("image/build.sh"))
        .arg(&tmp)
        .args(bins)
        .stdout(logf.try_clone()?)
        .stderr(logf)
        .status()
        .context("running image/build.sh")?;
    if !status.success() {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(25).collect();
        for l in tail.iter().rev() {
            eprintln!("  | {l}");
        }
        bail!("image build failed ({status}); full log {}", log.display());
    }
    std::fs::rename(&tmp, &dir)?;
    prune(&hash);
    eprintln!("cairn-vm: image built in {:.0} s: {}", started.elapsed().as_secs_f64(), dir.display());
    Ok(Image { dir })
}
