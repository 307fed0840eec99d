//! The typed config.toml v1 model and the one-pass decoder that builds it.

pub(crate) mod activation;
pub(crate) mod containers;
pub(crate) mod display;
pub(crate) mod network;
pub(crate) mod os_upgrade;
pub(crate) mod publish;
pub(crate) mod quadlet;
pub(crate) mod telemetry;
pub(crate) mod users;

use std::collections::BTreeMap;

use activation::{Activation, Referable};
use containers::{Containers, UnitKind};
use display::{Camera, Kiosk, Layout};
use network::Network;
use os_upgrade::OsUpgrade;
use telemetry::Telemetry;
use users::User;

use crate::diagnostic::Diagnostics;
use crate::syntax::{KeyPath, OptionalField, TableNode};
use toml::de::DeValue;

/// A valid config.toml, with every default resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub users: BTreeMap<String, User>,
    pub network: Network,
    pub os_upgrade: Option<OsUpgrade>,
    pub activation: Activation,
    pub containers: Containers,
    pub kiosk: Option<Kiosk>,
    pub cameras: BTreeMap<String, Camera>,
    pub layouts: BTreeMap<String, Layout>,
    pub telemetry: Option<Telemetry>,
}

impl Config {
    /// Whether the kiosk display is part of this config.
    pub fn kiosk_enabled(&self) -> bool {
        self.kiosk.as_ref().is_some_and(|k| k.enable)
    }

    /// The admins' public keys: the only keys that may sign a re-apply.
    pub fn admin_keys(&self) -> impl Iterator<Item = (&str, &str)> {
        self.users
            .values()
            .filter(|u| u.is_admin)
            .filter_map(|u| Some((u.name.value.as_str(), u.ssh_key.as_ref()?.value.as_str())))
    }
}

/// Top-level keys in the order CONFIG.md documents them.
pub(crate) const ROOT_KEYS: &[&str] = &[
    "version",
    "users",
    "network",
    "activation",
    "os_upgrade",
    "containers",
    "kiosk",
    "cameras",
    "layouts",
    "telemetry",
];

pub(crate) fn decode(root: &TableNode<'_, '_>, d: &mut Diagnostics<'_>) -> Option<Config> {
    root.deny_unknown_keys(d, ROOT_KEYS);
    let version_ok = match root.require(d, "version") {
        Some(n) => match n.value.get_ref() {
            toml::de::DeValue::Integer(_) => match n.integer(d) {
                Some(v) if v.value == 1 => true,
                Some(v) => {
                    d.error(&n.path, v.span, format!("unsupported version {}", v.value))
                        .hint("this device reads version = 1");
                    false
                }
                None => false,
            },
            _ => {
                d.error(&n.path, n.span(), "version must be the integer 1").hint("write version = 1 (no quotes)");
                false
            }
        },
        None => false,
    };
    let users = root.require(d, "users").and_then(|n| users::decode(&n, d));
    let network = network::decode(root.get("network").as_ref(), d);
    let os_upgrade = root.get("os_upgrade").map(|n| os_upgrade::decode(&n, d));
    let containers = root.require(d, "containers").and_then(|n| containers::decode(&n, d));
    let referable = referable(root);
    let activation = root.require(d, "activation").and_then(|n| activation::decode(&n, &referable, d));
    let kiosk = root.get("kiosk").map(|n| display::decode_kiosk(&n, d));
    let cameras = root.get("cameras").map(|n| display::decode_cameras(&n, d));
    let layouts = root.get("layouts").map(|n| display::decode_layouts(&n, d));
    let telemetry = root.get("telemetry").map(|n| telemetry::decode(&n, d));

    let kiosk = kiosk.optional();
    let cameras = cameras.unwrap_or(Some(BTreeMap::new()));
    let layouts = layouts.unwrap_or(Some(BTreeMap::new()));
    let mut ok = version_ok;
    if let (Some(kiosk), Some(cameras), Some(layouts)) = (&kiosk, &cameras, &layouts) {
        ok &= display::check_display(kiosk.as_ref(), cameras, layouts, &KeyPath::root(), d);
        let enabled = kiosk.as_ref().is_some_and(|k| k.enable);
        if !enabled && (!cameras.is_empty() || !layouts.is_empty()) {
            let at = root
                .get(if layouts.is_empty() { "cameras" } else { "layouts" })
                .map(|n| n.key_span)
                .unwrap_or_default();
            d.warning("kiosk.enable", at, "cameras and layouts are ignored while the kiosk is not enabled")
                .hint("add [kiosk] enable = true with a default_layout");
        }
    }
    let config = Config {
        users: users?,
        network: network?,
        os_upgrade: os_upgrade.optional()?,
        activation: activation?,
        containers: containers?,
        kiosk: kiosk?,
        cameras: cameras?,
        layouts: layouts?,
        telemetry: telemetry.optional()?,
    };
    ok.then_some(config)
}

/// Container names and the kiosk switch, straight from the document.
fn referable(root: &TableNode<'_, '_>) -> Referable {
    fn table<'a, 'i>(v: &'a toml::Spanned<DeValue<'i>>) -> Option<&'a toml::de::DeTable<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => None,
        }
    }
    let containers = root
        .get("containers")
        .and_then(|c| table(c.value))
        .and_then(|c| c.get(UnitKind::Container.table()).and_then(table))
        .map(|t| t.keys().map(|k| k.get_ref().to_string()).collect())
        .unwrap_or_default();
    let kiosk_enabled = root
        .get("kiosk")
        .and_then(|k| table(k.value))
        .and_then(|k| k.get("enable").map(|e| matches!(e.get_ref(), DeValue::Boolean(true))))
        .unwrap_or(false);
    Referable { containers, kiosk_enabled }
}
