//! The bundle's `files/` tree as the plan compares it: every file's SHA-256, taken while
//! the bundle is read (a [`BundleSink`]), so nothing is unpacked to compare.

use std::collections::BTreeMap;
use std::io::{self, Read};

use cairn_config::bundle::BundleSink;
use sha2::{Digest, Sha256};

/// Collects path (relative to `files/`) → lowercase hex SHA-256.
#[derive(Debug, Default)]
pub struct PayloadHashes(pub BTreeMap<String, String>);

impl BundleSink for PayloadHashes {
    fn dir(&mut self, _path: &str) -> io::Result<()> {
        Ok(())
    }

    fn file(&mut self, path: &str, _executable: bool, data: &mut dyn Read) -> io::Result<()> {
        let mut hasher = Sha256::new();
        io::copy(data, &mut hasher)?;
        self.0.insert(path.to_owned(), hex(&hasher.finalize()));
        Ok(())
    }
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::sha256_hex;

    #[test]
    fn hashes_match_the_store_s_file_hashes() {
        let mut sink = PayloadHashes::default();
        sink.dir("www").unwrap();
        sink.file("www/index.html", false, &mut &b"hello\n"[..]).unwrap();
        assert_eq!(sink.0.len(), 1, "directories carry no hash");
        assert_eq!(sink.0["www/index.html"], sha256_hex(b"hello\n"));
    }
}
