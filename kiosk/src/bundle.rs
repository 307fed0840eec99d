//! The kiosk's only input, `kiosk/bundle.json`, and the checks the kiosk repeats on it.
//!
//! The renderer validates the config before it writes a bundle, but the kiosk still
//! refuses a bundle that would make it draw garbage (a cell outside its grid, a camera
//! that does not exist), so a hand-edited or truncated file fails loudly at load time
//! instead of half-way through a layout switch.
//!
//! The types mirror `cairn_config::kiosk_bundle` field for field (same JSON); once that
//! module is on `main` this file re-exports it and keeps only the kiosk-side checks.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The bundle format the kiosk understands.
pub const KIOSK_BUNDLE_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Tcp,
    Udp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Normal,
    /// Keep every cell decoded even while another layout is shown.
    Hot,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamChoice {
    Auto,
    Main,
    Sub,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fit {
    Cover,
    Contain,
    Fill,
}

/// Everything the kiosk shows, with every default resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskBundle {
    pub version: u32,
    pub default_layout: String,
    /// Back to `default_layout` after this long without input; 0 = never.
    pub idle_revert_seconds: u32,
    /// How long streams of a layout no longer shown stay decoded.
    pub cooling_seconds: u32,
    /// `ip:port` of the LAN layout-switching API, when enabled.
    pub local_api: Option<String>,
    pub cameras: BTreeMap<String, BundleCamera>,
    pub layouts: BTreeMap<String, BundleLayout>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleCamera {
    pub name: String,
    pub main: Option<String>,
    pub sub: Option<String>,
    pub username: Option<String>,
    /// Runtime path of a file holding the password; never the password itself.
    pub password_file: Option<String>,
    pub transport: Transport,
    pub latency_ms: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleLayout {
    pub name: String,
    pub columns: u32,
    pub rows: u32,
    pub priority: Priority,
    pub cells: Vec<BundleCell>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleCell {
    pub col: u32,
    pub row: u32,
    pub col_span: u32,
    pub row_span: u32,
    pub fit: Fit,
    pub content: BundleContent,
}

/// What a cell shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum BundleContent {
    Camera {
        camera: String,
        stream: StreamChoice,
    },
    Url {
        url: String,
    },
    Html {
        html: String,
    },
    /// Runtime path of an HTML file.
    HtmlFile {
        path: String,
    },
}

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

impl KioskBundle {
    /// Parses and checks a bundle.
    pub fn from_json(bytes: &[u8]) -> Result<Self, BundleError> {
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
        let bundle: Self = serde_json::from_slice(bytes)?;
        bundle.check().map_err(BundleError::Invalid)?;
        Ok(bundle)
    }

    /// Reads, parses and checks the bundle at `path`.
    pub fn load(path: &Path) -> Result<Self, BundleError> {
        let bytes =
            std::fs::read(path).map_err(|source| BundleError::Read { path: path.display().to_string(), source })?;
        Self::from_json(&bytes)
    }

    /// The kiosk-side consistency checks; the first problem found.
    pub fn check(&self) -> Result<(), String> {
        if !self.layouts.contains_key(&self.default_layout) {
            return Err(format!("default_layout '{}' is not a layout", self.default_layout));
        }
        for (id, cam) in &self.cameras {
            if cam.main.is_none() && cam.sub.is_none() {
                return Err(format!("camera '{id}' has neither a main nor a sub stream"));
            }
            for url in cam.main.iter().chain(cam.sub.iter()) {
                if !(url.starts_with("rtsp://") || url.starts_with("rtsps://")) {
                    return Err(format!("camera '{id}': stream '{url}' is not rtsp(s)"));
                }
            }
        }
        for (id, layout) in &self.layouts {
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
                    BundleContent::Camera { camera, .. } if !self.cameras.contains_key(camera) => {
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
        assert_eq!(KioskBundle::from_json(text.as_bytes()).unwrap(), b);
    }

    #[test]
    fn refuses_other_versions_and_unknown_fields() {
        let text = String::from_utf8(json(&sample())).unwrap();
        let v2 = text.replace(r#""version":1"#, r#""version":2,"future":true"#);
        assert!(matches!(KioskBundle::from_json(v2.as_bytes()), Err(BundleError::Version(2))));
        let extra = text.replace(r#""version":1"#, r#""version":1,"password":"x""#);
        assert!(matches!(KioskBundle::from_json(extra.as_bytes()), Err(BundleError::Json(_))));
    }

    #[test]
    fn refuses_inconsistent_bundles() {
        let mut b = sample();
        b.default_layout = "nope".into();
        assert!(b.check().unwrap_err().contains("default_layout"));

        let mut b = sample();
        b.layouts.get_mut("grid").unwrap().cells[0].col = 1;
        assert!(b.check().unwrap_err().contains("overlaps"));

        let mut b = sample();
        b.layouts.get_mut("grid").unwrap().cells[2].col_span = 3;
        assert!(b.check().unwrap_err().contains("inside"));

        let mut b = sample();
        b.layouts.get_mut("grid").unwrap().cells[0].col = u32::MAX;
        assert!(b.check().unwrap_err().contains("inside"), "no overflow panic");

        let mut b = sample();
        b.cameras.remove("b");
        assert!(b.check().unwrap_err().contains("'b'"));

        let mut b = sample();
        b.cameras.get_mut("b").unwrap().main = None;
        assert!(b.check().unwrap_err().contains("neither"));

        let mut b = sample();
        b.layouts.get_mut("grid").unwrap().cells[2].content = BundleContent::Url { url: "file:///etc/shadow".into() };
        assert!(b.check().unwrap_err().contains("http"));
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
