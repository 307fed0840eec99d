//! Structured journal records of the events an operator searches for — a generation
//! promoted, committed, rolled back — each with a fixed MESSAGE_ID
//! (`journalctl MESSAGE_ID=…`). Sent with journald's native datagram protocol; silently
//! nothing when there is no journald (dev hosts, tests).

use std::os::unix::net::UnixDatagram;

const SOCKET: &str = "/run/systemd/journal/socket";

/// `current` now points to a new generation (not yet proven healthy).
pub(crate) const PROMOTED: &str = "fe0cbd06e9ee4c9ab75a1c3d8308f081";
/// A generation passed health and is committed.
pub(crate) const COMMITTED: &str = "7096ca1f992145daa391a3e8828041f5";
/// A failed change was rolled back (or a failed first apply discarded).
pub(crate) const ROLLED_BACK: &str = "b7389efa8aba4238b0f20a95f842ee68";
/// Rolling back failed: the device may be between generations.
pub(crate) const ROLLBACK_FAILED: &str = "6ee7a9067b2d4f3b939f2f4295e5cc1f";

/// Sends one record; `fields` are extra `KEY=value` pairs (single-line values only).
pub(crate) fn record(message_id: &str, priority: u8, message: &str, fields: &[(&str, String)]) {
    let Ok(socket) = UnixDatagram::unbound() else { return };
    let mut datagram = format!(
        "MESSAGE_ID={message_id}\nPRIORITY={priority}\nSYSLOG_IDENTIFIER=provision\nMESSAGE={}\n",
        single_line(message)
    );
    for (key, value) in fields {
        datagram.push_str(&format!("{key}={}\n", single_line(value)));
    }
    let _ = socket.send_to(datagram.as_bytes(), SOCKET);
}

fn single_line(s: &str) -> String {
    s.replace('\n', " ")
}
