//! Golden tests: every case under `tests/cases/` renders to exactly its `expected/`
//! tree (whole files, diffed), and invalid cases fail with exactly their diagnostics.
//!
//! `CAIRN_BLESS=1 cargo test -p quadlet-render --test golden` rewrites the expected
//! files; review every change by eye before committing it.

mod common;

use std::fs;

use common::{blessing, case_name, cases, read_tree, render_case, write_tree};

#[test]
fn every_case_renders_exactly_its_expected_tree() {
    let mut checked = Vec::new();
    for dir in cases() {
        let name = case_name(&dir);
        let (rendered, diagnostics) = render_case(&dir);
        let diag_path = dir.join("diagnostics.txt");
        let expected_dir = dir.join("expected");
        if blessing() {
            let _ = fs::remove_dir_all(&expected_dir);
            let _ = fs::remove_file(&diag_path);
            if !diagnostics.is_empty() {
                fs::write(&diag_path, &diagnostics).unwrap();
            }
            if let Ok(rendered) = &rendered {
                fs::create_dir_all(&expected_dir).unwrap();
                write_tree(&expected_dir, rendered);
            }
            continue;
        }
        let expected_diagnostics = fs::read_to_string(&diag_path).unwrap_or_default();
        similar_asserts::assert_eq!(expected_diagnostics, diagnostics, "{name}: diagnostics.txt");
        match rendered {
            Err(_) => assert!(!expected_dir.exists(), "{name}: invalid config but expected/ exists"),
            Ok(rendered) => {
                assert!(expected_dir.is_dir(), "{name}: no expected/ (run with CAIRN_BLESS=1 and review)");
                let expected = read_tree(&expected_dir);
                let actual: std::collections::BTreeMap<String, String> =
                    rendered.all_files().into_iter().map(|f| (f.path, f.contents)).collect();
                let expected_paths: Vec<&String> = expected.keys().collect();
                let actual_paths: Vec<&String> = actual.keys().collect();
                similar_asserts::assert_eq!(expected_paths, actual_paths, "{name}: file list");
                for (path, contents) in &expected {
                    similar_asserts::assert_eq!(contents, &actual[path], "{name}: {path}");
                }
            }
        }
        checked.push(name);
    }
    assert!(!blessing(), "blessed expected output; review the diff and run again without CAIRN_BLESS");
    assert!(!checked.is_empty());
}

#[test]
fn rendering_is_deterministic() {
    for dir in cases() {
        let (a, _) = render_case(&dir);
        let (b, _) = render_case(&dir);
        assert_eq!(a, b, "{}", case_name(&dir));
    }
}

/// An inline camera password appears in exactly one file: its 0600 secret, owned
/// by the kiosk user. Not in bundle.json, not in the manifest (not even hashed).
#[test]
fn inline_passwords_only_reach_their_secret_file() {
    let dir = common::cases_dir().join("kiosk");
    let (Ok(rendered), _) = render_case(&dir) else { panic!("kiosk case renders") };
    let holders: Vec<_> = rendered.all_files().into_iter().filter(|f| f.contents.contains("s3cret-inline")).collect();
    assert_eq!(holders.len(), 1, "{:?}", holders.iter().map(|f| &f.path).collect::<Vec<_>>());
    let secret = &holders[0];
    assert_eq!(
        (secret.path.as_str(), secret.permissions, secret.owner.as_deref(), secret.kind),
        ("kiosk/secrets/front.pass", 0o600, Some("cairn-kiosk"), quadlet_render::FileKind::Secret)
    );
    assert!(!format!("{rendered:?}").contains("s3cret-inline"), "Debug output shows the password");
    let manifest = rendered.manifest_file().contents;
    use sha2::Digest as _;
    let hash: String = sha2::Sha256::digest(b"s3cret-inline").iter().map(|b| format!("{b:02x}")).collect();
    assert!(!manifest.contains(&hash));
}

/// chrony without a `server` line never syncs; every rendered config names one,
/// including configs without a `[network]` table.
#[test]
fn every_case_syncs_time_from_a_server() {
    for dir in cases() {
        let (Ok(rendered), _) = render_case(&dir) else { continue };
        let chrony = &rendered.get("network/chrony.conf").expect("chrony.conf").contents;
        assert!(chrony.lines().any(|l| l.starts_with("server ")), "{}: no NTP server:\n{chrony}", case_name(&dir));
    }
}
