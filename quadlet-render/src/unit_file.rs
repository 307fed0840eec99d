//! Writing unit files: `[Section]` headers and `Key=value` lines, nothing else.
//!
//! Values reaching this module are [`UnitValue`]s or text built by the renderer
//! from validated model values, so no value can start a new line.

use cairn_config::UnitValue;

/// A unit file under construction; sections are written in the order they are added.
#[derive(Debug, Default)]
pub(crate) struct UnitFile {
    out: String,
}

impl UnitFile {
    /// Starts a file with a comment saying where it came from.
    pub(crate) fn new(origin: &str) -> Self {
        let mut out = String::new();
        out.push_str("# Rendered by Cairn from ");
        out.push_str(origin);
        out.push_str(". Do not edit: the next apply replaces it.\n");
        Self { out }
    }

    pub(crate) fn section(&mut self, name: &str) -> &mut Self {
        self.out.push('\n');
        self.out.push('[');
        self.out.push_str(name);
        self.out.push_str("]\n");
        self
    }

    /// A line built from renderer-controlled text (constants and model values that
    /// cannot hold a line break). Debug builds check that promise.
    pub(crate) fn line(&mut self, key: &str, value: &str) -> &mut Self {
        debug_assert!(UnitValue::new(value).is_ok(), "unsafe unit value {value:?}");
        self.out.push_str(key);
        self.out.push('=');
        self.out.push_str(value);
        self.out.push('\n');
        self
    }

    pub(crate) fn value(&mut self, key: &str, value: &UnitValue) -> &mut Self {
        self.out.push_str(key);
        self.out.push('=');
        self.out.push_str(value.as_str());
        self.out.push('\n');
        self
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}
