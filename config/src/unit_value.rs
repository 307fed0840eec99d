//! [`UnitValue`]: a string that is safe to splice into a systemd/Quadlet unit file.
//!
//! Rendering writes `Key=value` lines. A value containing a line terminator could add
//! a directive or a `[Section]`; a trailing backslash would swallow the next rendered
//! line as a continuation; an unknown `%` specifier makes systemd refuse the unit.
//! Every value that reaches a unit file goes through [`UnitValue::new`], so none of
//! this can happen by construction.

use std::fmt;

/// systemd's unit-file specifiers (systemd.unit(5), "SPECIFIERS"), with what each expands to.
pub const SPECIFIERS: &[(char, &str)] = &[
    ('a', "architecture"),
    ('A', "OS image version"),
    ('b', "boot ID"),
    ('B', "OS build ID"),
    ('C', "cache directory root"),
    ('d', "credentials directory"),
    ('D', "shared data directory"),
    ('E', "configuration directory root"),
    ('f', "unescaped filename"),
    ('g', "user group"),
    ('G', "user GID"),
    ('h', "user home directory"),
    ('H', "host name"),
    ('i', "instance name"),
    ('I', "unescaped instance name"),
    ('j', "final component of the prefix"),
    ('J', "unescaped final component of the prefix"),
    ('l', "short host name"),
    ('L', "log directory root"),
    ('m', "machine ID"),
    ('M', "OS image identifier"),
    ('n', "full unit name"),
    ('N', "full unit name without suffix"),
    ('o', "OS ID"),
    ('p', "prefix name"),
    ('P', "unescaped prefix name"),
    ('q', "pretty host name"),
    ('s', "user shell"),
    ('S', "state directory root"),
    ('t', "runtime directory root"),
    ('T', "temporary directory"),
    ('u', "user name"),
    ('U', "user UID"),
    ('v', "kernel release"),
    ('V', "persistent temporary directory"),
    ('w', "OS version ID"),
    ('W', "OS variant ID"),
    ('y', "path of the fragment"),
    ('Y', "directory of the fragment"),
    ('%', "a literal percent sign"),
];

/// Longest value accepted, in bytes. systemd reads lines up to 1 MiB; nothing legitimate
/// in a device config comes near this, and the cap keeps hostile input cheap.
pub const MAX_UNIT_VALUE_LEN: usize = 16 * 1024;

/// Why a string cannot go into a unit file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnitValueError {
    #[error("contains {name} (U+{code:04X}) at character {position}; a unit-file value must be a single line")]
    LineBreak { name: &'static str, code: u32, position: usize },
    #[error("contains the control character U+{code:04X} at character {position}")]
    Control { code: u32, position: usize },
    #[error("uses the unknown systemd specifier `%{spec}` at character {position}")]
    UnknownSpecifier { spec: char, position: usize },
    #[error("ends with a lone `%`")]
    TrailingPercent,
    #[error("ends with a backslash, which systemd reads as a line continuation")]
    TrailingBackslash,
    #[error("is {len} bytes long; the limit is {MAX_UNIT_VALUE_LEN}")]
    TooLong { len: usize },
}

impl UnitValueError {
    /// A one-line suggestion of how to fix the value.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::LineBreak { .. } => "put each value on its own: use an array for repeated directives",
            Self::Control { .. } => "remove the control character",
            Self::UnknownSpecifier { .. } | Self::TrailingPercent => {
                "write `%%` for a literal percent sign; known specifiers are listed in systemd.unit(5)"
            }
            Self::TrailingBackslash => "remove the trailing backslash or write it as `\\\\`",
            Self::TooLong { .. } => "move large content into a file under files/ and reference it with ${FILES_DIR}",
        }
    }
}

fn line_break_name(c: char) -> Option<&'static str> {
    Some(match c {
        '\n' => "a line feed",
        '\r' => "a carriage return",
        '\u{0B}' => "a vertical tab",
        '\u{0C}' => "a form feed",
        '\u{85}' => "a next-line character",
        '\u{2028}' => "a line separator",
        '\u{2029}' => "a paragraph separator",
        '\0' => "a NUL byte",
        _ => return None,
    })
}

/// A validated single-line unit-file value.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnitValue(String);

impl UnitValue {
    pub fn new(value: &str) -> Result<Self, UnitValueError> {
        if value.len() > MAX_UNIT_VALUE_LEN {
            return Err(UnitValueError::TooLong { len: value.len() });
        }
        let mut chars = value.chars().enumerate().peekable();
        while let Some((position, c)) = chars.next() {
            if let Some(name) = line_break_name(c) {
                return Err(UnitValueError::LineBreak { name, code: c as u32, position });
            }
            if c.is_control() && c != '\t' {
                return Err(UnitValueError::Control { code: c as u32, position });
            }
            if c == '%' {
                match chars.next() {
                    None => return Err(UnitValueError::TrailingPercent),
                    Some((_, spec)) if SPECIFIERS.iter().any(|(s, _)| *s == spec) => {}
                    Some((_, spec)) => return Err(UnitValueError::UnknownSpecifier { spec, position }),
                }
            }
        }
        let trailing_backslashes = value.chars().rev().take_while(|c| *c == '\\').count();
        if trailing_backslashes % 2 == 1 {
            return Err(UnitValueError::TrailingBackslash);
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of `token`; the result is validated again, so a
    /// substitution can never smuggle in what the original could not contain.
    pub fn replace(&self, token: &str, with: &str) -> Result<Self, UnitValueError> {
        Self::new(&self.0.replace(token, with))
    }
}

impl fmt::Debug for UnitValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for UnitValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for UnitValue {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_values_and_known_specifiers() {
        for ok in ["docker.io/library/nginx:1.27", "%h/data:/data:Z", "100%%", "--flag=\tx", "", "a\\\\"] {
            assert!(UnitValue::new(ok).is_ok(), "{ok:?} should be accepted");
        }
    }

    #[test]
    fn rejects_every_line_terminator() {
        for bad in ["a\nb", "a\rb", "a\u{0B}b", "a\u{0C}b", "a\u{85}b", "a\u{2028}b", "a\u{2029}b", "a\0b"] {
            assert!(matches!(UnitValue::new(bad), Err(UnitValueError::LineBreak { position: 1, .. })), "{bad:?}");
        }
    }

    #[test]
    fn rejects_section_header_injection() {
        let err = UnitValue::new("x\n[Service]\nExecStartPre=/bin/sh -c evil").unwrap_err();
        assert_eq!(err, UnitValueError::LineBreak { name: "a line feed", code: 10, position: 1 });
    }

    #[test]
    fn rejects_unknown_and_dangling_specifiers() {
        assert_eq!(UnitValue::new("50%z"), Err(UnitValueError::UnknownSpecifier { spec: 'z', position: 2 }));
        assert_eq!(UnitValue::new("50%"), Err(UnitValueError::TrailingPercent));
    }

    #[test]
    fn rejects_a_continuation_backslash() {
        assert_eq!(UnitValue::new("foo \\"), Err(UnitValueError::TrailingBackslash));
        assert_eq!(UnitValue::new("foo \\\\\\"), Err(UnitValueError::TrailingBackslash));
    }

    #[test]
    fn rejects_other_control_characters() {
        assert_eq!(UnitValue::new("a\u{1b}[31m"), Err(UnitValueError::Control { code: 0x1b, position: 1 }));
    }

    #[test]
    fn rejects_huge_values() {
        let huge = "a".repeat(MAX_UNIT_VALUE_LEN + 1);
        assert!(matches!(UnitValue::new(&huge), Err(UnitValueError::TooLong { .. })));
    }

    #[test]
    fn substitution_is_revalidated() {
        let v = UnitValue::new("${FILES_DIR}/x").unwrap();
        assert!(v.replace("${FILES_DIR}", "/data\n[Service]").is_err());
        assert_eq!(v.replace("${FILES_DIR}", "/data/files").unwrap().as_str(), "/data/files/x");
    }
}
