//! Printing diagnostics: for people (source line and caret) and for machines (JSON).

use std::io::Write;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use cairn_config::{Severity, Validated};

/// Human diagnostics with the offending source line and a caret, then a summary line.
pub(crate) fn human(out: &mut impl Write, origin: &str, source: &[u8], validated: &Validated) {
    let text = String::from_utf8_lossy(source);
    let renderer = if anstream::stderr().is_terminal_like() { Renderer::styled() } else { Renderer::plain() };
    for diagnostic in &validated.diagnostics {
        let level = match diagnostic.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let title = if diagnostic.path.is_empty() {
            diagnostic.message.clone()
        } else {
            format!("{}: {}", diagnostic.path, diagnostic.message)
        };
        let mut span = diagnostic.span.clone();
        if span.start > text.len() {
            span = text.len()..text.len();
        }
        span.end = span.end.clamp(span.start, text.len());
        let mut report = vec![level.primary_title(title.as_str()).element(
            Snippet::source(text.as_ref()).path(origin).fold(true).annotation(AnnotationKind::Primary.span(span)),
        )];
        if let Some(hint) = &diagnostic.hint {
            report.push(Group::with_title(Level::HELP.secondary_title(hint.as_str())));
        }
        let _ = writeln!(out, "{}\n", renderer.render(&report));
    }
    let errors = validated.errors().count();
    let warnings = validated.warnings().count();
    let _ = if validated.is_valid() {
        writeln!(out, "{origin}: valid ({warnings} warning{})", plural(warnings))
    } else {
        writeln!(out, "{origin}: invalid ({errors} error{}, {warnings} warning{})", plural(errors), plural(warnings))
    };
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `{"valid": bool, "diagnostics": [...]}` for tools.
pub(crate) fn json(validated: &Validated) -> String {
    serde_json::json!({ "valid": validated.is_valid(), "diagnostics": validated.diagnostics }).to_string()
}

/// The JSON shape for input that could not be read at all.
pub(crate) fn json_unreadable(message: &str) -> String {
    serde_json::json!({ "valid": false, "unreadable": message, "diagnostics": [] }).to_string()
}

trait TerminalLike {
    fn is_terminal_like(&self) -> bool;
}

impl TerminalLike for anstream::Stderr {
    fn is_terminal_like(&self) -> bool {
        std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none()
    }
}
