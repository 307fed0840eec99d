//! Managing accounts with the real shadow tools (useradd/usermod `--prefix`) on an
//! account database in a temporary directory — never the host's. Needs root (as the
//! tools do) and the `passwd` package; both are there wherever `cargo test` runs here.

use std::path::{Path, PathBuf};

use super::apply;

/// A root with an unmanaged `alice`, an admin group, and `/home`.
struct Root(tempfile::TempDir);

impl Root {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let etc = dir.path().join("etc");
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::create_dir_all(dir.path().join("home/alice/.ssh")).unwrap();
        let files = [
            ("passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n"),
            ("shadow", "root:*:19000:0:99999:7:::\nalice:$6$hash:19000:0:99999:7:::\n"),
            ("group", "root:x:0:\nsudo:x:27:alice\nalice:x:1000:\n"),
            ("gshadow", "root:*::\nsudo:*::alice\nalice:!::\n"),
        ];
        for (name, text) in files {
            std::fs::write(etc.join(name), text).unwrap();
        }
        std::fs::write(dir.path().join("home/alice/.ssh/authorized_keys"), "ssh-ed25519 AAAA alice-own\n").unwrap();
        Self(dir)
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
    /// Applies a users.json naming `users` as (name, admin, key).
    async fn apply(&self, users: &[(&str, bool, &str)]) -> Result<String, String> {
        let users: Vec<_> = users
            .iter()
            .map(|(name, admin, key)| {
                serde_json::json!({ "name": name, "admin": admin, "shell": "/bin/sh", "authorized_keys": [key] })
            })
            .collect();
        let json = self.path().join("users.json");
        std::fs::write(&json, serde_json::json!({ "version": 1, "users": users }).to_string()).unwrap();
        apply(self.path(), &json).await
    }
    fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.path().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }
    fn line(&self, file: &str, name: &str) -> String {
        let text = self.read(&format!("etc/{file}"));
        text.lines().find(|l| l.starts_with(&format!("{name}:"))).unwrap_or_else(|| panic!("{name} in {file}")).into()
    }
    /// The account database files and alice's home, byte for byte.
    fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        ["etc/passwd", "etc/shadow", "etc/group", "etc/gshadow", "home/alice/.ssh/authorized_keys"]
            .iter()
            .map(|p| (PathBuf::from(p), std::fs::read(self.path().join(p)).unwrap()))
            .collect()
    }
}

#[tokio::test]
async fn users_are_created_marked_and_keyed_and_unmanaged_accounts_are_left_alone() {
    let root = Root::new();
    let alice_before = (root.line("passwd", "alice"), root.line("shadow", "alice"));
    let summary =
        root.apply(&[("bob", true, "ssh-ed25519 AAAA bob"), ("carol", false, "ssh-ed25519 AAAA carol")]).await;
    assert_eq!(summary.unwrap(), "2 accounts up to date; created bob, carol");
    let bob: Vec<String> = root.line("passwd", "bob").split(':').map(str::to_owned).collect();
    assert_eq!((bob[4].as_str(), bob[5].as_str(), bob[6].as_str()), ("cairn-managed", "/home/bob", "/bin/sh"));
    assert_eq!(root.line("group", "sudo"), "sudo:x:27:alice,bob", "bob is an admin, carol is not");
    assert_eq!(root.read("home/bob/.ssh/authorized_keys"), "ssh-ed25519 AAAA bob\n");
    let meta = std::fs::metadata(root.path().join("home/bob/.ssh/authorized_keys")).unwrap();
    let uid: u32 = bob[2].parse().unwrap();
    assert_eq!(
        (std::os::unix::fs::MetadataExt::uid(&meta), std::os::unix::fs::MetadataExt::mode(&meta) & 0o777),
        (uid, 0o600)
    );
    assert_eq!((root.line("passwd", "alice"), root.line("shadow", "alice")), alice_before);
    // Applying the same users again changes nothing.
    let before = root.snapshot();
    assert_eq!(
        root.apply(&[("bob", true, "ssh-ed25519 AAAA bob"), ("carol", false, "ssh-ed25519 AAAA carol")]).await.unwrap(),
        "2 accounts up to date"
    );
    assert_eq!(root.snapshot(), before);
}

#[tokio::test]
async fn a_name_held_by_an_unmanaged_account_fails_the_step_and_touches_nothing() {
    let root = Root::new();
    let before = root.snapshot();
    let err = root.apply(&[("bob", true, "ssh-ed25519 AAAA bob"), ("alice", true, "ssh-ed25519 AAAA evil")]).await;
    assert_eq!(
        err.unwrap_err(),
        "refusing to touch existing account not created by Cairn: alice (GECOS is not \"cairn-managed\"); \
         nothing was changed"
    );
    assert_eq!(root.snapshot(), before, "bob was not created either, and alice's keys are hers");
    assert!(!root.path().join("home/bob").exists());
}

#[tokio::test]
async fn removed_users_are_locked_not_deleted_and_a_returning_user_is_unlocked() {
    let root = Root::new();
    root.apply(&[("bob", true, "ssh-ed25519 AAAA bob"), ("carol", false, "ssh-ed25519 AAAA carol")]).await.unwrap();
    std::fs::write(root.path().join("home/bob/notes.txt"), "kept").unwrap();

    let summary = root.apply(&[("carol", false, "ssh-ed25519 AAAA carol")]).await.unwrap();
    assert_eq!(summary, "1 account up to date; locked bob");
    let shadow: Vec<String> = root.line("shadow", "bob").split(':').map(str::to_owned).collect();
    assert!(shadow[1].starts_with('!'), "password locked: {shadow:?}");
    assert_eq!(shadow[7], "1", "account expired: {shadow:?}");
    assert_eq!(root.read("home/bob/.ssh/authorized_keys"), "", "keys emptied");
    assert_eq!(root.read("home/bob/notes.txt"), "kept", "files stay");
    assert!(root.line("passwd", "bob").contains(":cairn-managed:"), "the account stays");
    assert_eq!(root.line("group", "sudo"), "sudo:x:27:alice", "a locked user is no admin");

    let summary = root.apply(&[("bob", false, "ssh-ed25519 AAAA bob-new"), ("carol", false, "ssh-ed25519 AAAA carol")]);
    assert_eq!(summary.await.unwrap(), "2 accounts up to date; unlocked bob");
    let shadow: Vec<String> = root.line("shadow", "bob").split(':').map(str::to_owned).collect();
    assert_eq!(shadow[7], "", "no longer expired: {shadow:?}");
    assert_eq!(root.read("home/bob/.ssh/authorized_keys"), "ssh-ed25519 AAAA bob-new\n");
}

#[tokio::test]
async fn a_symlinked_ssh_directory_is_not_followed() {
    let root = Root::new();
    root.apply(&[("bob", false, "ssh-ed25519 AAAA bob")]).await.unwrap();
    let elsewhere = root.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let ssh = root.path().join("home/bob/.ssh");
    std::fs::remove_dir_all(&ssh).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &ssh).unwrap();
    let err = root.apply(&[("bob", false, "ssh-ed25519 AAAA bob2")]).await.unwrap_err();
    assert!(err.contains(".ssh") && err.contains("symlink is refused"), "{err}");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0, "nothing written through the link");
}
