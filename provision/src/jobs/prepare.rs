//! Checking a submission before a job exists: bundle caps, then the config itself, so
//! callers can refuse bad input at once (422/413) without taking the lock.

use cairn_config::bundle::{self, BundleError, BundleFormat};
use cairn_config::{Config, Diagnostic};
use std::collections::BTreeMap;

use crate::plan::PayloadHashes;

use super::types::{Source, Submission, SubmitError};

/// A submission that passed validation.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) config_toml: Vec<u8>,
    /// The whole submission when it is a bundle (unpacked again into the generation).
    pub(crate) bundle: Option<(BundleFormat, Vec<u8>)>,
    pub(crate) config: Config,
    /// The bundle's files/ hashes (empty for a plain config.toml).
    pub(crate) payload: BTreeMap<String, String>,
    pub(crate) warnings: Vec<Diagnostic>,
    pub(crate) source: Source,
}

pub(crate) fn prepare(submission: &Submission) -> Result<Prepared, SubmitError> {
    let mut payload = PayloadHashes::default();
    let (config_toml, bundle) = match BundleFormat::detect(&submission.bytes) {
        Some(format) => {
            let read = bundle::read_bundle_into(format, submission.bytes.as_slice(), &mut payload)
                .map_err(|e| SubmitError::Bundle { too_large: too_large(&e), message: e.to_string() })?;
            (read.config_toml, Some((format, submission.bytes.clone())))
        }
        None => (submission.bytes.clone(), None),
    };
    let validated = cairn_config::validate(&config_toml);
    let warnings = validated.warnings().cloned().collect();
    match validated.config {
        Some(config) => {
            Ok(Prepared { config_toml, bundle, config, payload: payload.0, warnings, source: submission.source })
        }
        None => Err(SubmitError::Invalid { diagnostics: validated.diagnostics }),
    }
}

fn too_large(e: &BundleError) -> bool {
    match e {
        BundleError::CompressedTooLarge
        | BundleError::UnpackedTooLarge
        | BundleError::TooManyMembers
        | BundleError::MemberTooLarge { .. }
        | BundleError::ConfigTooLarge => true,
        BundleError::AbsolutePath { .. }
        | BundleError::ParentDir { .. }
        | BundleError::Link { .. }
        | BundleError::Special { .. }
        | BundleError::UnexpectedEntry { .. }
        | BundleError::BadPath { .. }
        | BundleError::Duplicate { .. }
        | BundleError::MissingConfig
        | BundleError::Corrupt(_)
        | BundleError::Sink { .. } => false,
    }
}
