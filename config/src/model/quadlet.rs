//! Quadlet sections (`[Container]`, `[Network]`, …) and the systemd sections passed
//! through with them (`[Unit]`, `[Service]`, `[Install]`).

use std::collections::BTreeMap;
use std::ops::Range;

use toml::de::DeValue;

use crate::Spanned;
use crate::diagnostic::Diagnostics;
use crate::directives;
use crate::suggest::closest;
use crate::syntax::Node;
use crate::unit_value::UnitValue;

/// A section of a unit file that config.toml may fill in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SectionKind {
    Unit,
    Container,
    Pod,
    Network,
    Volume,
    Build,
    Service,
    Install,
}

impl SectionKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Unit => "Unit",
            Self::Container => "Container",
            Self::Pod => "Pod",
            Self::Network => "Network",
            Self::Volume => "Volume",
            Self::Build => "Build",
            Self::Service => "Service",
            Self::Install => "Install",
        }
    }

    /// The directive names this section accepts (Podman 5.4 / systemd).
    pub fn directives(self) -> &'static [&'static str] {
        match self {
            Self::Unit => directives::UNIT,
            Self::Container => directives::CONTAINER,
            Self::Pod => directives::POD,
            Self::Network => directives::NETWORK,
            Self::Volume => directives::VOLUME,
            Self::Build => directives::BUILD,
            Self::Service => directives::SERVICE,
            Self::Install => directives::INSTALL,
        }
    }
}

/// One `Key=value` directive; an array in config.toml gives one line per element.
#[derive(Clone, Debug, PartialEq)]
pub struct Directive {
    pub key: Spanned<String>,
    pub values: Vec<Spanned<UnitValue>>,
}

/// A section with its directives in key order (so rendering is independent of how
/// the operator ordered the keys).
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    pub kind: SectionKind,
    pub span: Range<usize>,
    pub directives: BTreeMap<String, Directive>,
}

impl Section {
    pub fn get(&self, key: &str) -> Option<&Directive> {
        self.directives.get(key)
    }

    /// The single value of a directive, if it has exactly one.
    pub fn single(&self, key: &str) -> Option<&Spanned<UnitValue>> {
        match self.get(key)?.values.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

fn scalar_text(value: &DeValue<'_>) -> Option<String> {
    match value {
        DeValue::String(s) => Some(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok().map(|n| n.to_string()),
        DeValue::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn unit_value(node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<Spanned<UnitValue>> {
    let Some(text) = scalar_text(node.value.get_ref()) else {
        d.error(&node.path, node.span(), "expected a string, integer or boolean")
            .hint("directive values are strings, integers, booleans, or an array of them");
        return None;
    };
    match UnitValue::new(&text) {
        Ok(v) => Some(Spanned::new(v, node.span())),
        Err(e) => {
            d.error(&node.path, node.span(), format!("value {e}")).hint(e.hint());
            None
        }
    }
}

/// Decodes one section table, checking directive names against `kind`'s list. The
/// section keeps every valid directive even when others were reported, so later rules
/// still check what is there; the flag says whether everything was valid.
pub(crate) fn decode_section(
    kind: SectionKind,
    node: &Node<'_, '_>,
    d: &mut Diagnostics<'_>,
) -> Option<(Section, bool)> {
    let table = node.table(d)?;
    let known = kind.directives();
    let mut directives = BTreeMap::new();
    let mut ok = true;
    for (key, entry) in table.entries() {
        if !known.contains(&key.value) {
            let pending = d.error(
                &entry.path,
                key.span.clone(),
                format!("unknown [{}] directive `{}`", kind.name(), crate::syntax::display_key(key.value)),
            );
            match closest(key.value, known.iter().copied()) {
                Some(near) => pending.hint(format!("did you mean `{near}`?")),
                None => pending.hint(format!(
                    "see podman-systemd.unit(5) (Podman {}) for [{}] keys",
                    directives::PODMAN_VERSION,
                    kind.name()
                )),
            }
            ok = false;
            continue;
        }
        let values = match entry.value.get_ref() {
            DeValue::Array(items) if items.is_empty() => {
                d.error(&entry.path, entry.span(), "an empty array gives no directive")
                    .hint("remove the key or give at least one value");
                None
            }
            DeValue::Array(_) => {
                let items = entry.array(d).unwrap_or_default();
                let values: Vec<_> = items.iter().filter_map(|item| unit_value(item, d)).collect();
                (values.len() == items.len()).then_some(values)
            }
            _ => unit_value(&entry, d).map(|v| vec![v]),
        };
        match values {
            Some(values) => {
                directives.insert(key.value.to_owned(), Directive { key: key.map(str::to_owned), values });
            }
            None => ok = false,
        }
    }
    Some((Section { kind, span: node.key_span.clone(), directives }, ok))
}
