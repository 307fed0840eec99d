//! Giving rendered files to the account that must read them (the kiosk's camera
//! secrets), looked up in /etc/passwd: the accounts are part of the image.

use std::io;
use std::path::Path;

use rustix::fs::{Gid, Uid, chown as set_owner};

/// Changes `path` to `user`'s uid and primary gid. `Ok(false)` when no such account exists
/// here (a dev host), so the caller can report it.
pub(crate) fn chown(path: &Path, user: &str) -> io::Result<bool> {
    let passwd = std::fs::read_to_string("/etc/passwd")?;
    let Some((uid, gid)) = lookup(&passwd, user) else { return Ok(false) };
    set_owner(path, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)))?;
    Ok(true)
}

fn lookup(passwd: &str, user: &str) -> Option<(u32, u32)> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != user {
            return None;
        }
        let _password = fields.next()?;
        Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_uid_and_gid() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\ncairn-kiosk:x:990:985::/var/lib/kiosk:/usr/sbin/nologin\n";
        assert_eq!(super::lookup(passwd, "cairn-kiosk"), Some((990, 985)));
        assert_eq!(super::lookup(passwd, "cairn"), None);
    }
}
