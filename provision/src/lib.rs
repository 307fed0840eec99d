//! Cairn's provisioning service and command-line tool. The only crate that touches
//! the system: files, processes, sockets and (later) D-Bus.

pub mod cli;
pub(crate) mod input;
pub(crate) mod report;
