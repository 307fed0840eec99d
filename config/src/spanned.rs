//! Values that remember where in config.toml they came from.

use std::ops::{Deref, Range};

/// A value with the byte range of its source text, so later stages (rendering,
/// planning) can still point an operator at the line that caused a problem.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Range<usize>,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Range<usize>) -> Self {
        Self { value, span }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned { value: f(self.value), span: self.span }
    }

    pub fn as_ref(&self) -> Spanned<&T> {
        Spanned { value: &self.value, span: self.span.clone() }
    }
}

impl<T> Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: std::borrow::Borrow<str>> std::borrow::Borrow<str> for Spanned<T> {
    fn borrow(&self) -> &str {
        self.value.borrow()
    }
}
