//! The account database under a root (`/` on the device): passwd, shadow and group,
//! parsed into what managing users needs. Parsing is pure; only [`read`] does I/O.

use std::collections::BTreeSet;
use std::path::Path;

/// One account, with its shadow fields (empty when it has no shadow entry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Account {
    pub(crate) name: String,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) gecos: String,
    /// As written in passwd (absolute on the device; below the root in tests).
    pub(crate) home: String,
    pub(crate) shell: String,
    /// Shadow password field: `!` prefixes a locked password.
    pub(crate) password: String,
    /// Shadow expiry field (days since 1970), empty when the account never expires.
    pub(crate) expire: String,
}

/// The accounts, and the members of the admin group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct AccountDb {
    pub(crate) accounts: Vec<Account>,
    pub(crate) admins: BTreeSet<String>,
}

impl AccountDb {
    pub(crate) fn get(&self, name: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.name == name)
    }
}

/// The group whose members may use sudo (Debian's).
pub(crate) const ADMIN_GROUP: &str = "sudo";

/// Parses passwd, shadow and group text. Malformed lines are skipped: they are not
/// accounts Cairn could manage, and useradd/usermod will complain about them if they matter.
pub(crate) fn parse(passwd: &str, shadow: &str, group: &str) -> AccountDb {
    let shadow_of = |name: &str| -> (String, String) {
        shadow
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.len() >= 8 && f[0] == name)
            .map_or_else(Default::default, |f| (f[1].to_owned(), f[7].to_owned()))
    };
    let accounts = passwd
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() != 7 {
                return None;
            }
            let (password, expire) = shadow_of(f[0]);
            Some(Account {
                name: f[0].to_owned(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                gecos: f[4].to_owned(),
                home: f[5].to_owned(),
                shell: f[6].to_owned(),
                password,
                expire,
            })
        })
        .collect();
    let admins = group
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() == 4 && f[0] == ADMIN_GROUP)
        .map(|f| f[3].split(',').filter(|m| !m.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    AccountDb { accounts, admins }
}

/// Reads `<root>/etc/{passwd,shadow,group}`.
pub(crate) fn read(root: &Path) -> Result<AccountDb, String> {
    let file = |name: &str| {
        let path = root.join("etc").join(name);
        std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))
    };
    Ok(parse(&file("passwd")?, &file("shadow")?, &file("group")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_carry_their_shadow_fields_and_admins_come_from_the_sudo_group() {
        let db = parse(
            "root:x:0:0:root:/root:/bin/bash\nbob:x:1001:1001:cairn-managed:/home/bob:/bin/sh\nbroken line\n",
            "root:*:19000:0:99999:7:::\nbob:!:20000:::::1:\n",
            "root:x:0:\nsudo:x:27:bob,carol\n",
        );
        assert_eq!(db.accounts.len(), 2);
        let bob = db.get("bob").unwrap();
        assert_eq!(
            (bob.uid, bob.gid, bob.gecos.as_str(), bob.home.as_str()),
            (1001, 1001, "cairn-managed", "/home/bob")
        );
        assert_eq!((bob.password.as_str(), bob.expire.as_str()), ("!", "1"));
        assert_eq!(db.get("root").unwrap().expire, "");
        assert_eq!(db.admins.iter().map(String::as_str).collect::<Vec<_>>(), ["bob", "carol"]);
    }
}
