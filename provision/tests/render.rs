//! `provision render`: writes the whole tree, refuses to mix with an old one, and
//! turns an invalid config into diagnostics and exit 1.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output};

fn provision(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_provision")).args(args).env("NO_COLOR", "1").output().expect("runs")
}

fn case(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases").join(name).join("config.toml")
}

#[test]
fn renders_the_golden_tree_and_refuses_a_non_empty_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let config = case("kiosk");
    let out = provision(&["render".as_ref(), config.as_os_str(), "--out".as_ref(), out_dir.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    let expected = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases/kiosk/expected");
    for rel in
        ["manifest.json", "kiosk/bundle.json", "systemd/cairn-kiosk.service", "quadlet/rootless/player.container"]
    {
        assert_eq!(
            fs::read_to_string(out_dir.join(rel)).unwrap(),
            fs::read_to_string(expected.join(rel)).unwrap(),
            "{rel}"
        );
    }
    let secret = fs::metadata(out_dir.join("kiosk/secrets/front.pass")).unwrap();
    assert_eq!(secret.permissions().mode() & 0o777, 0o600);

    let again = provision(&["render".as_ref(), config.as_os_str(), "--out".as_ref(), out_dir.as_os_str()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty (use --force to write into it)"));

    let forced =
        provision(&["render".as_ref(), config.as_os_str(), "--out".as_ref(), out_dir.as_os_str(), "--force".as_ref()]);
    assert_eq!(forced.status.code(), Some(0), "{}", String::from_utf8_lossy(&forced.stderr));
}

#[test]
fn an_invalid_config_prints_diagnostics_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let config = case("fail-injection-newline");
    let out = provision(&["render".as_ref(), config.as_os_str(), "--out".as_ref(), out_dir.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("value contains a line feed (U+000A) at character 28"), "{stderr}");
    assert!(stderr.contains("invalid (1 error, 0 warnings)"), "{stderr}");
    assert!(!out_dir.exists());
}

#[test]
fn renders_a_bundle_like_its_config() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir_all(src.join("files/app")).unwrap();
    fs::copy(case("build"), src.join("config.toml")).unwrap();
    fs::write(src.join("files/app/Containerfile"), "FROM scratch\n").unwrap();
    let bundle = tmp.path().join("bundle.tar.gz");
    let tar = Command::new("tar")
        .arg("-czf")
        .arg(&bundle)
        .arg("-C")
        .arg(&src)
        .args(["config.toml", "files"])
        .status()
        .expect("tar runs");
    assert!(tar.success());
    let out_dir = tmp.path().join("out");
    let out = provision(&["render".as_ref(), bundle.as_os_str(), "--out".as_ref(), out_dir.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let expected = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases/build/expected");
    for rel in ["manifest.json", "quadlet/rootless/app.build", "quadlet/rootless/app.container"] {
        assert_eq!(fs::read_to_string(out_dir.join(rel)).unwrap(), fs::read_to_string(expected.join(rel)).unwrap());
    }
}
