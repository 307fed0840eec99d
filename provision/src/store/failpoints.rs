//! Named crash points of the store. Each is a `fail_point!` at one step of staging,
//! promotion, commit, undo or collection; the crash-safety test kills a child process at
//! every one of them and checks that recovery leaves exactly the old or the new generation.
//! Compiled to nothing unless the `fail` crate's `failpoints` feature is on
//! (`provision/failpoints`, or any `cargo test` of this crate).

/// Every failpoint name, in the order an apply reaches them.
pub const ALL: &[&str] = &[
    STAGE_AFTER_CONFIG,
    STAGE_AFTER_FILES,
    STAGE_AFTER_RENDERED,
    STAGE_AFTER_META,
    STAGE_AFTER_RENAME,
    PROMOTE_AFTER_JOURNAL,
    PROMOTE_AFTER_PREVIOUS,
    PROMOTE_AFTER_CURRENT,
    COMMIT_AFTER_JOURNAL,
    COMMIT_AFTER_OUTCOME,
    COMMIT_AFTER_REMOVE,
    COLLECT_AFTER_RENAME,
    COLLECT_AFTER_REMOVE,
    UNDO_AFTER_CURRENT,
    UNDO_AFTER_PREVIOUS,
    UNDO_AFTER_OUTCOME,
    UNDO_AFTER_DISCARD,
];

pub const STAGE_AFTER_CONFIG: &str = "stage-after-config";
pub const STAGE_AFTER_FILES: &str = "stage-after-files";
pub const STAGE_AFTER_RENDERED: &str = "stage-after-rendered";
pub const STAGE_AFTER_META: &str = "stage-after-meta";
pub const STAGE_AFTER_RENAME: &str = "stage-after-rename";
pub const PROMOTE_AFTER_JOURNAL: &str = "promote-after-journal";
pub const PROMOTE_AFTER_PREVIOUS: &str = "promote-after-previous";
pub const PROMOTE_AFTER_CURRENT: &str = "promote-after-current";
pub const COMMIT_AFTER_JOURNAL: &str = "commit-after-journal";
pub const COMMIT_AFTER_OUTCOME: &str = "commit-after-outcome";
pub const COMMIT_AFTER_REMOVE: &str = "commit-after-remove";
pub const COLLECT_AFTER_RENAME: &str = "collect-after-rename";
pub const COLLECT_AFTER_REMOVE: &str = "collect-after-remove";
pub const UNDO_AFTER_CURRENT: &str = "undo-after-current";
pub const UNDO_AFTER_PREVIOUS: &str = "undo-after-previous";
pub const UNDO_AFTER_OUTCOME: &str = "undo-after-outcome";
pub const UNDO_AFTER_DISCARD: &str = "undo-after-discard";

/// Runs the failpoint `name` (a no-op unless failpoints are compiled in and configured).
pub(crate) fn hit(name: &str) {
    fail::fail_point!(name);
    let _ = name;
}
