//! The fixture corpus: every valid config validates; every invalid one fails with
//! exactly the diagnostics in its `.expected` file (`severity line:col path: message`,
//! then `    hint: …` when the diagnostic has one).
//!
//! Regenerate expectations with `CAIRN_BLESS=1 cargo test -p cairn-config --test fixtures`
//! and review the diff: the expected files are the specification.

use std::fs;
use std::path::{Path, PathBuf};

use cairn_config::{Severity, validate};

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(kind);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn rendered(path: &Path) -> String {
    let validated = validate(&fs::read(path).expect("fixture readable"));
    let mut out = String::new();
    for d in &validated.diagnostics {
        out.push_str(&format!("{d}\n"));
        if let Some(hint) = &d.hint {
            out.push_str(&format!("    hint: {hint}\n"));
        }
    }
    out
}

fn check_expected(path: &Path, actual: &str) -> Result<(), String> {
    let expected_path = path.with_extension("expected");
    if std::env::var_os("CAIRN_BLESS").is_some() {
        fs::write(&expected_path, actual).expect("writing expectation");
        return Ok(());
    }
    let expected = fs::read_to_string(&expected_path)
        .map_err(|e| format!("{}: {e} (run with CAIRN_BLESS=1 to create it)", expected_path.display()))?;
    if expected != actual {
        return Err(format!(
            "{}:\n{}",
            path.display(),
            similar_asserts::SimpleDiff::from_str(&expected, actual, "expected", "actual")
        ));
    }
    Ok(())
}

#[test]
fn valid_fixtures_validate() {
    let files = fixtures("valid");
    assert!(files.len() >= 4, "the valid corpus went missing");
    let mut failures = Vec::new();
    for path in &files {
        let validated = validate(&fs::read(path).expect("fixture readable"));
        if !validated.is_valid() {
            failures.push(format!("{}:\n{}", path.display(), rendered(path)));
            continue;
        }
        if let Err(e) = check_expected(path, &rendered(path)) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn invalid_fixtures_fail_with_their_expected_diagnostics() {
    let files = fixtures("invalid");
    assert!(files.len() >= 60, "the invalid corpus must cover at least 60 cases, found {}", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let validated = validate(&fs::read(path).expect("fixture readable"));
        if validated.is_valid() || !validated.diagnostics.iter().any(|d| d.severity == Severity::Error) {
            failures.push(format!("{} validated but must not", path.display()));
            continue;
        }
        if let Err(e) = check_expected(path, &rendered(path)) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
