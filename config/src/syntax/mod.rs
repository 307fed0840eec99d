//! Source text handling: positions, key paths and the spanned TOML tree.

mod key_path;
mod line_index;
mod tree;

pub(crate) use key_path::{KeyPath, display_key};
pub(crate) use line_index::LineIndex;
pub(crate) use tree::{Node, OptionalField, TableNode};
