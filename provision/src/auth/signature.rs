//! The signed request message of API.md and its verification with the `ssh-key` crate.
//!
//! A signature covers method, path, raw query, nonce and the SHA-256 of the exact body,
//! so changing any of them (or the namespace) makes it fail. Verification accepts a
//! signature only from one of the keys it is given — the admins of the current generation.
//!
//! Key types: every type config.toml accepts. ssh-ed25519, ecdsa-sha2-nistp256/384/521
//! and ssh-rsa (rsa-sha2-256/512 signatures) verify in-process. The crate also verifies FIDO keys
//! (sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com) over the
//! authenticator data; we additionally require the user-presence flag, as sshd does
//! by default.

use base64::Engine;
use sha2::{Digest, Sha256};
use ssh_key::{Algorithm, HashAlg, LineEnding, PublicKey, SshSig};

use super::NAMESPACE;

/// First line of every signed message; bumps if the format ever changes.
pub const MESSAGE_VERSION: &str = "cairn-request-v1";

/// The bytes that are signed for one request (UTF-8, `\n` line ends, trailing `\n`).
pub fn message(method: &str, path: &str, query: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let digest = hex::encode(Sha256::digest(body));
    format!("{MESSAGE_VERSION}\nmethod:{method}\npath:{path}\nquery:{query}\nnonce:{nonce}\nsha256:{digest}\n")
        .into_bytes()
}

/// Why a signature was refused. The HTTP layer answers 401 for all of them and keeps the
/// reason in the error details, which helps operators and tells an attacker nothing new.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the Cairn-Signature header is not base64 of an armored SSH signature")]
    Malformed,
    #[error("the signature is from a key that is not an admin of the current generation")]
    UnknownKey,
    #[error("the signature does not verify for this request (method, path, query, nonce, body or namespace differ)")]
    Invalid,
    #[error("the security key signature lacks the user-presence flag")]
    NoUserPresence,
}

/// Decodes the `Cairn-Signature` header value: base64 (standard alphabet, padding
/// optional) of the `-----BEGIN SSH SIGNATURE-----` armor.
pub fn decode_header(value: &str) -> Result<SshSig, SignatureError> {
    let armored = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(value.trim()))
        .map_err(|_| SignatureError::Malformed)?;
    SshSig::from_pem(armored).map_err(|_| SignatureError::Malformed)
}

/// Encodes an SSH signature for the `Cairn-Signature` header.
pub fn encode_header(signature: &SshSig) -> anyhow::Result<String> {
    let armored = signature.to_pem(LineEnding::LF).map_err(|e| anyhow::anyhow!("encoding the signature: {e}"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(armored))
}

/// Verifies `signature` over `message` against `keys`; returns the index of the key
/// that signed. Only the key embedded in the signature is tried, and only if it is one
/// of `keys` (compared by key data, comments ignored).
pub fn verify(keys: &[PublicKey], message: &[u8], signature: &SshSig) -> Result<usize, SignatureError> {
    let index = keys.iter().position(|k| k.key_data() == signature.public_key()).ok_or(SignatureError::UnknownKey)?;
    keys[index].verify(NAMESPACE, message, signature).map_err(|_| SignatureError::Invalid)?;
    if matches!(signature.algorithm(), Algorithm::SkEd25519 | Algorithm::SkEcdsaSha2NistP256) {
        // The signature blob ends with flags (1 byte) and a counter (4 bytes); bit 0 is
        // "user present". ssh-key checked the signature over them already.
        let bytes = signature.signature_bytes();
        let flags = bytes.len().checked_sub(5).map(|i| bytes[i]).ok_or(SignatureError::Invalid)?;
        if flags & 0x01 == 0 {
            return Err(SignatureError::NoUserPresence);
        }
    }
    Ok(index)
}

/// Parses OpenSSH public key lines, skipping (and logging) any that do not parse: the
/// config validator already refused bad keys, so this only guards against a damaged store.
pub fn parse_keys<'a>(lines: impl IntoIterator<Item = &'a str>) -> Vec<PublicKey> {
    lines
        .into_iter()
        .filter_map(|line| match PublicKey::from_openssh(line.trim()) {
            Ok(key) => Some(key),
            Err(e) => {
                tracing::warn!(error = %e, "ignoring an admin key that does not parse");
                None
            }
        })
        .collect()
}

/// The hash algorithm clients use; ssh-keygen's default.
pub const CLIENT_HASH: HashAlg = HashAlg::Sha512;
