//! The kiosk's only input, `kiosk/bundle.json`, and the checks the kiosk repeats on it.
//!
//! The renderer validates the config before it writes a bundle, but the kiosk still
//! refuses a bundle that would make it draw garbage (a cell outside its grid, a camera
//! that does not exist), so a hand-edited or truncated file fails loudly at load time
//! instead of half-way through a layout switch.
//!
//! The types are `cairn_config::kiosk_bundle`'s, the renderer's output format.

use std::path::Path;

use serde::Deserialize;

pub use cairn_config::kiosk_bundle::{
    BundleCamera, BundleCell, BundleContent, BundleLayout, KIOSK_BUNDLE_VERSION, KioskBundle,
};
pub use cairn_config::{Fit, Priority, StreamChoice, Transport};

/// Why a bundle was refused.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("kiosk bundle: {0}")]
    Json(#[from] serde_json::Error),
    #[error("kiosk bundle version {0} is not supported (expected {KIOSK_BUNDLE_VERSION})")]
    Version(u32),
    #[error("kiosk bundle: {0}")]
    Invalid(String),
}

/// Parses and checks a bundle.
pub fn parse(bytes: &[u8]) -> Result<KioskBundle, BundleError> {
    // Look at the version before the strict parse so a newer bundle is reported
    // as "unsupported version", not as an unknown field somewhere inside it.
    #[derive(Deserialize)]
    struct VersionOnly {
        version: u32,
    }
    let v: VersionOnly = serde_json::from_slice(bytes)?;
    if v.version != KIOSK_BUNDLE_VERSION {
        return Err(BundleError::Version(v.version));
    }
    let bundle: KioskBundle = serde_json::from_slice(bytes)?;
    check(&bundle).map_err(BundleError::Invalid)?;
    Ok(bundle)
}

/// Reads, parses and checks the bundle at `path`.
pub fn load(path: &Path) -> Result<KioskBundle, BundleError> {
    let bytes = std::fs::read(path).map_err(|source| BundleError::Read { path: path.display().to_string(), source })?;
    parse(&bytes)
}

/// The kiosk-side consistency checks (the renderer validated the config, but a
/// hand-edited or truncated bundle must fail here, not mid-switch); the first problem.
pub fn check(bundle: &KioskBundle) -> Result<(), String> {
    if !bundle.layouts.contains_key(&bundle.default_layout) {
        return Err(format!("default_layout '{}' is not a layout", bundle.default_layout));
    }
    for (id, cam) in &bundle.cameras {
        if cam.main.is_none() && cam.sub.is_none() {
            return Err(format!("camera '{id}' has neither a main nor a sub stream"));
        }
        for url in cam.main.iter().chain(cam.sub.iter()) {
            if !(url.starts_with("rtsp://") || url.starts_with("rtsps://")) {
                return Err(format!("camera '{id}': stream '{url}' is not rtsp(s)"));
            }
        }
    }
    for (id, layout) in &bundle.layouts {
        if layout.columns == 0 || layout.rows == 0 || layout.columns > 64 || layout.rows > 64 {
            return Err(format!("layout '{id}': grid {}x{} is out of range 1..=64", layout.columns, layout.rows));
        }
        let mut taken = vec![false; (layout.columns * layout.rows) as usize];
        for (i, cell) in layout.cells.iter().enumerate() {
            let fits = cell.col_span >= 1
                && cell.row_span >= 1
                && cell.col.checked_add(cell.col_span).is_some_and(|e| e <= layout.columns)
                && cell.row.checked_add(cell.row_span).is_some_and(|e| e <= layout.rows);
            if !fits {
                return Err(format!(
                    "layout '{id}' cell {i} does not lie inside the {}x{} grid",
                    layout.columns, layout.rows
                ));
            }
            for r in cell.row..cell.row + cell.row_span {
                for c in cell.col..cell.col + cell.col_span {
                    let slot = &mut taken[(r * layout.columns + c) as usize];
                    if *slot {
                        return Err(format!("layout '{id}' cell {i} overlaps another cell at col {c}, row {r}"));
                    }
                    *slot = true;
                }
            }
            match &cell.content {
                BundleContent::Camera { camera, .. } if !bundle.cameras.contains_key(camera) => {
                    return Err(format!("layout '{id}' cell {i} names camera '{camera}', which does not exist"));
                }
                BundleContent::Url { url } if !(url.starts_with("http://") || url.starts_with("https://")) => {
                    return Err(format!("layout '{id}' cell {i}: '{url}' is not http(s)"));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Reads a camera password file; one trailing newline (LF or CRLF) is not part of it.
pub fn read_password(path: &Path) -> std::io::Result<String> {
    let mut s = std::fs::read_to_string(path)?;
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    Ok(s)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A bundle with two cameras, a 2x2 layout and a hot 1x1 layout, used across the crate's tests.
    pub(crate) fn sample() -> KioskBundle {
        let cam = |main: Option<&str>, sub: Option<&str>| BundleCamera {
            name: "c".into(),
            main: main.map(Into::into),
            sub: sub.map(Into::into),
            username: None,
            password_file: None,
            transport: Transport::Tcp,
            latency_ms: 200,
        };
        let cell = |col, row, col_span, row_span, content| BundleCell {
            col,
            row,
            col_span,
            row_span,
            fit: Fit::Cover,
            content,
        };
        let camera = |c: &str| BundleContent::Camera { camera: c.into(), stream: StreamChoice::Auto };
        KioskBundle {
            version: 1,
            default_layout: "grid".into(),
            idle_revert_seconds: 60,
            cooling_seconds: 30,
            local_api: Some("127.0.0.1:18090".into()),
            cameras: BTreeMap::from([
                ("a".into(), cam(Some("rtsp://127.0.0.1/a-main"), Some("rtsp://127.0.0.1/a-sub"))),
                ("b".into(), cam(Some("rtsp://127.0.0.1/b-main"), None)),
            ]),
            layouts: BTreeMap::from([
                (
                    "grid".into(),
                    BundleLayout {
                        name: "Grid".into(),
                        columns: 2,
                        rows: 2,
                        priority: Priority::Normal,
                        cells: vec![
                            cell(0, 0, 1, 1, camera("a")),
                            cell(1, 0, 1, 1, camera("b")),
                            cell(0, 1, 2, 1, BundleContent::Url { url: "http://127.0.0.1:8000/".into() }),
                        ],
                    },
                ),
                (
                    "solo".into(),
                    BundleLayout {
                        name: "Solo".into(),
                        columns: 4,
                        rows: 4,
                        priority: Priority::Hot,
                        cells: vec![cell(0, 0, 4, 4, camera("a"))],
                    },
                ),
            ]),
        }
    }

    fn json(b: &KioskBundle) -> Vec<u8> {
        serde_json::to_vec(b).unwrap()
    }

    #[test]
    fn round_trips_the_renderer_shape() {
        let b = sample();
        let text = String::from_utf8(json(&b)).unwrap();
        assert!(text.contains(r#""content":{"type":"camera","camera":"a","stream":"auto"}"#), "{text}");
        assert_eq!(parse(text.as_bytes()).unwrap(), b);
    }

    #[test]
    fn refuses_other_versions_and_unknown_fields() {
        let text = String::from_utf8(json(&sample())).unwrap();
        let v2 = text.replace(r#""version":1"#, r#""version":2,"future":true"#);
        assert!(matches!(parse(v2.as_bytes()), Err(BundleError::Version(2))));
        let extra = text.replace(r#""version":1"#, r#""version":1,"password":"x""#);
        assert!(matches!(parse(extra.as_bytes()), Err(BundleError::Json(_))));
    }

    #[test]
    fn refuses_inconsistent_bundles() {
        let mut b = sample();
        b.default_layout = "nope".into();
        assert!(check(&b).unwrap_err().contains("default_layout"));

        let mut b = sample();
        b.layouts.get_mut("grid").unwrap().cells[0].col = 1;
        assert!(check(&b).unwrap_err().contains("overlaps"));

        let mut b = sample();
        b.layouts.get_mut("grid").unwrap().cells[2].col_span = 3;
        assert!(check(&b).unwrap_err().contains("inside"));

        let mut b = sample();
        b.layouts.get_mut("grid").unwrap().cells[0].col = u32::MAX;
        assert!(check(&b).unwrap_err().contains("inside"), "no overflow panic");

        let mut b = sample();
        b.cameras.remove("b");
        assert!(check(&b).unwrap_err().contains("'b'"));

        let mut b = sample();
        b.cameras.get_mut("b").unwrap().main = None;
        assert!(check(&b).unwrap_err().contains("neither"));

        let mut b = sample();
        b.layouts.get_mut("grid").unwrap().cells[2].content = BundleContent::Url { url: "file:///etc/shadow".into() };
        assert!(check(&b).unwrap_err().contains("http"));
    }

    /// Every bundle the renderer's golden cases produce passes the kiosk's own checks.
    #[test]
    fn accepts_the_renderers_golden_bundles() {
        let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases");
        let mut seen = 0;
        for case in std::fs::read_dir(&cases).unwrap() {
            let path = case.unwrap().path().join("expected/kiosk/bundle.json");
            if path.exists() {
                let b = load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert!(!b.layouts.is_empty());
                seen += 1;
            }
        }
        assert!(seen >= 1, "no rendered kiosk bundle under {}", cases.display());
    }

    #[test]
    fn password_files_lose_one_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p");
        for (content, want) in
            [("s3cret\n", "s3cret"), ("s3cret\r\n", "s3cret"), ("s3cret", "s3cret"), ("a\n\n", "a\n")]
        {
            std::fs::write(&p, content).unwrap();
            assert_eq!(read_password(&p).unwrap(), want);
        }
    }
}
