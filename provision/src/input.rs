//! Reading what an operator hands us: a config.toml or a bundle, from a path.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use cairn_config::bundle::{self, BundleFormat};

use crate::plan::PayloadHashes;

/// A config as submitted, with where it came from.
#[derive(Debug)]
pub(crate) struct Input {
    pub(crate) origin: String,
    pub(crate) config_toml: Vec<u8>,
    /// The bundle's files/ hashes (paths relative to files/), empty for plain TOML.
    pub(crate) payload: BTreeMap<String, String>,
}

/// Reads a config.toml or bundle, detected by its first bytes. Errors mean the input
/// could not be read at all (exit code 2), not that the config is invalid.
pub(crate) fn read(path: &Path) -> Result<Input> {
    let origin = path.display().to_string();
    let mut file = File::open(path).with_context(|| format!("opening {origin}"))?;
    let mut head = Vec::new();
    (&mut file)
        .take(bundle::MAX_COMPRESSED_BYTES + 1)
        .read_to_end(&mut head)
        .with_context(|| format!("reading {origin}"))?;
    match BundleFormat::detect(&head) {
        Some(format) => {
            let mut payload = PayloadHashes::default();
            let bundle = bundle::read_bundle_into(format, head.as_slice(), &mut payload)
                .with_context(|| format!("reading bundle {origin}"))?;
            Ok(Input { origin: format!("{origin}:config.toml"), config_toml: bundle.config_toml, payload: payload.0 })
        }
        None => {
            if head.len() > cairn_config::MAX_CONFIG_BYTES {
                anyhow::bail!("{origin} is larger than {} bytes and is not a bundle", cairn_config::MAX_CONFIG_BYTES);
            }
            Ok(Input { origin, config_toml: head, payload: BTreeMap::new() })
        }
    }
}
