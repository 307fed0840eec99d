//! Request signatures made by the real `ssh-keygen -Y sign` verify in-process, and any
//! change of method, path, query, nonce, body or namespace — or a key that is not an
//! admin — makes them fail. Also the reverse: what `provision apply` signs, ssh-keygen verifies.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use provision::auth::agent::Signer;
use provision::auth::signature::{self, SignatureError};

fn ssh_keygen(args: &[&str]) -> std::process::Output {
    let out =
        Command::new("ssh-keygen").args(args).output().expect("ssh-keygen (package openssh-client) must be installed");
    assert!(out.status.success(), "ssh-keygen {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn keygen(dir: &Path, name: &str, kind: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let mut args = vec!["-q", "-N", "", "-C", name, "-f", path.to_str().unwrap()];
    args.extend_from_slice(kind);
    ssh_keygen(&args);
    path
}

/// What a client sends in Cairn-Signature, made by ssh-keygen.
fn sign_with_ssh_keygen(dir: &Path, key: &Path, namespace: &str, message: &[u8]) -> String {
    let msg = dir.join("message");
    std::fs::write(&msg, message).unwrap();
    let _ = std::fs::remove_file(dir.join("message.sig"));
    ssh_keygen(&["-Y", "sign", "-n", namespace, "-f", key.to_str().unwrap(), msg.to_str().unwrap()]);
    let armored = std::fs::read(dir.join("message.sig")).unwrap();
    base64::engine::general_purpose::STANDARD.encode(armored)
}

fn public(key: &Path) -> ssh_key::PublicKey {
    let line = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    ssh_key::PublicKey::from_openssh(line.trim()).unwrap()
}

const KEY_TYPES: &[(&str, &[&str])] = &[
    ("ed25519", &["-t", "ed25519"]),
    ("ecdsa-p256", &["-t", "ecdsa", "-b", "256"]),
    ("ecdsa-p384", &["-t", "ecdsa", "-b", "384"]),
    ("ecdsa-p521", &["-t", "ecdsa", "-b", "521"]),
    ("rsa-3072", &["-t", "rsa", "-b", "3072"]),
];

#[test]
fn ssh_keygen_signatures_verify_and_every_change_fails() {
    let dir = tempfile::tempdir().unwrap();
    let stranger = keygen(dir.path(), "stranger", &["-t", "ed25519"]);
    for (name, kind) in KEY_TYPES {
        let key = keygen(dir.path(), name, kind);
        let admins = vec![public(&stranger).clone(), public(&key)];
        let body = b"version = 1\n";
        let message = signature::message("POST", "/api/config", "dry=1", "00112233445566778899aabbccddeeff", body);
        let header = sign_with_ssh_keygen(dir.path(), &key, "cairn-provision", &message);
        let sig = signature::decode_header(&header).unwrap();
        assert_eq!(signature::verify(&admins, &message, &sig), Ok(1), "{name}");

        let changed = [
            ("method", signature::message("PUT", "/api/config", "dry=1", "00112233445566778899aabbccddeeff", body)),
            ("path", signature::message("POST", "/api/validate", "dry=1", "00112233445566778899aabbccddeeff", body)),
            ("query", signature::message("POST", "/api/config", "dry=2", "00112233445566778899aabbccddeeff", body)),
            ("nonce", signature::message("POST", "/api/config", "dry=1", "ffffffffffffffffffffffffffffffff", body)),
            (
                "body",
                signature::message(
                    "POST",
                    "/api/config",
                    "dry=1",
                    "00112233445566778899aabbccddeeff",
                    b"version = 2\n",
                ),
            ),
        ];
        for (what, other) in &changed {
            assert_eq!(signature::verify(&admins, other, &sig), Err(SignatureError::Invalid), "{name}: changed {what}");
        }
        // Another namespace: the same key and message no longer verify.
        let other_ns = sign_with_ssh_keygen(dir.path(), &key, "file", &message);
        let sig = signature::decode_header(&other_ns).unwrap();
        assert_eq!(signature::verify(&admins, &message, &sig), Err(SignatureError::Invalid), "{name}: namespace");
        // Not an admin.
        let header = sign_with_ssh_keygen(dir.path(), &key, "cairn-provision", &message);
        let sig = signature::decode_header(&header).unwrap();
        assert_eq!(signature::verify(&[public(&stranger)], &message, &sig), Err(SignatureError::UnknownKey), "{name}");
    }
}

#[test]
fn malformed_headers_are_refused() {
    for bad in [
        "",
        "not base64!",
        "aGVsbG8=",
        &base64::engine::general_purpose::STANDARD
            .encode("-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n"),
    ] {
        assert_eq!(signature::decode_header(bad).err(), Some(SignatureError::Malformed), "{bad:?}");
    }
}

#[test]
fn what_the_cli_signs_ssh_keygen_verifies() {
    let dir = tempfile::tempdir().unwrap();
    // P-521 key *files* are left out: ssh-key 0.6.7 expects the private scalar as exactly
    // 66 bytes and fails ("length invalid") on the half of OpenSSH's keys whose top bit
    // is 0 (encoded in 65). Such keys sign through ssh-agent; the server verifies P-521.
    for (name, kind) in KEY_TYPES.iter().filter(|(name, _)| *name != "ecdsa-p521") {
        let key = keygen(dir.path(), name, kind);
        let signer = Signer::from_key_file(&key).unwrap();
        let message = signature::message("GET", "/api/generations", "", "abcdef", b"");
        let sig = signer.sign(&message).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        let armored = sig.to_pem(ssh_key::LineEnding::LF).unwrap();
        std::fs::write(dir.path().join("cli.sig"), armored).unwrap();
        let pubkey = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        std::fs::write(dir.path().join("allowed"), format!("admin {pubkey}")).unwrap();
        let out = Command::new("ssh-keygen")
            .args(["-Y", "verify", "-n", "cairn-provision", "-I", "admin", "-f"])
            .arg(dir.path().join("allowed"))
            .arg("-s")
            .arg(dir.path().join("cli.sig"))
            .stdin(
                std::fs::File::open({
                    let p = dir.path().join("cli.msg");
                    std::fs::write(&p, &message).unwrap();
                    p
                })
                .unwrap(),
            )
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// No FIDO token here, so the test plays one: an sk-ssh-ed25519@openssh.com key signs
/// SHA-256(application) || flags || counter || SHA-256(SSHSIG data), as authenticators do.
fn sk_ed25519_signature(
    signing: &ed25519_dalek::SigningKey,
    key: &ssh_key::public::SkEd25519,
    message: &[u8],
    flags: u8,
) -> ssh_key::SshSig {
    use ed25519_dalek::Signer as _;
    use sha2::{Digest, Sha256};
    let data = ssh_key::SshSig::signed_data("cairn-provision", ssh_key::HashAlg::Sha512, message).unwrap();
    let counter = 7u32.to_be_bytes();
    let mut authenticator = Sha256::digest(key.application()).to_vec();
    authenticator.push(flags);
    authenticator.extend_from_slice(&counter);
    authenticator.extend_from_slice(&Sha256::digest(&data));
    let mut blob = signing.sign(&authenticator).to_bytes().to_vec();
    blob.push(flags);
    blob.extend_from_slice(&counter);
    let signature = ssh_key::Signature::new(ssh_key::Algorithm::SkEd25519, blob).unwrap();
    ssh_key::SshSig::new(
        ssh_key::public::KeyData::SkEd25519(key.clone()),
        "cairn-provision",
        ssh_key::HashAlg::Sha512,
        signature,
    )
    .unwrap()
}

#[test]
fn security_key_signatures_verify_and_need_user_presence() {
    let signing = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let sk =
        ssh_key::public::SkEd25519::new(ssh_key::public::Ed25519PublicKey(signing.verifying_key().to_bytes()), "ssh:");
    let admins = vec![ssh_key::PublicKey::new(ssh_key::public::KeyData::SkEd25519(sk.clone()), "token")];
    let message = signature::message("POST", "/api/config", "", "00112233445566778899aabbccddeeff", b"x");
    let present = sk_ed25519_signature(&signing, &sk, &message, 0x01);
    assert_eq!(signature::verify(&admins, &message, &present), Ok(0));
    // The header round trip works for sk signatures too.
    let header = signature::encode_header(&present).unwrap();
    assert_eq!(signature::verify(&admins, &message, &signature::decode_header(&header).unwrap()), Ok(0));
    let other = signature::message("POST", "/api/config", "", "00112233445566778899aabbccddeeff", b"y");
    assert_eq!(signature::verify(&admins, &other, &present), Err(SignatureError::Invalid));
    let absent = sk_ed25519_signature(&signing, &sk, &message, 0x00);
    assert_eq!(signature::verify(&admins, &message, &absent), Err(SignatureError::NoUserPresence));
}
