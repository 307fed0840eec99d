//! Typed access to the spanned TOML tree that reports, rather than stops at, every mismatch.
//!
//! Section decoders walk the tree through [`TableNode`] and [`Node`]; each accessor
//! returns `None` after recording a diagnostic, so one pass finds every problem.

use std::ops::Range;

use toml::Spanned as TomlSpanned;
use toml::de::{DeTable, DeValue};

use super::KeyPath;
use crate::Spanned;
use crate::diagnostic::Diagnostics;
use crate::suggest::closest;

/// One value in the tree with its key path and spans.
#[derive(Clone, Debug)]
pub(crate) struct Node<'a, 'i> {
    pub(crate) path: KeyPath,
    pub(crate) key_span: Range<usize>,
    pub(crate) value: &'a TomlSpanned<DeValue<'i>>,
}

/// A table in the tree.
#[derive(Clone, Debug)]
pub(crate) struct TableNode<'a, 'i> {
    pub(crate) path: KeyPath,
    /// Where to point when a key is missing: the table's header or its key.
    pub(crate) span: Range<usize>,
    pub(crate) table: &'a DeTable<'i>,
}

fn kind(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl<'a, 'i> Node<'a, 'i> {
    pub(crate) fn span(&self) -> Range<usize> {
        let span = self.value.span();
        if span.is_empty() { self.key_span.clone() } else { span }
    }

    fn type_error(&self, d: &mut Diagnostics<'_>, expected: &str) {
        d.error(&self.path, self.span(), format!("expected {expected}, found {}", kind(self.value.get_ref())))
            .hint(format!("write `{}` as {expected}", self.path));
    }

    pub(crate) fn table(&self, d: &mut Diagnostics<'_>) -> Option<TableNode<'a, 'i>> {
        match self.value.get_ref() {
            DeValue::Table(table) => Some(TableNode { path: self.path.clone(), span: self.key_span.clone(), table }),
            _ => {
                self.type_error(d, "a table");
                None
            }
        }
    }

    pub(crate) fn string(&self, d: &mut Diagnostics<'_>) -> Option<Spanned<String>> {
        match self.value.get_ref() {
            DeValue::String(s) => Some(Spanned::new(s.to_string(), self.span())),
            _ => {
                self.type_error(d, "a string");
                None
            }
        }
    }

    pub(crate) fn bool(&self, d: &mut Diagnostics<'_>) -> Option<Spanned<bool>> {
        match self.value.get_ref() {
            DeValue::Boolean(b) => Some(Spanned::new(*b, self.span())),
            _ => {
                self.type_error(d, "a boolean (true or false)");
                None
            }
        }
    }

    pub(crate) fn integer(&self, d: &mut Diagnostics<'_>) -> Option<Spanned<i64>> {
        match self.value.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Some(Spanned::new(n, self.span())),
                Err(_) => {
                    d.error(&self.path, self.span(), "integer does not fit in 64 bits");
                    None
                }
            },
            _ => {
                self.type_error(d, "an integer");
                None
            }
        }
    }

    /// An integer within `min..=max`.
    pub(crate) fn integer_in(&self, d: &mut Diagnostics<'_>, min: i64, max: i64) -> Option<Spanned<i64>> {
        let n = self.integer(d)?;
        if n.value < min || n.value > max {
            d.error(&self.path, n.span.clone(), format!("{} is out of range {min}..={max}", n.value))
                .hint(format!("use a value from {min} to {max}"));
            return None;
        }
        Some(n)
    }

    pub(crate) fn array(&self, d: &mut Diagnostics<'_>) -> Option<Vec<Node<'a, 'i>>> {
        match self.value.get_ref() {
            DeValue::Array(items) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, value)| Node { path: self.path.index(i), key_span: value.span(), value })
                    .collect(),
            ),
            _ => {
                self.type_error(d, "an array");
                None
            }
        }
    }

    /// An array of strings; an element of another type is reported and skipped.
    pub(crate) fn string_list(&self, d: &mut Diagnostics<'_>) -> Option<Vec<Spanned<String>>> {
        let items = self.array(d)?;
        Some(items.iter().filter_map(|item| item.string(d)).collect())
    }

    /// A non-empty array of strings.
    pub(crate) fn nonempty_string_list(&self, d: &mut Diagnostics<'_>) -> Option<Vec<Spanned<String>>> {
        let list = self.string_list(d)?;
        if list.is_empty() {
            d.error(&self.path, self.span(), "must not be empty").hint("list at least one entry");
            return None;
        }
        Some(list)
    }

    /// A string that must be one of `choices`.
    pub(crate) fn choice(&self, d: &mut Diagnostics<'_>, choices: &[&'static str]) -> Option<Spanned<&'static str>> {
        let s = self.string(d)?;
        match choices.iter().find(|c| **c == s.value) {
            Some(c) => Some(Spanned::new(*c, s.span)),
            None => {
                let list = choices.join(", ");
                let pending = d.error(&self.path, s.span, format!("{:?} is not one of: {list}", s.value));
                match closest(&s.value, choices.iter().copied()) {
                    Some(near) => pending.hint(format!("did you mean {near:?}?")),
                    None => pending.hint(format!("use one of: {list}")),
                }
                None
            }
        }
    }
}

impl<'a, 'i> TableNode<'a, 'i> {
    pub(crate) fn root(table: &'a TomlSpanned<DeTable<'i>>) -> Self {
        Self { path: KeyPath::root(), span: 0..0, table: table.get_ref() }
    }

    pub(crate) fn get(&self, key: &str) -> Option<Node<'a, 'i>> {
        self.table.get_key_value(key).map(|(k, value)| Node { path: self.path.key(key), key_span: k.span(), value })
    }

    /// A key that must be present; its absence is reported at the table.
    pub(crate) fn require(&self, d: &mut Diagnostics<'_>, key: &str) -> Option<Node<'a, 'i>> {
        let node = self.get(key);
        if node.is_none() {
            let path = &self.path;
            let message = if path.to_string().is_empty() {
                format!("missing required key `{key}`")
            } else {
                format!("missing required key `{key}` in `{path}`")
            };
            d.error(path, self.span.clone(), message).hint(format!("add `{key} = …`"));
        }
        node
    }

    /// Every entry in key order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (Spanned<&'a str>, Node<'a, 'i>)> + '_ {
        self.table.iter().map(|(k, value)| {
            let key: &'a str = k.get_ref().as_ref();
            (Spanned::new(key, k.span()), Node { path: self.path.key(key), key_span: k.span(), value })
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Reports every key not in `allowed`, with the closest allowed key as a hint.
    pub(crate) fn deny_unknown_keys(&self, d: &mut Diagnostics<'_>, allowed: &[&str]) {
        for (key, k) in self.table.iter().map(|(k, _)| (k.get_ref().as_ref(), k)) {
            if allowed.contains(&key) {
                continue;
            }
            let path = self.path.key(key);
            let pending = d.error(&path, k.span(), format!("unknown key `{}`", super::display_key(key)));
            match closest(key, allowed.iter().copied()) {
                Some(near) => pending.hint(format!("did you mean `{near}`?")),
                None if allowed.is_empty() => pending.hint("remove it"),
                None => pending.hint(format!("known keys here: {}", allowed.join(", "))),
            }
        }
    }
}

/// The decode result of an optional key: absent (`None`), present but invalid
/// (`Some(None)`), or present and valid (`Some(Some(v))`).
pub(crate) trait OptionalField<T> {
    /// `Some(None)` when the key is absent, `None` when it was invalid (already reported).
    fn optional(self) -> Option<Option<T>>;
}

impl<T> OptionalField<T> for Option<Option<T>> {
    fn optional(self) -> Option<Option<T>> {
        match self {
            None => Some(None),
            Some(inner) => inner.map(Some),
        }
    }
}
