//! Cairn's provisioning service and command-line tool. The only crate that touches
//! the system: files, processes, sockets and D-Bus.
//!
//! Pipeline of one apply: [`jobs`] (single-flight runner) → [`render`] → [`plan`] →
//! [`store`] (generations, crash-safe promote) → [`activate`] (systemd, health).

pub mod activate;
pub mod cli;
pub(crate) mod input;
pub mod jobs;
pub mod plan;
pub mod render;
pub(crate) mod report;
pub mod store;
