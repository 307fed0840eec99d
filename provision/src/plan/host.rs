//! Host settings: the parts of the device outside Quadlet that a generation configures,
//! recognised by where their rendered inputs live under `rendered/`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// One host setting an apply may change; each is applied only when its input changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HostSetting {
    Users,
    Network,
    Firewall,
    Dnsmasq,
    Chrony,
    Kiosk,
}

impl HostSetting {
    pub const ALL: [HostSetting; 6] =
        [Self::Users, Self::Network, Self::Firewall, Self::Dnsmasq, Self::Chrony, Self::Kiosk];

    /// Rendered paths (exact files, or directories ending in `/`) that are this setting's input.
    pub fn inputs(self) -> &'static [&'static str] {
        match self {
            Self::Users => &["users.json", "admin-signers"],
            Self::Network => &["network/networkd/"],
            Self::Firewall => &["firewall/"],
            Self::Dnsmasq => &["network/dnsmasq.conf"],
            Self::Chrony => &["network/chrony.conf"],
            Self::Kiosk => &["kiosk/"],
        }
    }

    fn owns(self, path: &str) -> bool {
        self.inputs().iter().any(|p| if p.ends_with('/') { path.starts_with(p) } else { path == *p })
    }

    /// Whether a generation (its rendered file index) has any input for this setting.
    pub fn present_in(self, files: &BTreeMap<String, String>) -> bool {
        files.keys().any(|p| self.owns(p))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Network => "network",
            Self::Firewall => "firewall",
            Self::Dnsmasq => "dnsmasq",
            Self::Chrony => "chrony",
            Self::Kiosk => "kiosk",
        }
    }
}

impl fmt::Display for HostSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The settings whose inputs differ between two file indexes (path → sha256).
pub(crate) fn changed(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> Vec<HostSetting> {
    HostSetting::ALL
        .into_iter()
        .filter(|s| {
            let pick = |files: &BTreeMap<String, String>| -> Vec<(String, String)> {
                files.iter().filter(|(p, _)| s.owns(p)).map(|(p, h)| (p.clone(), h.clone())).collect()
            };
            pick(old) != pick(new)
        })
        .collect()
}
