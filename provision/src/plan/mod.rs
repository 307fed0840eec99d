//! Plan: what an apply will change, as data. A pure function over the current and the
//! candidate manifest decides which units to stop, restart, start or leave alone and
//! which host settings changed; activation executes exactly this and nothing else.

mod host;
mod manifest;
mod payload;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

pub use host::HostSetting;
pub use manifest::{Manifest, UnitEntry, UnitMode, sha256_hex};
pub use payload::PayloadHashes;

/// A unit as activation addresses it: the manager and the systemd unit name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
pub struct UnitRef {
    pub mode: UnitMode,
    pub service: String,
}

impl fmt::Display for UnitRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mode {
            UnitMode::Rootful => f.write_str(&self.service),
            UnitMode::Rootless => write!(f, "{} (appsvc)", self.service),
        }
    }
}

/// The changes from one generation to another. Each list is sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Plan {
    /// In the old generation only.
    pub stop: Vec<UnitRef>,
    /// In both, with a different unit file (or listed in `activation.restart`).
    pub restart: Vec<UnitRef>,
    /// In the new generation only.
    pub start: Vec<UnitRef>,
    /// In both with identical unit files: never touched.
    pub unchanged: Vec<UnitRef>,
    /// Host settings whose rendered input changed.
    pub host: Vec<HostSetting>,
}

impl Plan {
    /// Whether activation has anything to do.
    pub fn is_empty(&self) -> bool {
        self.stop.is_empty() && self.restart.is_empty() && self.start.is_empty() && self.host.is_empty()
    }

    /// One line for job events: `stop 1, restart 2, start 0, unchanged 3; host: users`.
    pub fn summary(&self) -> String {
        let host = if self.host.is_empty() {
            "none".to_owned()
        } else {
            self.host.iter().map(|h| h.as_str()).collect::<Vec<_>>().join(", ")
        };
        format!(
            "stop {}, restart {}, start {}, unchanged {}; host settings changed: {host}",
            self.stop.len(),
            self.restart.len(),
            self.start.len(),
            self.unchanged.len()
        )
    }

    /// Multi-line human form for `provision plan`.
    pub fn human(&self) -> String {
        let mut out = String::new();
        for (label, units) in
            [("stop", &self.stop), ("restart", &self.restart), ("start", &self.start), ("unchanged", &self.unchanged)]
        {
            out.push_str(&format!("{label} ({}):\n", units.len()));
            for unit in units {
                out.push_str(&format!("  {unit}\n"));
            }
        }
        out.push_str(&format!("host settings changed ({}):\n", self.host.len()));
        for h in &self.host {
            out.push_str(&format!("  {h}\n"));
        }
        out
    }
}

/// Diffs `old` (None: nothing provisioned yet) against `new`. `always_restart` names
/// services restarted even when unchanged (`activation.restart`).
pub fn diff(old: Option<&Manifest>, new: &Manifest, always_restart: &[String]) -> Plan {
    let empty = Manifest::default();
    let old = old.unwrap_or(&empty);
    let index = |m: &Manifest| -> BTreeMap<UnitRef, String> {
        m.units.iter().map(|u| (UnitRef { mode: u.mode, service: u.service.clone() }, u.sha256.clone())).collect()
    };
    let (before, after) = (index(old), index(new));
    let forced: BTreeSet<&str> = always_restart.iter().map(String::as_str).collect();
    // Units that read the bundle's files/ run something new when those files changed.
    let payload_users: BTreeSet<UnitRef> = if old.payload == new.payload {
        BTreeSet::new()
    } else {
        new.units
            .iter()
            .filter(|u| u.uses_payload)
            .map(|u| UnitRef { mode: u.mode, service: u.service.clone() })
            .collect()
    };
    let mut plan = Plan::default();
    for (unit, hash) in &before {
        if !after.contains_key(unit) {
            plan.stop.push(unit.clone());
        } else if after[unit] != *hash || forced.contains(unit.service.as_str()) || payload_users.contains(unit) {
            plan.restart.push(unit.clone());
        } else {
            plan.unchanged.push(unit.clone());
        }
    }
    plan.start = after.keys().filter(|u| !before.contains_key(*u)).cloned().collect();
    plan.host = host::changed(&old.files, &new.files);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(service: &str, mode: UnitMode, sha: &str) -> UnitEntry {
        UnitEntry {
            uses_payload: false,
            kind: "container".into(),
            name: service.trim_end_matches(".service").into(),
            mode,
            service: service.into(),
            path: format!("quadlet/{service}"),
            sha256: sha.into(),
        }
    }

    fn manifest(units: Vec<UnitEntry>, files: &[(&str, &str)]) -> Manifest {
        Manifest {
            units,
            files: files.iter().map(|(p, h)| (p.to_string(), h.to_string())).collect(),
            payload: BTreeMap::new(),
        }
    }

    fn r(service: &str, mode: UnitMode) -> UnitRef {
        UnitRef { mode, service: service.into() }
    }

    #[test]
    fn first_apply_starts_everything_and_changes_every_present_setting() {
        let new = manifest(
            vec![unit("web.service", UnitMode::Rootless, "a"), unit("db.service", UnitMode::Rootful, "b")],
            &[("users.json", "1"), ("firewall/nftables.conf", "2")],
        );
        let plan = diff(None, &new, &[]);
        assert_eq!(plan.start, vec![r("db.service", UnitMode::Rootful), r("web.service", UnitMode::Rootless)]);
        assert!(plan.stop.is_empty() && plan.restart.is_empty() && plan.unchanged.is_empty());
        assert_eq!(plan.host, vec![HostSetting::Users, HostSetting::Firewall]);
    }

    #[test]
    fn diff_sorts_units_into_stop_restart_start_unchanged() {
        let old = manifest(
            vec![
                unit("gone.service", UnitMode::Rootful, "1"),
                unit("same.service", UnitMode::Rootful, "2"),
                unit("edited.service", UnitMode::Rootless, "3"),
            ],
            &[],
        );
        let new = manifest(
            vec![
                unit("same.service", UnitMode::Rootful, "2"),
                unit("edited.service", UnitMode::Rootless, "3b"),
                unit("new.service", UnitMode::Rootless, "4"),
            ],
            &[],
        );
        let plan = diff(Some(&old), &new, &[]);
        assert_eq!(plan.stop, vec![r("gone.service", UnitMode::Rootful)]);
        assert_eq!(plan.restart, vec![r("edited.service", UnitMode::Rootless)]);
        assert_eq!(plan.start, vec![r("new.service", UnitMode::Rootless)]);
        assert_eq!(plan.unchanged, vec![r("same.service", UnitMode::Rootful)]);
        assert!(plan.host.is_empty());
    }

    #[test]
    fn a_unit_that_changes_mode_is_stopped_in_one_manager_and_started_in_the_other() {
        let old = manifest(vec![unit("web.service", UnitMode::Rootless, "1")], &[]);
        let new = manifest(vec![unit("web.service", UnitMode::Rootful, "1")], &[]);
        let plan = diff(Some(&old), &new, &[]);
        assert_eq!(plan.stop, vec![r("web.service", UnitMode::Rootless)]);
        assert_eq!(plan.start, vec![r("web.service", UnitMode::Rootful)]);
    }

    #[test]
    fn changed_bundle_files_restart_only_the_units_that_read_them() {
        let build = UnitEntry { uses_payload: true, ..unit("web-build.service", UnitMode::Rootful, "b") };
        let units = vec![build, unit("web.service", UnitMode::Rootful, "w")];
        let mut old = manifest(units.clone(), &[]);
        old.payload.insert("web/index.html".into(), "1".into());
        let mut new = manifest(units, &[]);
        new.payload.insert("web/index.html".into(), "1".into());
        let same = diff(Some(&old), &new, &[]);
        assert!(same.restart.is_empty(), "identical files/: nothing restarts: {same:?}");
        new.payload.insert("web/index.html".into(), "2".into());
        let changed = diff(Some(&old), &new, &[]);
        assert_eq!(changed.restart, vec![r("web-build.service", UnitMode::Rootful)]);
        assert_eq!(changed.unchanged, vec![r("web.service", UnitMode::Rootful)]);
        new.payload.clear();
        let removed = diff(Some(&old), &new, &[]);
        assert_eq!(removed.restart, vec![r("web-build.service", UnitMode::Rootful)], "files removed count too");
    }

    #[test]
    fn activation_restart_forces_a_restart_of_unchanged_units_only() {
        let old = manifest(vec![unit("web.service", UnitMode::Rootless, "1")], &[]);
        let new = manifest(
            vec![unit("web.service", UnitMode::Rootless, "1"), unit("db.service", UnitMode::Rootful, "2")],
            &[],
        );
        let plan = diff(Some(&old), &new, &["web.service".into(), "db.service".into()]);
        assert_eq!(plan.restart, vec![r("web.service", UnitMode::Rootless)]);
        assert_eq!(plan.start, vec![r("db.service", UnitMode::Rootful)]);
        assert!(plan.unchanged.is_empty());
    }

    #[test]
    fn host_settings_change_only_when_their_inputs_change() {
        let old = manifest(
            vec![],
            &[("users.json", "1"), ("network/networkd/10-eth0.network", "2"), ("network/chrony.conf", "3")],
        );
        let new = manifest(
            vec![],
            &[("users.json", "1"), ("network/networkd/10-eth0.network", "2b"), ("network/dnsmasq.conf", "4")],
        );
        let plan = diff(Some(&old), &new, &[]);
        assert_eq!(plan.host, vec![HostSetting::Network, HostSetting::Dnsmasq, HostSetting::Chrony]);
        assert!(!plan.is_empty());
        assert!(diff(Some(&new), &new, &[]).is_empty());
    }
}
