//! `[os_upgrade]`: where signed OS bundles come from.

use crate::checks::https_base_url;
use crate::diagnostic::Diagnostics;
use crate::syntax::Node;

#[derive(Clone, Debug, PartialEq)]
pub struct OsUpgrade {
    /// `https://` base URL without credentials, query or fragment; no trailing slash.
    pub server_url: String,
}

pub(crate) fn decode(node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<OsUpgrade> {
    let table = node.table(d)?;
    table.deny_unknown_keys(d, &["server_url"]);
    let n = table.require(d, "server_url")?;
    let s = n.string(d)?;
    match https_base_url(s.value.trim()) {
        Ok(_) => Some(OsUpgrade { server_url: s.value.trim().trim_end_matches('/').to_owned() }),
        Err(m) => {
            d.error(&n.path, s.span, m).hint("e.g. server_url = \"https://updates.example.com/cairn\"");
            None
        }
    }
}
