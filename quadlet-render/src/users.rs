//! `[users]` → `users.json` (the accounts to manage) and `admin-signers` (who may
//! sign a re-apply).
//!
//! `admin-signers` is in the allowed-signers format of `ssh-keygen -Y verify`
//! (ssh-keygen(1), "ALLOWED SIGNERS"): `principal namespaces="cairn-provision" key`,
//! one line per admin with a key, so the same file works with OpenSSH's own
//! verifier and with the service's in-process one.

use serde::Serialize;

use cairn_config::Config;

use crate::RenderedFile;

/// The SSH signature namespace of Cairn requests.
pub const SIGNATURE_NAMESPACE: &str = "cairn-provision";
pub const USERS_PATH: &str = "users.json";
pub const ADMIN_SIGNERS_PATH: &str = "admin-signers";
pub const USERS_VERSION: u32 = 1;

#[derive(Serialize)]
struct UsersFile<'a> {
    version: u32,
    users: Vec<UserEntry<'a>>,
}

#[derive(Serialize)]
struct UserEntry<'a> {
    name: &'a str,
    admin: bool,
    /// Login shell path; `null` keeps the system default for new accounts.
    shell: Option<&'static str>,
    /// OpenSSH `authorized_keys` lines (zero or one today).
    authorized_keys: Vec<&'a str>,
}

pub(crate) fn render(config: &Config) -> Vec<RenderedFile> {
    let users = config
        .users
        .values()
        .map(|u| UserEntry {
            name: &u.name.value,
            admin: u.is_admin,
            shell: u.shell.map(|s| s.path()),
            authorized_keys: u.ssh_key.iter().map(|k| k.value.as_str()).collect(),
        })
        .collect();
    let mut json =
        serde_json::to_string_pretty(&UsersFile { version: USERS_VERSION, users }).expect("users always serialize");
    json.push('\n');

    let mut signers = String::from("# Rendered by Cairn from [users]: admins who may sign a re-apply.\n");
    for (name, key) in config.admin_keys() {
        signers.push_str(&format!("{name} namespaces=\"{SIGNATURE_NAMESPACE}\" {key}\n"));
    }
    vec![RenderedFile::data(USERS_PATH, json), RenderedFile::data(ADMIN_SIGNERS_PATH, signers)]
}
