//! `kiosk/bundle.json`: the kiosk display's only input, written by the renderer.
//!
//! It is versioned ([`KIOSK_BUNDLE_VERSION`]) so a kiosk can refuse a bundle it does
//! not understand instead of showing something wrong. Credentials never appear in
//! it: a camera's password is referenced by the runtime path of a file (0600, owned
//! by the kiosk's user). Readers strip one trailing newline from that file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::display::{Fit, Priority, StreamChoice, Transport};

/// The bundle format this crate writes and reads.
pub const KIOSK_BUNDLE_VERSION: u32 = 1;

/// Everything the kiosk shows, with every default resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskBundle {
    /// Always [`KIOSK_BUNDLE_VERSION`] for this type.
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
    /// Full-resolution `rtsp(s)://` stream.
    pub main: Option<String>,
    /// Low-resolution stream for small cells.
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

impl KioskBundle {
    /// Parses a bundle, refusing other versions.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let bundle: Self = serde_json::from_slice(bytes).map_err(|e| format!("kiosk bundle: {e}"))?;
        if bundle.version != KIOSK_BUNDLE_VERSION {
            return Err(format!(
                "kiosk bundle version {} is not supported (expected {KIOSK_BUNDLE_VERSION})",
                bundle.version
            ));
        }
        Ok(bundle)
    }

    /// Pretty JSON with a trailing newline; key order is fixed by the types.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a kiosk bundle always serializes");
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_versions() {
        let bundle = KioskBundle {
            version: KIOSK_BUNDLE_VERSION,
            default_layout: "l".into(),
            idle_revert_seconds: 0,
            cooling_seconds: 30,
            local_api: None,
            cameras: BTreeMap::new(),
            layouts: BTreeMap::from([(
                "l".into(),
                BundleLayout {
                    name: "L".into(),
                    columns: 1,
                    rows: 1,
                    priority: Priority::Normal,
                    cells: vec![BundleCell {
                        col: 0,
                        row: 0,
                        col_span: 1,
                        row_span: 1,
                        fit: Fit::Cover,
                        content: BundleContent::Url { url: "https://example.com/".into() },
                    }],
                },
            )]),
        };
        let json = bundle.to_json();
        assert_eq!(KioskBundle::from_json(json.as_bytes()).unwrap(), bundle);
        let v2 = json.replace("\"version\": 1", "\"version\": 2");
        assert!(KioskBundle::from_json(v2.as_bytes()).unwrap_err().contains("version 2"));
        let extra = json.replace("\"version\": 1", "\"version\": 1, \"password\": \"x\"");
        assert!(KioskBundle::from_json(extra.as_bytes()).is_err());
    }
}
