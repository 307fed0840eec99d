//! The config.toml v1 model of Cairn.
//!
//! One file describes a whole device. This crate turns its bytes into a typed
//! [`Config`] or into the complete list of [`Diagnostic`]s that stop it, with key
//! paths, lines, columns and fix hints. It is pure: no file, network or process I/O
//! (bundles are read from any [`std::io::Read`] the caller opens).

pub mod bundle;
mod checks;
mod diagnostic;
pub mod directives;
pub mod kiosk_bundle;
mod model;
pub mod schema;
mod spanned;
mod suggest;
mod syntax;
mod unit_value;

pub use checks::SSH_KEY_TYPES;
pub use diagnostic::{Diagnostic, Severity};
pub use model::Config;
pub use model::activation::{Activation, Check, KIOSK_UNIT, Probe};
pub use model::containers::{Containers, Mode, QuadletUnit, UnitKind, references, volume_reference};
pub use model::display::{Camera, Cell, CellContent, Fit, Kiosk, Layout, Password, Priority, StreamChoice, Transport};
pub use model::network::{
    DEFAULT_GATEWAY_CIDR, Dnsmasq, Firewall, Interface, InterfaceMode, LAN_ALWAYS_OPEN_TCP, LAN_ALWAYS_OPEN_UDP,
    Network, PortSet, RESERVED_WAN_TCP_PORT,
};
pub use model::os_upgrade::OsUpgrade;
pub use model::publish::{LoopbackPublish, PublishSpec, loopback_publish, parse_publish};
pub use model::quadlet::{Directive, Section, SectionKind};
pub use model::telemetry::Telemetry;
pub use model::users::{KIOSK_USER, RESERVED_USER_NAMES, Shell, User};
pub use spanned::Spanned;
pub use unit_value::{MAX_UNIT_VALUE_LEN, SPECIFIERS, UnitValue, UnitValueError};

use diagnostic::Diagnostics;
use syntax::TableNode;

/// The largest config.toml accepted, in bytes.
pub const MAX_CONFIG_BYTES: usize = 4 * 1024 * 1024;

/// The result of validating one config.toml.
#[derive(Debug)]
pub struct Validated {
    /// The config, when there are no errors (warnings may remain).
    pub config: Option<Config>,
    /// Every problem found, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Validated {
    pub fn is_valid(&self) -> bool {
        self.config.is_some()
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Warning)
    }
}

/// Validates config.toml bytes: UTF-8, TOML syntax, then every rule of CONFIG.md.
pub fn validate(bytes: &[u8]) -> Validated {
    if bytes.len() > MAX_CONFIG_BYTES {
        let mut d = Diagnostics::new("");
        d.error("", 0..0, format!("config.toml is {} bytes; the limit is {MAX_CONFIG_BYTES}", bytes.len()))
            .hint("large content belongs in files/ of a bundle");
        return Validated { config: None, diagnostics: d.into_sorted() };
    }
    match std::str::from_utf8(bytes) {
        Ok(source) => validate_str(source),
        Err(e) => {
            let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let mut d = Diagnostics::new(valid);
            d.error(
                "",
                e.valid_up_to()..e.valid_up_to(),
                format!("config.toml is not valid UTF-8 (byte offset {})", e.valid_up_to()),
            )
            .hint("save the file as UTF-8");
            Validated { config: None, diagnostics: d.into_sorted() }
        }
    }
}

/// Validates config.toml text.
pub fn validate_str(source: &str) -> Validated {
    let mut d = Diagnostics::new(source);
    let (document, errors) = toml::de::DeTable::parse_recoverable(source);
    if !errors.is_empty() {
        for error in errors {
            let span = error.span().unwrap_or(0..0);
            d.error("", span, format!("TOML syntax: {}", error.message())).hint("fix the TOML syntax at this position");
        }
        return Validated { config: None, diagnostics: d.into_sorted() };
    }
    let config = model::decode(&TableNode::root(&document), &mut d);
    let config = if d.has_errors() { None } else { config };
    debug_assert!(config.is_some() || d.has_errors(), "a rejected config must carry an error");
    Validated { config, diagnostics: d.into_sorted() }
}
