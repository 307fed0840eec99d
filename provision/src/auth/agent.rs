//! Client-side signing for `provision apply/status/export/generations --url`: with a
//! private key file (via the `ssh-key` crate) or through ssh-agent (`SSH_AUTH_SOCK`),
//! producing exactly what `ssh-keygen -Y sign -n cairn-provision` would.
//!
//! The agent protocol part is the two messages we need (draft-miller-ssh-agent):
//! REQUEST_IDENTITIES (11 → 12) and SIGN_REQUEST (13 → 14), over the Unix socket.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use ssh_key::{Algorithm, HashAlg, PrivateKey, PublicKey, Signature, SshSig};

use super::NAMESPACE;
use super::signature::CLIENT_HASH;

const REQUEST_IDENTITIES: u8 = 11;
const IDENTITIES_ANSWER: u8 = 12;
const SIGN_REQUEST: u8 = 13;
const SIGN_RESPONSE: u8 = 14;
const RSA_SHA2_512: u32 = 4;

/// Something that makes SSH signatures in the `cairn-provision` namespace.
#[derive(Debug)]
pub enum Signer {
    /// An unencrypted private key loaded from a file.
    Key(Box<PrivateKey>),
    /// A key held by ssh-agent.
    Agent { socket: PathBuf, key: PublicKey },
}

impl Signer {
    /// `--key FILE`: a private key signs in-process; a `.pub` file (or any public key line)
    /// selects that key in ssh-agent.
    pub fn from_key_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading key {}", path.display()))?;
        if let Ok(public) = PublicKey::from_openssh(text.trim()) {
            return Ok(Signer::Agent { socket: agent_socket()?, key: public });
        }
        let key = PrivateKey::from_openssh(&text).with_context(|| {
            format!(
                "parsing private key {} (ecdsa-sha2-nistp521 key files are not always readable by the \
                 ssh-key crate: load the key into ssh-agent and pass its .pub file)",
                path.display()
            )
        })?;
        if key.is_encrypted() {
            bail!("{} is passphrase-protected; add it to ssh-agent and pass its .pub file instead", path.display());
        }
        Ok(Signer::Key(Box::new(key)))
    }

    /// No `--key`: the first identity in ssh-agent.
    pub fn from_agent() -> Result<Self> {
        let socket = agent_socket()?;
        let keys = identities(&socket)?;
        let key =
            keys.into_iter().next().ok_or_else(|| anyhow!("ssh-agent holds no keys (ssh-add one, or pass --key)"))?;
        Ok(Signer::Agent { socket, key })
    }

    /// Signs `message` as an SSH signature in the Cairn namespace.
    pub fn sign(&self, message: &[u8]) -> Result<SshSig> {
        match self {
            Signer::Key(key) => match key.key_data().rsa() {
                Some(rsa) => rsa_sign(rsa, message),
                None => key.sign(NAMESPACE, CLIENT_HASH, message).context("signing the request"),
            },
            Signer::Agent { socket, key } => agent_sign(socket, key, message),
        }
    }
}

fn agent_socket() -> Result<PathBuf> {
    std::env::var_os("SSH_AUTH_SOCK")
        .map(PathBuf::from)
        .ok_or_else(|| anyhow!("no --key given and SSH_AUTH_SOCK is not set (no ssh-agent)"))
}

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn take_u32(input: &mut &[u8]) -> Result<u32> {
    if input.len() < 4 {
        bail!("ssh-agent answer is truncated");
    }
    let (head, rest) = input.split_at(4);
    *input = rest;
    Ok(u32::from_be_bytes([head[0], head[1], head[2], head[3]]))
}

fn take_string<'a>(input: &mut &'a [u8]) -> Result<&'a [u8]> {
    let len = take_u32(input)? as usize;
    if input.len() < len {
        bail!("ssh-agent answer is truncated");
    }
    let (head, rest) = input.split_at(len);
    *input = rest;
    Ok(head)
}

fn roundtrip(socket: &Path, request: &[u8]) -> Result<Vec<u8>> {
    let mut stream =
        UnixStream::connect(socket).with_context(|| format!("connecting to ssh-agent at {}", socket.display()))?;
    let mut framed = Vec::with_capacity(request.len() + 4);
    put_string(&mut framed, request);
    stream.write_all(&framed).context("writing to ssh-agent")?;
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).context("reading from ssh-agent")?;
    let len = u32::from_be_bytes(len) as usize;
    if len > 256 * 1024 {
        bail!("ssh-agent answer of {len} bytes is implausibly large");
    }
    let mut answer = vec![0u8; len];
    stream.read_exact(&mut answer).context("reading from ssh-agent")?;
    Ok(answer)
}

fn identities(socket: &Path) -> Result<Vec<PublicKey>> {
    let answer = roundtrip(socket, &[REQUEST_IDENTITIES])?;
    let (kind, mut body) = answer.split_first().ok_or_else(|| anyhow!("empty ssh-agent answer"))?;
    if *kind != IDENTITIES_ANSWER {
        bail!("ssh-agent refused to list keys (answer type {kind})");
    }
    let count = take_u32(&mut body)?;
    let mut keys = Vec::new();
    for _ in 0..count {
        let blob = take_string(&mut body)?;
        let comment = take_string(&mut body)?;
        if let Ok(mut key) = PublicKey::from_bytes(blob) {
            key.set_comment(String::from_utf8_lossy(comment));
            keys.push(key);
        }
    }
    Ok(keys)
}

fn agent_sign(socket: &Path, key: &PublicKey, message: &[u8]) -> Result<SshSig> {
    let data = SshSig::signed_data(NAMESPACE, CLIENT_HASH, message).context("building the data to sign")?;
    let blob = key.to_bytes().context("encoding the public key")?;
    let mut request = vec![SIGN_REQUEST];
    put_string(&mut request, &blob);
    put_string(&mut request, &data);
    let flags = if matches!(key.algorithm(), Algorithm::Rsa { .. }) { RSA_SHA2_512 } else { 0 };
    request.extend_from_slice(&flags.to_be_bytes());
    let answer = roundtrip(socket, &request)?;
    let (kind, mut body) = answer.split_first().ok_or_else(|| anyhow!("empty ssh-agent answer"))?;
    if *kind != SIGN_RESPONSE {
        bail!("ssh-agent refused to sign with {} (is the key loaded?)", key.fingerprint(HashAlg::Sha256));
    }
    let signature = Signature::try_from(take_string(&mut body)?).context("decoding the agent's signature")?;
    SshSig::new(key.key_data().clone(), NAMESPACE, CLIENT_HASH, signature).context("assembling the SSH signature")
}

/// RSA signing done here because ssh-key 0.6.7 rebuilds the private key from `[p, p]`
/// instead of `[p, q]` and fails with "cryptographic error" (fixed upstream in 0.7).
/// rsa-sha2-512 (PKCS#1 v1.5) over the SSHSIG signed data, as ssh-keygen does.
fn rsa_sign(key: &ssh_key::private::RsaKeypair, message: &[u8]) -> Result<SshSig> {
    use rsa::signature::SignatureEncoding;
    use rsa::signature::Signer as _;
    let int = |m: &ssh_key::Mpint| -> Result<rsa::BigUint> {
        Ok(rsa::BigUint::from_bytes_be(m.as_positive_bytes().ok_or_else(|| anyhow!("negative RSA component"))?))
    };
    let private = rsa::RsaPrivateKey::from_components(
        int(&key.public.n)?,
        int(&key.public.e)?,
        int(&key.private.d)?,
        vec![int(&key.private.p)?, int(&key.private.q)?],
    )
    .context("loading the RSA key")?;
    let data = SshSig::signed_data(NAMESPACE, CLIENT_HASH, message).context("building the data to sign")?;
    let signing = rsa::pkcs1v15::SigningKey::<sha2::Sha512>::new(private);
    let raw = signing.try_sign(&data).context("RSA signing")?.to_vec();
    let signature = Signature::new(Algorithm::Rsa { hash: Some(HashAlg::Sha512) }, raw).context("RSA signature")?;
    SshSig::new(ssh_key::public::KeyData::Rsa(key.public.clone()), NAMESPACE, CLIENT_HASH, signature)
        .context("assembling the SSH signature")
}
