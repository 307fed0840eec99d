//! Bundle reading against real archives built here, including hostile ones.

use std::io::Write;

use cairn_config::bundle::{
    BundleError, BundleFormat, MAX_COMPRESSED_BYTES, MAX_MEMBER_BYTES, MAX_MEMBERS, read_bundle, read_bundle_into,
};

const CONFIG: &[u8] = b"version = 1\n";

/// A tar archive built entry by entry with raw headers, so hostile shapes are possible.
#[derive(Default)]
struct TarBuilder {
    data: Vec<u8>,
}

impl TarBuilder {
    fn entry(mut self, path: &str, kind: tar::EntryType, body: &[u8], link: Option<&str>) -> Self {
        let mut header = tar::Header::new_gnu();
        // Write the name bytes directly: set_path() refuses `..` and absolute paths,
        // which is exactly what these tests need to produce.
        let name = path.as_bytes();
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_entry_type(kind);
        header.set_size(body.len() as u64);
        header.set_mode(if kind == tar::EntryType::Directory { 0o755 } else { 0o644 });
        if let Some(link) = link {
            header.set_link_name(link).expect("link name");
        }
        header.set_cksum();
        self.data.extend_from_slice(header.as_bytes());
        self.data.extend_from_slice(body);
        self.data.resize(self.data.len().div_ceil(512) * 512, 0);
        self
    }

    fn file(self, path: &str, body: &[u8]) -> Self {
        self.entry(path, tar::EntryType::Regular, body, None)
    }

    fn finish(mut self) -> Vec<u8> {
        self.data.extend_from_slice(&[0u8; 1024]);
        self.data
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).expect("zstd")
}

fn read(archive: Vec<u8>) -> Result<cairn_config::bundle::Bundle, BundleError> {
    let gz = gzip(&archive);
    read_bundle(BundleFormat::detect(&gz).expect("gzip magic"), gz.as_slice())
}

#[test]
fn reads_config_and_files_from_gzip_and_zstd() {
    let archive = TarBuilder::default()
        .entry("./", tar::EntryType::Directory, b"", None)
        .file("./config.toml", CONFIG)
        .entry("files/", tar::EntryType::Directory, b"", None)
        .entry("files/caddy/", tar::EntryType::Directory, b"", None)
        .file("files/caddy/Caddyfile", b":80 {\n}\n")
        .finish();
    for compressed in [gzip(&archive), zstd(&archive)] {
        let format = BundleFormat::detect(&compressed).expect("magic");
        let bundle = read_bundle(format, compressed.as_slice()).expect("valid bundle");
        assert_eq!(bundle.config_toml, CONFIG);
        let paths: Vec<_> = bundle.files.iter().map(|f| (f.path.as_str(), f.is_dir, f.size)).collect();
        assert_eq!(paths, [("caddy", true, 0), ("caddy/Caddyfile", false, 8)]);
    }
}

#[test]
fn streams_file_contents_into_the_sink() {
    #[derive(Default)]
    struct Collect(Vec<(String, Vec<u8>, bool)>);
    impl cairn_config::bundle::BundleSink for Collect {
        fn dir(&mut self, _path: &str) -> std::io::Result<()> {
            Ok(())
        }
        fn file(&mut self, path: &str, executable: bool, data: &mut dyn std::io::Read) -> std::io::Result<()> {
            let mut bytes = Vec::new();
            data.read_to_end(&mut bytes)?;
            self.0.push((path.to_owned(), bytes, executable));
            Ok(())
        }
    }
    let mut header = tar::Header::new_gnu();
    header.set_path("files/run.sh").unwrap();
    header.set_size(3);
    header.set_mode(0o755);
    header.set_cksum();
    let mut builder = tar::Builder::new(Vec::new());
    builder.append(&header, &b"hi\n"[..]).unwrap();
    let mut cfg = tar::Header::new_gnu();
    cfg.set_path("config.toml").unwrap();
    cfg.set_size(CONFIG.len() as u64);
    cfg.set_mode(0o644);
    cfg.set_cksum();
    builder.append(&cfg, CONFIG).unwrap();
    let gz = gzip(&builder.into_inner().unwrap());
    let mut sink = Collect::default();
    read_bundle_into(BundleFormat::TarGz, gz.as_slice(), &mut sink).expect("valid");
    assert_eq!(sink.0, [("run.sh".to_owned(), b"hi\n".to_vec(), true)]);
}

#[test]
fn rejects_a_bundle_without_config() {
    let archive = TarBuilder::default().file("files/a", b"x").finish();
    assert!(matches!(read(archive), Err(BundleError::MissingConfig)));
}

#[test]
fn rejects_path_traversal() {
    let archive = TarBuilder::default().file("config.toml", CONFIG).file("files/../../etc/cron.d/x", b"x").finish();
    let err = read(archive).unwrap_err();
    assert!(matches!(err, BundleError::ParentDir { .. }), "{err}");
    assert!(err.to_string().contains("files/../../etc/cron.d/x"), "the message names the path: {err}");
}

#[test]
fn rejects_absolute_paths() {
    let archive = TarBuilder::default().file("config.toml", CONFIG).file("/etc/passwd", b"x").finish();
    assert!(matches!(read(archive), Err(BundleError::AbsolutePath { .. })));
}

#[test]
fn rejects_symlinks_and_hard_links() {
    let symlink = TarBuilder::default()
        .file("config.toml", CONFIG)
        .entry("files/shadow", tar::EntryType::Symlink, b"", Some("/etc/shadow"))
        .finish();
    let err = read(symlink).unwrap_err();
    assert!(matches!(&err, BundleError::Link { target, .. } if target == "/etc/shadow"), "{err}");
    let hardlink = TarBuilder::default()
        .file("config.toml", CONFIG)
        .entry("files/x", tar::EntryType::Link, b"", Some("config.toml"))
        .finish();
    assert!(matches!(read(hardlink), Err(BundleError::Link { .. })));
}

#[test]
fn rejects_devices_and_fifos() {
    for (kind, name) in [
        (tar::EntryType::Char, "character device"),
        (tar::EntryType::Block, "block device"),
        (tar::EntryType::Fifo, "FIFO"),
    ] {
        let archive = TarBuilder::default().file("config.toml", CONFIG).entry("files/dev", kind, b"", None).finish();
        match read(archive) {
            Err(BundleError::Special { kind, .. }) => assert_eq!(kind, name),
            other => panic!("expected a refusal of {name}, got {other:?}"),
        }
    }
}

#[test]
fn rejects_other_top_level_entries() {
    let archive = TarBuilder::default().file("config.toml", CONFIG).file("etc/shadow", b"x").finish();
    assert!(matches!(read(archive), Err(BundleError::UnexpectedEntry { .. })));
    let nested_config = TarBuilder::default().file("bundle/config.toml", CONFIG).finish();
    assert!(matches!(read(nested_config), Err(BundleError::UnexpectedEntry { .. })));
}

#[test]
fn rejects_duplicate_entries() {
    let archive = TarBuilder::default().file("config.toml", CONFIG).file("./config.toml", b"version = 2\n").finish();
    assert!(matches!(read(archive), Err(BundleError::Duplicate { .. })));
}

#[test]
fn rejects_too_many_members() {
    let mut builder = TarBuilder::default().file("config.toml", CONFIG);
    for i in 0..MAX_MEMBERS {
        builder = builder.entry(&format!("files/d{i}/"), tar::EntryType::Directory, b"", None);
    }
    assert!(matches!(read(builder.finish()), Err(BundleError::TooManyMembers)));
}

#[test]
fn rejects_a_member_over_the_per_file_cap_without_reading_it() {
    // The header claims more than the cap; the reader must refuse on the header alone.
    let mut header = tar::Header::new_gnu();
    header.set_path("files/big").unwrap();
    header.set_size(MAX_MEMBER_BYTES + 1);
    header.set_mode(0o644);
    header.set_cksum();
    let mut data = TarBuilder::default().file("config.toml", CONFIG).data;
    data.extend_from_slice(header.as_bytes());
    data.extend_from_slice(&[0u8; 4096]);
    assert!(matches!(read(data), Err(BundleError::MemberTooLarge { .. })));
}

#[test]
fn stops_a_decompression_bomb() {
    // Five 60 MiB files of zeros: each under the per-file cap, 300 MiB in all, a few
    // hundred KiB compressed. The unpacked cap must stop it.
    let zeros = vec![0u8; 60 * 1024 * 1024];
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut header = tar::Header::new_gnu();
    header.set_path("config.toml").unwrap();
    header.set_size(CONFIG.len() as u64);
    header.set_cksum();
    let mut builder = tar::Builder::new(&mut enc);
    builder.append(&header, CONFIG).unwrap();
    for i in 0..5 {
        let mut h = tar::Header::new_gnu();
        h.set_path(format!("files/zero{i}")).unwrap();
        h.set_size(zeros.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        builder.append(&h, zeros.as_slice()).unwrap();
    }
    builder.finish().unwrap();
    drop(builder);
    let gz = enc.finish().unwrap();
    assert!(gz.len() < 2 * 1024 * 1024, "the bomb should be small: {} bytes", gz.len());
    assert!(matches!(read_bundle(BundleFormat::TarGz, gz.as_slice()), Err(BundleError::UnpackedTooLarge)));
}

#[test]
fn stops_an_oversized_compressed_input() {
    // 40 MiB of incompressible data in two members: each under the per-file cap and the
    // total under the unpacked cap, so only the compressed-input cap can stop it.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut noise = |len: usize| {
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.extend_from_slice(&x.to_le_bytes());
        }
        out
    };
    let a = noise(30 * 1024 * 1024);
    let b = noise(10 * 1024 * 1024);
    let archive = TarBuilder::default().file("config.toml", CONFIG).file("files/a", &a).file("files/b", &b).finish();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    enc.write_all(&archive).unwrap();
    let gz = enc.finish().unwrap();
    assert!(gz.len() as u64 > MAX_COMPRESSED_BYTES);
    let err = read_bundle(BundleFormat::TarGz, gz.as_slice()).unwrap_err();
    assert!(matches!(err, BundleError::CompressedTooLarge), "{err}");
}

#[test]
fn garbage_after_magic_is_a_clear_error() {
    let err = read_bundle(BundleFormat::TarZst, &[0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3][..]).unwrap_err();
    assert!(err.to_string().contains("not a readable tar archive"), "{err}");
}
