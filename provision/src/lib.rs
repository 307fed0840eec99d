//! Cairn's provisioning service and command-line tool. The only crate that touches
//! the system: files, processes, sockets and D-Bus.
//!
//! Pipeline of one apply: [`jobs`] (single-flight runner) → [`render`] → [`plan`] →
//! [`store`] (generations, crash-safe promote) → [`activate`] (systemd, health).
//! The HTTP side: [`api`] (routes, OpenAPI), [`auth`] (signatures, nonces, Host checks), `ui` (Boot UI).

pub mod activate;
pub mod api;
pub mod auth;
pub mod cli;
pub(crate) mod input;
pub mod jobs;
pub mod plan;
pub mod render;
pub(crate) mod report;
pub mod store;
pub(crate) mod ui;

/// `bytes` random bytes from the OS, lowercase hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the OS random source works");
    hex::encode(buf)
}
