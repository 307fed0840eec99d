//! Dotted key paths such as `containers.container.web.Container.Image` or `layouts.lobby.cells[0]`.

use std::fmt;

/// A location in the document as a list of keys and array indices.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct KeyPath(Vec<Segment>);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl KeyPath {
    pub(crate) fn root() -> Self {
        Self::default()
    }

    pub(crate) fn key(&self, key: &str) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Key(key.to_owned()));
        next
    }

    pub(crate) fn index(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }
}

/// A key as an operator would write it in TOML: bare when possible, else quoted and escaped.
pub(crate) fn display_key(key: &str) -> String {
    if is_bare_key(key) { key.to_owned() } else { format!("{key:?}") }
}

fn is_bare_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if is_bare_key(key) {
                        f.write_str(key)?;
                    } else {
                        write!(f, "{key:?}")?;
                    }
                }
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_keys_with_dots_and_indices_with_brackets() {
        let path = KeyPath::root().key("layouts").key("lobby").key("cells").index(2).key("col");
        assert_eq!(path.to_string(), "layouts.lobby.cells[2].col");
    }

    #[test]
    fn quotes_keys_that_are_not_bare() {
        let path = KeyPath::root().key("users").key("a.b\n");
        assert_eq!(path.to_string(), "users.\"a.b\\n\"");
    }
}
