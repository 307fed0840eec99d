//! What to do to the accounts, decided purely from the account database and the users
//! a generation wants: create, update, lock or unlock managed accounts, and refuse —
//! before anything is touched — when a wanted name belongs to an account Cairn did not
//! create. The result is argv lists (without `--prefix`) and authorized_keys contents.

use super::accounts::{ADMIN_GROUP, Account, AccountDb};

/// The GECOS (full name) of every account Cairn creates. Only accounts carrying it are
/// managed: changed, locked, unlocked. Non-root users cannot change their full name
/// under Debian's default `CHFN_RESTRICT rwh`.
pub(crate) const MARKER: &str = "cairn-managed";

/// Login shells users.json may name (cairn-config's `bash|sh|zsh`).
const SHELLS: [&str; 3] = ["/bin/bash", "/bin/sh", "/bin/zsh"];

/// One account users.json asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Wanted {
    pub(crate) name: String,
    pub(crate) admin: bool,
    pub(crate) shell: Option<String>,
    pub(crate) authorized_keys: Vec<String>,
}

/// The commands to run, in order, then the authorized_keys to write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct UsersPlan {
    pub(crate) commands: Vec<Vec<String>>,
    /// Account name → authorized_keys contents (empty for a locked account).
    pub(crate) keys: Vec<(String, String)>,
    pub(crate) created: Vec<String>,
    pub(crate) locked: Vec<String>,
    pub(crate) unlocked: Vec<String>,
}

impl UsersPlan {
    pub(crate) fn summary(&self, wanted: usize) -> String {
        let list = |label: &str, names: &[String]| {
            if names.is_empty() { String::new() } else { format!("; {label} {}", names.join(", ")) }
        };
        format!(
            "{wanted} account{} up to date{}{}{}",
            if wanted == 1 { "" } else { "s" },
            list("created", &self.created),
            list("locked", &self.locked),
            list("unlocked", &self.unlocked)
        )
    }
}

/// cairn-config's account name rule, `^[a-z_][a-z0-9_-]{0,31}$`, checked again here
/// because the name becomes an argument of useradd/usermod.
pub(crate) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && name.len() <= 32
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
}

fn managed(account: &Account) -> bool {
    account.gecos.split(',').next() == Some(MARKER)
}

/// Locked by Cairn: password locked and the account expired (day 1).
fn locked(account: &Account) -> bool {
    account.password.starts_with('!') && account.expire == "1"
}

/// Decides the changes; `Err` names what is refused, and nothing may be run then.
pub(crate) fn plan(db: &AccountDb, wanted: &[Wanted]) -> Result<UsersPlan, String> {
    for user in wanted {
        if !valid_name(&user.name) {
            return Err(format!("refusing account name {:?}: not ^[a-z_][a-z0-9_-]{{0,31}}$", user.name));
        }
        if let Some(shell) = user.shell.as_deref().filter(|s| !SHELLS.contains(s)) {
            return Err(format!("refusing shell {shell:?} for {}: not one of {}", user.name, SHELLS.join(", ")));
        }
        if let Some(key) = user.authorized_keys.iter().find(|k| k.chars().any(char::is_control)) {
            return Err(format!("refusing an authorized key of {} with a control character: {key:?}", user.name));
        }
    }
    let foreign: Vec<&str> =
        wanted.iter().filter(|u| db.get(&u.name).is_some_and(|a| !managed(a))).map(|u| u.name.as_str()).collect();
    if !foreign.is_empty() {
        return Err(format!(
            "refusing to touch existing account{} not created by Cairn: {} (GECOS is not {MARKER:?}); nothing was changed",
            if foreign.len() == 1 { "" } else { "s" },
            foreign.join(", ")
        ));
    }
    let mut plan = UsersPlan::default();
    for user in wanted {
        let keys = user.authorized_keys.iter().map(|k| format!("{k}\n")).collect::<String>();
        plan.keys.push((user.name.clone(), keys));
        let Some(account) = db.get(&user.name) else {
            let mut argv = vec!["useradd".to_owned(), "--create-home".into(), "--user-group".into()];
            argv.extend(["--comment".into(), MARKER.into()]);
            if let Some(shell) = &user.shell {
                argv.extend(["--shell".into(), shell.clone()]);
            }
            argv.push(user.name.clone());
            plan.commands.push(argv);
            if user.admin {
                plan.commands.push(usermod(&["--append", "--groups", ADMIN_GROUP], &user.name));
            }
            plan.created.push(user.name.clone());
            continue;
        };
        let mut options: Vec<String> = Vec::new();
        if let Some(shell) = user.shell.as_ref().filter(|s| **s != account.shell) {
            options.extend(["--shell".into(), shell.clone()]);
        }
        match (user.admin, db.admins.contains(&user.name)) {
            (true, false) => options.extend(["--append".into(), "--groups".into(), ADMIN_GROUP.into()]),
            (false, true) => options.extend(["--remove".into(), "--groups".into(), ADMIN_GROUP.into()]),
            _ => {}
        }
        // A returning user: Cairn locked it by expiring it (and locking a password it had).
        if !account.expire.is_empty() {
            options.extend(["--expiredate".into(), String::new()]);
            plan.unlocked.push(user.name.clone());
        }
        // `!` alone is "no password" (how useradd leaves it): nothing to unlock.
        if account.password.starts_with('!') && account.password.len() > 1 {
            options.push("--unlock".into());
        }
        if !options.is_empty() {
            let options: Vec<&str> = options.iter().map(String::as_str).collect();
            plan.commands.push(usermod(&options, &user.name));
        }
    }
    for account in db.accounts.iter().filter(|a| managed(a) && !wanted.iter().any(|u| u.name == a.name)) {
        if !valid_name(&account.name) {
            return Err(format!("refusing managed account name {:?}: not a Cairn user name", account.name));
        }
        let mut options = Vec::new();
        if !locked(account) {
            options.extend(["--lock", "--expiredate", "1"]);
            plan.locked.push(account.name.clone());
        }
        if db.admins.contains(&account.name) {
            options.extend(["--remove", "--groups", ADMIN_GROUP]);
        }
        if !options.is_empty() {
            plan.commands.push(usermod(&options, &account.name));
        }
        plan.keys.push((account.name.clone(), String::new()));
    }
    Ok(plan)
}

fn usermod(options: &[&str], name: &str) -> Vec<String> {
    std::iter::once("usermod").chain(options.iter().copied()).chain([name]).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::super::accounts::parse;
    use super::*;

    fn wanted(name: &str, admin: bool) -> Wanted {
        Wanted { name: name.into(), admin, shell: None, authorized_keys: vec![format!("ssh-ed25519 AAAA {name}")] }
    }

    fn db() -> AccountDb {
        parse(
            "root:x:0:0:root:/root:/bin/bash\n\
             alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n\
             bob:x:1001:1001:cairn-managed:/home/bob:/bin/sh\n\
             carol:x:1002:1002:cairn-managed:/home/carol:/bin/sh\n",
            "root:*:19000:0:99999:7:::\nalice:$6$h:19000:0:99999:7:::\nbob:!:20000::::::\n\
             carol:!$6$h:20000:::::1:\n",
            "sudo:x:27:bob\n",
        )
    }

    #[test]
    fn names_are_checked_again_before_they_reach_argv() {
        for bad in ["", "-o", "Root", "a b", "../x", "x;y", &"a".repeat(33)] {
            assert!(!valid_name(bad), "{bad:?}");
            let err = plan(&AccountDb::default(), &[wanted(bad, false)]).unwrap_err();
            assert!(err.starts_with("refusing account name"), "{err}");
        }
        assert!(valid_name("_svc-1") && valid_name(&"a".repeat(32)));
    }

    #[test]
    fn a_wanted_name_held_by_an_unmanaged_account_is_refused_and_nothing_is_planned() {
        let err = plan(&db(), &[wanted("dave", false), wanted("alice", true), wanted("root", false)]).unwrap_err();
        assert_eq!(
            err,
            "refusing to touch existing accounts not created by Cairn: alice, root (GECOS is not \"cairn-managed\"); \
             nothing was changed"
        );
    }

    #[test]
    fn new_users_are_created_with_the_marker_and_managed_ones_follow_the_config() {
        let mut dave = wanted("dave", true);
        dave.shell = Some("/bin/bash".into());
        // bob stays but loses admin; carol is absent: locked already, so only her keys are emptied.
        let p = plan(&db(), &[dave, wanted("bob", false)]).unwrap();
        assert_eq!(
            p.commands,
            [
                vec![
                    "useradd",
                    "--create-home",
                    "--user-group",
                    "--comment",
                    "cairn-managed",
                    "--shell",
                    "/bin/bash",
                    "dave"
                ],
                vec!["usermod", "--append", "--groups", "sudo", "dave"],
                vec!["usermod", "--remove", "--groups", "sudo", "bob"],
            ]
        );
        assert_eq!(
            p.keys,
            [
                ("dave".to_owned(), "ssh-ed25519 AAAA dave\n".to_owned()),
                ("bob".to_owned(), "ssh-ed25519 AAAA bob\n".to_owned()),
                ("carol".to_owned(), String::new()),
            ]
        );
        assert_eq!((p.created, p.locked), (vec!["dave".to_owned()], vec![]));
    }

    #[test]
    fn absent_managed_users_are_locked_and_returning_ones_unlocked() {
        let p = plan(&db(), &[wanted("carol", false)]).unwrap();
        assert_eq!(
            p.commands,
            [
                vec!["usermod", "--expiredate", "", "--unlock", "carol"],
                vec!["usermod", "--lock", "--expiredate", "1", "--remove", "--groups", "sudo", "bob"],
            ]
        );
        assert_eq!(p.keys[1], ("bob".to_owned(), String::new()));
        assert_eq!((p.locked, p.unlocked), (vec!["bob".to_owned()], vec!["carol".to_owned()]));
        assert_eq!(p.commands.len(), 2, "alice and root are never addressed");
    }
}
