//! Cairn's provisioning service and command-line tool. The only crate that touches
//! the system: files, processes, sockets and (later) D-Bus.

pub mod auth;
pub mod cli;
pub(crate) mod input;
pub(crate) mod report;

/// `bytes` random bytes from the OS, lowercase hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the OS random source works");
    hex::encode(buf)
}
