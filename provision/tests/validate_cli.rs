//! `provision validate` as an operator runs it: exit codes, output formats, bundles,
//! and the promise that it writes nothing.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(kind: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/tests/fixtures").join(kind).join(name)
}

fn provision(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_provision")).args(args).current_dir(cwd).output().expect("provision runs")
}

fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<_> = walk(dir);
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .map(|rd| {
            rd.flat_map(|e| {
                let p = e.unwrap().path();
                let mut v = vec![p.clone()];
                if p.is_dir() {
                    v.extend(walk(&p));
                }
                v
            })
            .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_valid_config_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let out = provision(&["validate", fixture("valid", "full.toml").to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("valid (0 warnings)"));
}

#[test]
fn an_invalid_config_exits_1_with_source_line_and_caret() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture("invalid", "container-unknown-directive.toml");
    let out = provision(&["validate", path.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown [Container] directive `Imgae`"), "{stderr}");
    assert!(stderr.contains("Imgae = \"nginx\""), "the source line is shown: {stderr}");
    assert!(stderr.contains("^^^^^"), "a caret marks the key: {stderr}");
    assert!(stderr.contains("did you mean `Image`?"), "{stderr}");
}

#[test]
fn warnings_are_printed_but_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let config = fs::read_to_string(fixture("valid", "minimal.toml")).unwrap() + "Network = \"mynet\"\n";
    let path = dir.path().join("config.toml");
    fs::write(&path, config).unwrap();
    let out = provision(&["validate", path.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("warning") && stderr.contains("Network=pasta"), "{stderr}");
}

#[test]
fn json_format_is_machine_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture("invalid", "firewall-wan-8080.toml");
    let out = provision(&["validate", "--format", "json", path.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(json["valid"], false);
    let d = &json["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["path"], "network.firewall.inbound.wan.tcp[1]");
    assert_eq!((d["line"].as_u64(), d["col"].as_u64()), (Some(9), Some(13)));
    assert!(d["hint"].is_string());
}

#[test]
fn unreadable_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = provision(&["validate", "/nonexistent/config.toml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/config.toml"));
    let corrupt = dir.path().join("broken.tar.gz");
    fs::write(&corrupt, [0x1f, 0x8b, 0, 1, 2, 3]).unwrap();
    let out = provision(&["validate", corrupt.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_bundle_is_validated_by_its_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = fs::read(fixture("valid", "minimal.toml")).unwrap();
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_path("config.toml").unwrap();
    header.set_size(config.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append(&header, config.as_slice()).unwrap();
    let mut zst = zstd::Encoder::new(Vec::new(), 3).unwrap();
    zst.write_all(&builder.into_inner().unwrap()).unwrap();
    let bundle = dir.path().join("bundle.bin");
    fs::write(&bundle, zst.finish().unwrap()).unwrap();
    let out = provision(&["validate", bundle.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_hostile_bundle_is_refused_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = Vec::new();
    let mut header = tar::Header::new_gnu();
    let name = b"files/../../../tmp/pwned";
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_size(1);
    header.set_mode(0o644);
    header.set_cksum();
    data.extend_from_slice(header.as_bytes());
    data.extend_from_slice(&[b'x'; 512]);
    data.extend_from_slice(&[0; 1024]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&data).unwrap();
    let bundle = dir.path().join("evil.tar.gz");
    fs::write(&bundle, gz.finish().unwrap()).unwrap();
    let out = provision(&["validate", bundle.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("files/../../../tmp/pwned"));
    assert!(!Path::new("/tmp/pwned").exists());
}

#[test]
fn validate_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("cwd");
    fs::create_dir(&work).unwrap();
    let input = dir.path().join("config.toml");
    fs::copy(fixture("valid", "full.toml"), &input).unwrap();
    let before = tree(dir.path());
    for args in
        [vec!["validate", input.to_str().unwrap()], vec!["validate", "--format", "json", input.to_str().unwrap()]]
    {
        let out = Command::new(env!("CARGO_BIN_EXE_provision"))
            .args(&args)
            .current_dir(&work)
            .env("HOME", &work)
            .env("TMPDIR", &work)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
    }
    assert_eq!(before, tree(dir.path()), "validate created or removed files");
    assert_eq!(fs::read(&input).unwrap(), fs::read(fixture("valid", "full.toml")).unwrap());
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let dir = tempfile::tempdir().unwrap();
    let out = provision(&["schema"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let committed =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/config.schema.json")).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), committed);
}
