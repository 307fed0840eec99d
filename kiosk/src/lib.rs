//! Cairn's kiosk display.
//!
//! The library is pure and GTK-free: the bundle model ([`bundle`]), grid geometry
//! ([`geometry`]), stream choice ([`stream`]), the warm/cooling pool planner ([`pool`]),
//! timing decisions ([`timing`]), the authenticated LAN API ([`local_api`]) and systemd
//! notification ([`notify`]). The GTK 4 / GStreamer / WebKit front end lives in
//! [`display`], behind the `display` cargo feature.

pub mod bundle;
pub mod geometry;
pub mod local_api;
pub mod notify;
pub mod pool;
pub mod stream;
pub mod timing;

#[cfg(feature = "display")]
pub mod display;

/// Where the renderer puts the bundle on the device.
pub const DEFAULT_BUNDLE: &str = "/data/cairn/current/rendered/kiosk/bundle.json";
/// Where the kiosk keeps its own state (the local API key).
pub const DEFAULT_STATE_DIR: &str = "/data/cairn/kiosk";
