//! `[users.<name>]`: accounts on the device; admins' keys sign re-applies.

use std::collections::BTreeMap;

use crate::Spanned;
use crate::checks::ssh_public_key;
use crate::diagnostic::Diagnostics;
use crate::syntax::{Node, OptionalField, TableNode};

/// Account names that belong to the system or to Cairn itself.
pub const RESERVED_USER_NAMES: &[&str] = &[
    "root",
    "appsvc",
    "bin",
    "daemon",
    "nobody",
    "dnsmasq",
    "chrony",
    "systemd-network",
    "systemd-resolve",
    "systemd-timesync",
    KIOSK_USER,
];

/// The dedicated account the kiosk display runs as.
pub const KIOSK_USER: &str = "cairn-kiosk";

/// A managed login account.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub name: Spanned<String>,
    pub is_admin: bool,
    /// One OpenSSH public key line; `None` when the key is empty.
    pub ssh_key: Option<Spanned<String>>,
    pub shell: Option<Shell>,
}

/// Login shells an operator may choose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Sh,
    Zsh,
}

impl Shell {
    pub fn path(self) -> &'static str {
        match self {
            Shell::Bash => "/bin/bash",
            Shell::Sh => "/bin/sh",
            Shell::Zsh => "/bin/zsh",
        }
    }
}

fn user_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !(first_ok && rest_ok && name.len() <= 32) {
        return Err(format!(
            "{name:?} is not a valid user name: lowercase letters, digits, `_` and `-`, starting with a letter or `_`, at most 32"
        ));
    }
    if RESERVED_USER_NAMES.contains(&name) {
        return Err(format!("{name:?} is reserved for the system"));
    }
    Ok(())
}

pub(crate) fn decode(node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<BTreeMap<String, User>> {
    let table = node.table(d)?;
    if table.is_empty() {
        d.error(&table.path, node.span(), "at least one user is required")
            .hint("add [users.<name>] with isAdmin = true and an ssh_key");
        return None;
    }
    let mut users = BTreeMap::new();
    let mut ok = true;
    let mut has_admin_key = false;
    for (name, entry) in table.entries() {
        if let Err(message) = user_name(name.value) {
            d.error(&entry.path, name.span.clone(), message).hint("rename the user");
            ok = false;
        }
        match decode_user(name, &entry, d) {
            Some(user) => {
                has_admin_key |= user.is_admin && user.ssh_key.is_some();
                users.insert(user.name.value.clone(), user);
            }
            None => ok = false,
        }
    }
    if ok && !has_admin_key {
        d.error(&table.path, table.span.clone(), "no admin user with an ssh_key: nobody could re-apply a config")
            .hint("set isAdmin = true and ssh_key = \"ssh-ed25519 …\" on at least one user");
        return None;
    }
    ok.then_some(users)
}

fn decode_user(name: Spanned<&str>, node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<User> {
    let table: TableNode = node.table(d)?;
    table.deny_unknown_keys(d, &["isAdmin", "ssh_key", "shell"]);
    let is_admin = table.get("isAdmin").map(|n| n.bool(d).map(|b| b.value));
    let ssh_key = table.get("ssh_key").map(|n| {
        let key = n.string(d)?;
        if key.value.trim().is_empty() {
            return Some(None);
        }
        match ssh_public_key(key.value.trim()) {
            Ok(()) => Some(Some(Spanned::new(key.value.trim().to_owned(), key.span))),
            Err(message) => {
                d.error(&n.path, key.span, format!("SSH public key {message}"))
                    .hint("paste one line of the .pub file, e.g. `ssh-ed25519 AAAA… you@host`");
                None
            }
        }
    });
    let shell = table.get("shell").map(|n| {
        n.choice(d, &["bash", "sh", "zsh"]).map(|s| match s.value {
            "bash" => Shell::Bash,
            "sh" => Shell::Sh,
            _ => Shell::Zsh,
        })
    });
    Some(User {
        name: Spanned::new(name.value.to_owned(), name.span),
        is_admin: is_admin.unwrap_or(Some(false))?,
        ssh_key: ssh_key.unwrap_or(Some(None))?,
        shell: shell.optional()?,
    })
}

#[cfg(test)]
mod tests {
    use super::user_name;

    #[test]
    fn user_names() {
        assert!(user_name("alice").is_ok());
        assert!(user_name("_svc-1").is_ok());
        assert!(user_name("Alice").is_err());
        assert!(user_name("1abc").is_err());
        assert!(user_name(&"a".repeat(33)).is_err());
        assert!(user_name("root").unwrap_err().contains("reserved"));
        assert!(user_name("cairn-kiosk").unwrap_err().contains("reserved"));
    }
}
