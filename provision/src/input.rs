//! Reading what an operator hands us: a config.toml or a bundle, from a path.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use cairn_config::bundle::{self, BundleFormat};

/// A config as submitted, with where it came from.
#[derive(Debug)]
pub(crate) struct Input {
    pub(crate) origin: String,
    pub(crate) config_toml: Vec<u8>,
    /// The bundle's files/ entries (paths relative to files/), empty for plain TOML.
    #[allow(dead_code)]
    pub(crate) files: Vec<bundle::BundleFile>,
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
            let bundle =
                bundle::read_bundle(format, head.as_slice()).with_context(|| format!("reading bundle {origin}"))?;
            Ok(Input { origin: format!("{origin}:config.toml"), config_toml: bundle.config_toml, files: bundle.files })
        }
        None => {
            if head.len() > cairn_config::MAX_CONFIG_BYTES {
                anyhow::bail!("{origin} is larger than {} bytes and is not a bundle", cairn_config::MAX_CONFIG_BYTES);
            }
            Ok(Input { origin, config_toml: head, files: Vec::new() })
        }
    }
}
