//! Diagnostics: every problem found in a config, with where it is and how to fix it.
//!
//! Validation never stops at the first problem; it pushes [`Diagnostic`]s into
//! [`Diagnostics`] and carries on, so an operator sees everything at once.

use std::fmt;
use std::ops::Range;

use serde::Serialize;

use crate::syntax::LineIndex;

/// How bad a problem is: errors make a config invalid, warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem in a config, located by key path and by line and column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Dotted key path, e.g. `containers.container.web.Container.Image`; empty for the document.
    pub path: String,
    /// 1-based line of the offending key or value.
    pub line: usize,
    /// 1-based column, counted in characters.
    #[serde(rename = "col")]
    pub column: usize,
    /// Byte range in the source the problem points at.
    #[serde(skip)]
    pub span: Range<usize>,
    pub message: String,
    /// A one-line suggestion of how to fix it.
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    /// The compact one-line form used by golden fixtures and logs:
    /// `error 12:5 containers.container.web: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}:{}", self.severity, self.line, self.column)?;
        if !self.path.is_empty() {
            write!(f, " {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The diagnostics collected while reading one config.
#[derive(Debug)]
pub struct Diagnostics<'s> {
    lines: LineIndex<'s>,
    items: Vec<Diagnostic>,
}

impl<'s> Diagnostics<'s> {
    pub(crate) fn new(source: &'s str) -> Self {
        Self { lines: LineIndex::new(source), items: Vec::new() }
    }

    pub(crate) fn error(
        &mut self,
        path: impl fmt::Display,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Pending<'_, 's> {
        self.push(Severity::Error, path, span, message.into())
    }

    pub(crate) fn warning(
        &mut self,
        path: impl fmt::Display,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Pending<'_, 's> {
        self.push(Severity::Warning, path, span, message.into())
    }

    fn push(
        &mut self,
        severity: Severity,
        path: impl fmt::Display,
        span: Range<usize>,
        message: String,
    ) -> Pending<'_, 's> {
        let (line, column) = self.lines.line_col(span.start);
        self.items.push(Diagnostic { severity, path: path.to_string(), line, column, span, message, hint: None });
        Pending { diagnostics: self }
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// All diagnostics in source order (errors before warnings on the same spot).
    pub(crate) fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by(|a, b| {
            (a.span.start, a.severity, &a.path, &a.message).cmp(&(b.span.start, b.severity, &b.path, &b.message))
        });
        self.items.dedup();
        self.items
    }
}

/// A diagnostic just pushed, to which a hint can be attached.
#[derive(Debug)]
pub(crate) struct Pending<'d, 's> {
    diagnostics: &'d mut Diagnostics<'s>,
}

impl Pending<'_, '_> {
    pub(crate) fn hint(self, hint: impl Into<String>) {
        if let Some(last) = self.diagnostics.items.last_mut() {
            last.hint = Some(hint.into());
        }
    }
}
