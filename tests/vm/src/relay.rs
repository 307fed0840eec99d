//! `cairn-vm relay HOST:PORT`: the host end of a qemu `guestfwd` (see
//! [`crate::qemu::Extras`]). qemu starts one relay per guest connection, with that
//! connection as stdin, stdout and stderr; the relay copies bytes both ways between it
//! and a TCP server on the host until either side closes.
//!
//! Nothing may be written to stderr: it is the guest's connection.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};

/// Copies until EOF or an error; returns nothing, the caller only needs it finished.
fn pump(mut from: impl Read, mut to: impl Write) {
    let mut buf = [0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if to.write_all(&buf[..n]).and_then(|()| to.flush()).is_err() {
                    return;
                }
            }
        }
    }
}

/// Runs the relay; the exit code is 0 when the connection ended, 1 when the server
/// could not be reached (the guest then sees its connection closed).
pub fn run(addr: &str) -> i32 {
    let Ok(server) = TcpStream::connect(addr) else { return 1 };
    let Ok(upstream) = server.try_clone() else { return 1 };
    let to_server = std::thread::spawn(move || {
        pump(std::io::stdin().lock(), &upstream);
        let _ = upstream.shutdown(Shutdown::Write);
    });
    pump(&server, std::io::stdout().lock());
    // The server closed: end the guest's connection too, without waiting for its side.
    let _ = server.shutdown(Shutdown::Both);
    drop(to_server);
    0
}
