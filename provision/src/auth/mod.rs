//! Who may change the device: SSH request signatures from the current generation's
//! admins, single-use nonces, the Boot UI's per-boot bootstrap token, and the
//! Host/Origin/Referer checks that keep first-boot routes safe from DNS rebinding and CSRF.
//!
//! Everything here is synchronous and in-process (no `ssh-keygen` subprocess on the
//! server side); the HTTP layer decides which routes need which check.

pub mod agent;
pub mod host;
pub mod nonce;
pub mod signature;
pub mod token;

/// The SSH signature namespace of Cairn requests (`ssh-keygen -Y sign -n cairn-provision`).
pub const NAMESPACE: &str = "cairn-provision";
/// Request header carrying the nonce from `GET /api/nonce`.
pub const NONCE_HEADER: &str = "cairn-nonce";
/// Request header carrying base64 of the armored SSH signature.
pub const SIGNATURE_HEADER: &str = "cairn-signature";
