//! OpenSSH public key lines (`type base64 [comment]`).

use base64::Engine;

/// Key types accepted for users and admin signers.
pub const SSH_KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "sk-ssh-ed25519@openssh.com",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-rsa",
];

/// Checks one public key line: a known type, a base64 blob that decodes and whose
/// embedded type equals the first field, and no control characters.
pub(crate) fn ssh_public_key(line: &str) -> Result<(), String> {
    if let Some(c) = line.chars().find(|c| c.is_control()) {
        return Err(format!("contains the control character U+{:04X}; give exactly one key line", c as u32));
    }
    let mut fields = line.split_whitespace();
    let (Some(kind), Some(blob)) = (fields.next(), fields.next()) else {
        return Err("is not an OpenSSH public key line (`type base64 [comment]`)".into());
    };
    if !SSH_KEY_TYPES.contains(&kind) {
        return Err(format!("has unsupported key type {kind:?}"));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .map_err(|_| "has key data that is not valid base64".to_string())?;
    let embedded = bytes
        .get(..4)
        .map(|len| u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize)
        .and_then(|len| bytes.get(4..4usize.checked_add(len)?))
        .ok_or_else(|| "has a truncated key blob".to_string())?;
    if embedded != kind.as_bytes() {
        return Err(format!("says {kind:?} but its key data is of type {:?}", String::from_utf8_lossy(embedded)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl admin@example";

    #[test]
    fn accepts_a_real_key() {
        assert_eq!(ssh_public_key(ED25519), Ok(()));
    }

    #[test]
    fn rejects_a_type_mismatch() {
        let lying = ED25519.replacen("ssh-ed25519", "ssh-rsa", 1);
        assert!(ssh_public_key(&lying).unwrap_err().contains("of type \"ssh-ed25519\""));
    }

    #[test]
    fn rejects_bad_blobs_and_types() {
        assert!(ssh_public_key("ssh-ed25519 !!!").unwrap_err().contains("base64"));
        assert!(ssh_public_key("ssh-ed25519 AAAA").unwrap_err().contains("truncated"));
        assert!(ssh_public_key("ssh-dss AAAA").unwrap_err().contains("unsupported"));
        assert!(ssh_public_key("ssh-ed25519").is_err());
        assert!(ssh_public_key(&format!("{ED25519}\nssh-rsa AAAA")).unwrap_err().contains("control"));
    }
}
