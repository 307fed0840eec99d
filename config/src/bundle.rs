//! Bundles: `config.toml` plus an optional `files/` tree in a `.tar.gz` or `.tar.zst`.
//!
//! Bundles come from the network before anyone is authenticated (first boot), so the
//! reader is written for hostile input: it streams, enforces hard caps on compressed
//! size, unpacked size, member count and member size, and accepts only regular files
//! and directories at `config.toml` and under `files/`. Everything else — absolute
//! paths, `..`, links, devices, FIFOs, other top-level entries — is refused with the
//! offending path in the message. Nothing here touches the file system: file contents
//! go to a [`BundleSink`] the caller provides.

use std::collections::BTreeSet;
use std::io::{self, Read};

/// Largest compressed bundle accepted.
pub const MAX_COMPRESSED_BYTES: u64 = 32 * 1024 * 1024;
/// Largest total of member sizes.
pub const MAX_UNPACKED_BYTES: u64 = 256 * 1024 * 1024;
/// Most tar members (files, directories and metadata entries).
pub const MAX_MEMBERS: usize = 4096;
/// Largest single member.
pub const MAX_MEMBER_BYTES: u64 = 64 * 1024 * 1024;
/// Longest relative path under files/.
pub const MAX_PATH_BYTES: usize = 1024;

/// Compression of a bundle, recognised by magic bytes (never by file name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BundleFormat {
    TarGz,
    TarZst,
}

impl BundleFormat {
    /// The bundle format of data starting with `head`, or `None` for anything else
    /// (which callers treat as a plain config.toml).
    pub fn detect(head: &[u8]) -> Option<Self> {
        match head {
            [0x1f, 0x8b, ..] => Some(Self::TarGz),
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Some(Self::TarZst),
            _ => None,
        }
    }
}

/// Why a bundle was refused.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("the bundle is larger than {MAX_COMPRESSED_BYTES} bytes compressed")]
    CompressedTooLarge,
    #[error("the bundle unpacks to more than {MAX_UNPACKED_BYTES} bytes")]
    UnpackedTooLarge,
    #[error("the bundle has more than {MAX_MEMBERS} entries")]
    TooManyMembers,
    #[error("{path}: {size} bytes is larger than the per-file limit of {MAX_MEMBER_BYTES}")]
    MemberTooLarge { path: String, size: u64 },
    #[error("{path}: absolute paths are not allowed in a bundle")]
    AbsolutePath { path: String },
    #[error("{path}: `..` is not allowed in bundle paths")]
    ParentDir { path: String },
    #[error("{path}: links are not allowed in a bundle (it points to {target:?})")]
    Link { path: String, target: String },
    #[error("{path}: {kind} entries are not allowed in a bundle; only regular files and directories")]
    Special { path: String, kind: &'static str },
    #[error("{path}: a bundle holds only config.toml and files/")]
    UnexpectedEntry { path: String },
    #[error("{path}: {reason}")]
    BadPath { path: String, reason: &'static str },
    #[error("{path} appears twice in the bundle")]
    Duplicate { path: String },
    #[error("the bundle has no config.toml at its top level")]
    MissingConfig,
    #[error("config.toml in the bundle is larger than {} bytes", crate::MAX_CONFIG_BYTES)]
    ConfigTooLarge,
    #[error("the bundle is not a readable tar archive: {0}")]
    Corrupt(#[source] io::Error),
    #[error("writing {path}: {source}")]
    Sink { path: String, source: io::Error },
}

/// Where the contents of `files/` go (the staging directory on a device; nowhere when validating).
pub trait BundleSink {
    /// A directory `files/<path>`.
    fn dir(&mut self, path: &str) -> io::Result<()>;
    /// A regular file `files/<path>`; `data` yields exactly its bytes.
    fn file(&mut self, path: &str, executable: bool, data: &mut dyn Read) -> io::Result<()>;
}

/// A sink that reads and discards file contents (validation checks caps without storing).
#[derive(Debug, Default)]
pub struct DiscardSink;

impl BundleSink for DiscardSink {
    fn dir(&mut self, _path: &str) -> io::Result<()> {
        Ok(())
    }
    fn file(&mut self, _path: &str, _executable: bool, data: &mut dyn Read) -> io::Result<()> {
        io::copy(data, &mut io::sink()).map(|_| ())
    }
}

/// One entry of `files/`, path relative to `files/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleFile {
    pub path: String,
    pub is_dir: bool,
    pub executable: bool,
    pub size: u64,
}

/// What a bundle held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    pub config_toml: Vec<u8>,
    pub files: Vec<BundleFile>,
}

/// Reads a bundle, discarding file contents. For validation and listings.
pub fn read_bundle(format: BundleFormat, input: impl Read) -> Result<Bundle, BundleError> {
    read_bundle_into(format, input, &mut DiscardSink)
}

/// Reads a bundle, streaming each file of `files/` into `sink`.
pub fn read_bundle_into(
    format: BundleFormat,
    input: impl Read,
    sink: &mut dyn BundleSink,
) -> Result<Bundle, BundleError> {
    let compressed = CappedReader::new(input, MAX_COMPRESSED_BYTES, CapKind::Compressed);
    // Headers and padding add up to 1.5 KiB per member on top of the contents.
    let unpacked_cap = MAX_UNPACKED_BYTES + (MAX_MEMBERS as u64) * 1536 + 1024 * 1024;
    let decoder: Box<dyn Read> = match format {
        BundleFormat::TarGz => Box::new(flate2::read::MultiGzDecoder::new(compressed)),
        BundleFormat::TarZst => {
            let mut decoder = zstd::stream::read::Decoder::new(compressed).map_err(BundleError::Corrupt)?;
            decoder.window_log_max(25).map_err(BundleError::Corrupt)?;
            Box::new(decoder)
        }
    };
    let mut archive = tar::Archive::new(CappedReader::new(decoder, unpacked_cap, CapKind::Unpacked));
    let mut config_toml = None;
    let mut files = Vec::new();
    let mut seen = BTreeSet::new();
    let mut members = 0usize;
    let mut unpacked = 0u64;
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        members += 1;
        if members > MAX_MEMBERS {
            return Err(BundleError::TooManyMembers);
        }
        let raw_path = String::from_utf8(entry.path_bytes().into_owned()).map_err(|e| BundleError::BadPath {
            path: String::from_utf8_lossy(e.as_bytes()).into_owned(),
            reason: "the path is not valid UTF-8",
        })?;
        let kind = entry.header().entry_type();
        if kind == tar::EntryType::XGlobalHeader {
            continue;
        }
        let path = classify_path(&raw_path)?;
        let size = entry.header().size().map_err(corrupt)?;
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::Directory => {}
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target =
                    entry.link_name_bytes().map(|t| String::from_utf8_lossy(&t).into_owned()).unwrap_or_default();
                return Err(BundleError::Link { path: raw_path, target });
            }
            other => return Err(BundleError::Special { path: raw_path, kind: entry_kind_name(other) }),
        }
        let is_dir = kind == tar::EntryType::Directory;
        if size > MAX_MEMBER_BYTES {
            return Err(BundleError::MemberTooLarge { path: raw_path, size });
        }
        unpacked += size;
        if unpacked > MAX_UNPACKED_BYTES {
            return Err(BundleError::UnpackedTooLarge);
        }
        let key = match &path {
            BundlePath::Root | BundlePath::FilesRoot => continue,
            BundlePath::Config => "config.toml".to_owned(),
            BundlePath::File(rel) => format!("files/{rel}"),
        };
        if !seen.insert(key.clone()) {
            return Err(BundleError::Duplicate { path: key });
        }
        match path {
            BundlePath::Config => {
                if is_dir {
                    return Err(BundleError::UnexpectedEntry { path: raw_path });
                }
                if size > crate::MAX_CONFIG_BYTES as u64 {
                    return Err(BundleError::ConfigTooLarge);
                }
                let mut bytes = Vec::with_capacity(size as usize);
                entry.read_to_end(&mut bytes).map_err(corrupt)?;
                config_toml = Some(bytes);
            }
            BundlePath::File(rel) => {
                let executable = !is_dir && entry.header().mode().map_err(corrupt)? & 0o111 != 0;
                let result = if is_dir { sink.dir(&rel) } else { sink.file(&rel, executable, &mut entry) };
                result.map_err(|source| match cap_error(&source) {
                    Some(cap) => cap,
                    None => BundleError::Sink { path: format!("files/{rel}"), source },
                })?;
                files.push(BundleFile { path: rel, is_dir, executable, size });
            }
            BundlePath::Root | BundlePath::FilesRoot => unreachable!("skipped above"),
        }
    }
    let config_toml = config_toml.ok_or(BundleError::MissingConfig)?;
    Ok(Bundle { config_toml, files })
}

enum BundlePath {
    Root,
    Config,
    FilesRoot,
    File(String),
}

/// Sorts a tar path into the few shapes a bundle may hold, refusing the rest.
fn classify_path(raw: &str) -> Result<BundlePath, BundleError> {
    let bad = |reason| BundleError::BadPath { path: raw.to_owned(), reason };
    if raw.starts_with('/') {
        return Err(BundleError::AbsolutePath { path: raw.to_owned() });
    }
    if raw.chars().any(|c| c.is_control()) {
        return Err(bad("the path contains control characters"));
    }
    if raw.contains('\\') {
        return Err(bad("the path contains a backslash"));
    }
    let mut parts = Vec::new();
    for component in raw.split('/') {
        match component {
            "" | "." => {}
            ".." => return Err(BundleError::ParentDir { path: raw.to_owned() }),
            c if c.len() > 255 => return Err(bad("a path component is longer than 255 bytes")),
            c => parts.push(c),
        }
    }
    match parts.as_slice() {
        [] => Ok(BundlePath::Root),
        ["config.toml"] => Ok(BundlePath::Config),
        ["files"] => Ok(BundlePath::FilesRoot),
        ["files", rest @ ..] => {
            let rel = rest.join("/");
            if rel.len() > MAX_PATH_BYTES {
                return Err(bad("the path is longer than 1024 bytes"));
            }
            Ok(BundlePath::File(rel))
        }
        _ => Err(BundleError::UnexpectedEntry { path: raw.to_owned() }),
    }
}

fn entry_kind_name(kind: tar::EntryType) -> &'static str {
    match kind {
        tar::EntryType::Char => "character device",
        tar::EntryType::Block => "block device",
        tar::EntryType::Fifo => "FIFO",
        tar::EntryType::GNUSparse => "sparse file",
        tar::EntryType::GNULongName | tar::EntryType::GNULongLink => "stray GNU long-name",
        tar::EntryType::XHeader => "stray PAX header",
        _ => "unknown",
    }
}

fn corrupt(e: io::Error) -> BundleError {
    cap_error(&e).unwrap_or(BundleError::Corrupt(e))
}

#[derive(Clone, Copy, Debug)]
enum CapKind {
    Compressed,
    Unpacked,
}

#[derive(Debug)]
struct CapExceeded(CapKind);

impl std::fmt::Display for CapExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "size cap exceeded ({:?})", self.0)
    }
}

impl std::error::Error for CapExceeded {}

/// Finds a cap violation anywhere in an I/O error's chain (decoders wrap our errors).
fn cap_error(e: &io::Error) -> Option<BundleError> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = e.get_ref().map(|r| r as _);
    while let Some(err) = source {
        if let Some(CapExceeded(kind)) = err.downcast_ref::<CapExceeded>() {
            return Some(match kind {
                CapKind::Compressed => BundleError::CompressedTooLarge,
                CapKind::Unpacked => BundleError::UnpackedTooLarge,
            });
        }
        source = err.source();
    }
    None
}

/// A reader that fails once more than `cap` bytes have passed through it.
struct CappedReader<R> {
    inner: R,
    remaining: u64,
    kind: CapKind,
}

impl<R> CappedReader<R> {
    fn new(inner: R, cap: u64, kind: CapKind) -> Self {
        Self { inner, remaining: cap, kind }
    }
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            // Allow a clean EOF exactly at the cap; anything more is over it.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(CapExceeded(self.kind))),
            };
        }
        let max = buf.len().min(self.remaining.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..max])?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats_by_magic() {
        assert_eq!(BundleFormat::detect(&[0x1f, 0x8b, 8]), Some(BundleFormat::TarGz));
        assert_eq!(BundleFormat::detect(&[0x28, 0xb5, 0x2f, 0xfd]), Some(BundleFormat::TarZst));
        assert_eq!(BundleFormat::detect(b"version = 1"), None);
    }

    #[test]
    fn classifies_paths() {
        assert!(matches!(classify_path("./config.toml"), Ok(BundlePath::Config)));
        assert!(matches!(classify_path("files/"), Ok(BundlePath::FilesRoot)));
        assert!(matches!(classify_path("./files/a/b.txt"), Ok(BundlePath::File(p)) if p == "a/b.txt"));
        assert!(matches!(classify_path("/etc/passwd"), Err(BundleError::AbsolutePath { .. })));
        assert!(matches!(classify_path("files/../../x"), Err(BundleError::ParentDir { .. })));
        assert!(matches!(classify_path("etc/shadow"), Err(BundleError::UnexpectedEntry { .. })));
        assert!(matches!(classify_path("files/a\nb"), Err(BundleError::BadPath { .. })));
    }

    #[test]
    fn capped_reader_stops_past_the_cap() {
        let mut r = CappedReader::new(&[0u8; 10][..], 4, CapKind::Unpacked);
        let mut out = Vec::new();
        let err = r.read_to_end(&mut out).unwrap_err();
        assert!(matches!(cap_error(&err), Some(BundleError::UnpackedTooLarge)));
        let mut exact = CappedReader::new(&[0u8; 4][..], 4, CapKind::Unpacked);
        assert_eq!(exact.read_to_end(&mut Vec::new()).unwrap(), 4);
    }
}
