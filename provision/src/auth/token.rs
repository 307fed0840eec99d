//! The Boot UI's per-boot bootstrap token: a random value minted when the service starts,
//! embedded in the Boot UI form and required on its POST (CSRF defence on top of the
//! Host/Origin checks). It never leaves memory and changes on every start.

/// A per-boot secret compared in constant time.
#[derive(Clone)]
pub struct BootstrapToken(String);

impl std::fmt::Debug for BootstrapToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BootstrapToken(..)")
    }
}

impl BootstrapToken {
    pub fn generate() -> Self {
        Self(crate::random_hex(32))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison with a submitted value.
    pub fn matches(&self, submitted: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), submitted.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_itself() {
        let t = BootstrapToken::generate();
        assert!(t.matches(t.as_str()));
        assert!(!t.matches(""));
        assert!(!t.matches(BootstrapToken::generate().as_str()));
        assert_eq!(format!("{t:?}"), "BootstrapToken(..)");
    }
}
