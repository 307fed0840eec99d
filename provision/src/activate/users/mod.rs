//! Managed user accounts: create the users a generation names (marked as Cairn's by
//! their GECOS), keep their shell, admin group and authorized_keys as configured, lock
//! managed users the config no longer names (password locked, account expired,
//! authorized_keys emptied; never deleted, their files stay), unlock returning ones, and
//! refuse — touching nothing — when a name belongs to an account Cairn did not create.
//!
//! The account root is a parameter: `/` on the device; tests run the real useradd and
//! usermod with `--prefix DIR`, which operate on `DIR/etc/{passwd,shadow,group}`.

mod accounts;
mod keys;
mod plan;
#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::path::Path;

use serde::Deserialize;

use super::command;
use plan::Wanted;

#[derive(Deserialize)]
struct UsersFile {
    users: Vec<UserEntry>,
}

#[derive(Deserialize)]
struct UserEntry {
    name: String,
    admin: bool,
    shell: Option<String>,
    authorized_keys: Vec<String>,
}

/// Applies `users_json` (a generation's rendered users.json) to the accounts under `root`.
pub(crate) async fn apply(root: &Path, users_json: &Path) -> Result<String, String> {
    let bytes = std::fs::read(users_json).map_err(|e| format!("reading {}: {e}", users_json.display()))?;
    let file: UsersFile = serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", users_json.display()))?;
    let wanted: Vec<Wanted> = file
        .users
        .into_iter()
        .map(|u| Wanted { name: u.name, admin: u.admin, shell: u.shell, authorized_keys: u.authorized_keys })
        .collect();
    let plan = plan::plan(&accounts::read(root)?, &wanted)?;
    for argv in &plan.commands {
        command::run(&with_prefix(root, argv)).await?;
    }
    // Created accounts have ids and homes now.
    let db = accounts::read(root)?;
    for (name, contents) in &plan.keys {
        let account = db.get(name).ok_or_else(|| format!("account {name} is missing after useradd"))?;
        let home = root.join(account.home.trim_start_matches('/'));
        if contents.is_empty() && !home.is_dir() {
            continue; // a locked account without a home has no keys to empty
        }
        keys::write(&home, account.uid, account.gid, contents)?;
    }
    Ok(plan.summary(wanted.len()))
}

/// `useradd ARGS` → `useradd --prefix ROOT ARGS` unless the root is `/`.
fn with_prefix(root: &Path, argv: &[String]) -> Vec<OsString> {
    let mut out: Vec<OsString> = Vec::with_capacity(argv.len() + 2);
    out.push(argv[0].clone().into());
    if root != Path::new("/") {
        out.push("--prefix".into());
        out.push(root.into());
    }
    out.extend(argv[1..].iter().map(OsString::from));
    out
}
