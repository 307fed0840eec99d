//! `[activation]`: what must be healthy for an apply to succeed, and how long to wait.

use crate::Spanned;
use crate::checks::{http_url, resource_name};
use crate::diagnostic::Diagnostics;
use crate::syntax::{Node, OptionalField};

/// The pseudo-unit name that stands for the kiosk display in `required`.
pub const KIOSK_UNIT: &str = "kiosk";

/// Health policy of an apply.
#[derive(Clone, Debug, PartialEq)]
pub struct Activation {
    /// Containers (or `kiosk`) that must become active.
    pub required: Vec<Spanned<String>>,
    pub timeout_seconds: u32,
    pub settle_seconds: u32,
    /// Containers restarted on every apply, even when unchanged.
    pub restart: Vec<Spanned<String>>,
    /// Containers allowed to fail. `Some` (even empty) means the key was given, and then
    /// any other failed unit fails the apply.
    pub allow_degraded: Option<Vec<Spanned<String>>>,
    pub checks: Vec<Check>,
}

/// A probe that must pass before an apply counts as healthy.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub name: Spanned<String>,
    pub probe: Probe,
    pub interval_seconds: u32,
    pub timeout_seconds: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Probe {
    Http {
        url: String,
        expect_status: u16,
    },
    Tcp {
        host: String,
        port: u16,
    },
    /// argv, run without a shell.
    Exec {
        argv: Vec<String>,
    },
}

fn name_list(node: &Node<'_, '_>, d: &mut Diagnostics<'_>, nonempty: bool) -> Option<Vec<Spanned<String>>> {
    let list = if nonempty { node.nonempty_string_list(d)? } else { node.string_list(d)? };
    let mut ok = true;
    for (i, item) in list.iter().enumerate() {
        if item.value.trim().is_empty() {
            d.error(node.path.index(i), item.span.clone(), "must not be empty");
            ok = false;
        }
    }
    ok.then(|| list.into_iter().map(|s| s.map(|v| v.trim().to_owned())).collect())
}

/// What activation lists may refer to, read from the raw document so references are
/// checked even when the referenced tables have errors of their own.
#[derive(Debug, Default)]
pub(crate) struct Referable {
    pub(crate) containers: Vec<String>,
    pub(crate) kiosk_enabled: bool,
}

pub(crate) fn decode(node: &Node<'_, '_>, referable: &Referable, d: &mut Diagnostics<'_>) -> Option<Activation> {
    let table = node.table(d)?;
    table.deny_unknown_keys(
        d,
        &["required", "timeout_seconds", "settle_seconds", "restart", "allow_degraded", "strategy", "checks"],
    );
    let required = table.require(d, "required").map(|n| name_list(&n, d, true));
    let timeout = table.get("timeout_seconds").map(|n| n.integer_in(d, 1, 3600));
    let settle = table.get("settle_seconds").map(|n| n.integer_in(d, 0, 300));
    let restart = table.get("restart").map(|n| name_list(&n, d, false));
    let allow_degraded = table.get("allow_degraded").map(|n| name_list(&n, d, false));
    let strategy = table.get("strategy").map(|n| n.choice(d, &["rollback"]));
    let checks = table.get("checks").map(|n| decode_checks(&n, d));

    let mut ok = true;
    for (key, list, kiosk_allowed) in
        [("required", &required, true), ("restart", &restart, false), ("allow_degraded", &allow_degraded, false)]
    {
        let Some(Some(list)) = list else { continue };
        for (i, unit) in list.iter().enumerate() {
            ok &= check_reference(&table.path.key(key).index(i), unit, kiosk_allowed, referable, d);
        }
    }
    if let (Some(Some(required)), Some(Some(degraded))) = (&required, &allow_degraded) {
        for unit in degraded {
            if required.iter().any(|r| r.value == unit.value) {
                d.error(
                    table.path.key("allow_degraded"),
                    unit.span.clone(),
                    format!("{:?} is also required", unit.value),
                )
                .hint("a unit cannot be both required and allowed to fail: remove it from one list");
                ok = false;
            }
        }
    }
    let activation = Activation {
        required: required??,
        timeout_seconds: timeout.unwrap_or(Some(Spanned::new(300, 0..0)))?.value as u32,
        settle_seconds: settle.unwrap_or(Some(Spanned::new(0, 0..0)))?.value as u32,
        restart: restart.unwrap_or(Some(vec![]))?,
        allow_degraded: allow_degraded.optional()?,
        checks: checks.unwrap_or(Some(vec![]))?,
    };
    strategy.optional()?;
    ok.then_some(activation)
}

fn check_reference(
    path: &crate::syntax::KeyPath,
    unit: &Spanned<String>,
    kiosk_allowed: bool,
    referable: &Referable,
    d: &mut Diagnostics<'_>,
) -> bool {
    if unit.value == KIOSK_UNIT && kiosk_allowed {
        if !referable.kiosk_enabled {
            d.error(path, unit.span.clone(), "`kiosk` is required but the kiosk is not enabled")
                .hint("add [kiosk] enable = true, or remove \"kiosk\" from required");
            return false;
        }
        return true;
    }
    if referable.containers.contains(&unit.value) {
        return true;
    }
    let pending = d.error(path, unit.span.clone(), format!("{:?} is not a declared container", unit.value));
    match crate::suggest::closest(&unit.value, referable.containers.iter().map(String::as_str)) {
        Some(near) => pending.hint(format!("did you mean {near:?}?")),
        None => pending.hint("name a [containers.container.<name>]"),
    }
    false
}

fn decode_checks(node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<Vec<Check>> {
    let items = node.array(d)?;
    let mut out: Vec<Check> = Vec::new();
    let mut ok = true;
    for item in &items {
        match decode_check(item, d) {
            Some(check) => {
                if out.iter().any(|c| c.name.value == check.name.value) {
                    d.error(
                        item.path.key("name"),
                        check.name.span.clone(),
                        format!("duplicate check name {:?}", check.name.value),
                    )
                    .hint("give every check its own name");
                    ok = false;
                }
                out.push(check);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn decode_check(node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<Check> {
    let table = node.table(d)?;
    table
        .deny_unknown_keys(d, &["name", "http", "expect_status", "tcp", "exec", "interval_seconds", "timeout_seconds"]);
    let name = table.require(d, "name").and_then(|n| {
        let s = n.string(d)?;
        match resource_name(&s.value) {
            Ok(()) => Some(s),
            Err(m) => {
                d.error(&n.path, s.span, m);
                None
            }
        }
    });
    let kinds: Vec<_> = ["http", "tcp", "exec"].into_iter().filter_map(|k| table.get(k)).collect();
    let probe = match kinds.as_slice() {
        [] => {
            d.error(&table.path, node.span(), "a check needs one of `http`, `tcp` or `exec`")
                .hint("e.g. http = \"http://127.0.0.1:8080/health\"");
            None
        }
        [one] => decode_probe(one, &table, d),
        [_, second, ..] => {
            d.error(&second.path, second.key_span.clone(), "a check takes exactly one of `http`, `tcp` or `exec`")
                .hint("split it into two checks");
            None
        }
    };
    if let Some(n) = table.get("expect_status") {
        if !matches!(probe, Some(Probe::Http { .. })) && kinds.len() == 1 {
            d.error(&n.path, n.key_span.clone(), "`expect_status` only applies to http checks").hint("remove it");
            return None;
        }
    }
    let interval = table.get("interval_seconds").map(|n| n.integer_in(d, 1, 300));
    let timeout = table.get("timeout_seconds").map(|n| n.integer_in(d, 1, 300));
    Some(Check {
        name: name?,
        probe: probe?,
        interval_seconds: interval.unwrap_or(Some(Spanned::new(2, 0..0)))?.value as u32,
        timeout_seconds: timeout.unwrap_or(Some(Spanned::new(5, 0..0)))?.value as u32,
    })
}

fn decode_probe(
    node: &Node<'_, '_>,
    table: &crate::syntax::TableNode<'_, '_>,
    d: &mut Diagnostics<'_>,
) -> Option<Probe> {
    let key = node.path.to_string();
    if key.ends_with("http") {
        let url = node.string(d)?;
        match http_url(&url.value) {
            Err(m) => {
                d.error(&node.path, url.span, m);
                return None;
            }
            // Probes speak plain HTTP/1.1: provision carries no TLS client for them.
            Ok(parsed) if parsed.scheme() == "https" => {
                d.error(&node.path, url.span, format!("{:?}: https:// probes are not supported", url.value)).hint(
                    "check the port with `tcp = \"host:port\"`, or run a client with `exec = [\"curl\", \"-fsS\", …]`",
                );
                return None;
            }
            Ok(_) => {}
        }
        let expect_status = match table.get("expect_status") {
            Some(n) => n.integer_in(d, 100, 599)?.value as u16,
            None => 200,
        };
        Some(Probe::Http { url: url.value, expect_status })
    } else if key.ends_with("tcp") {
        let target = node.string(d)?;
        match split_host_port(&target.value) {
            Some((host, port)) => Some(Probe::Tcp { host, port }),
            None => {
                d.error(&node.path, target.span, format!("{:?} is not `host:port`", target.value))
                    .hint("e.g. tcp = \"127.0.0.1:5432\"");
                None
            }
        }
    } else {
        let argv = node.nonempty_string_list(d)?;
        let mut ok = true;
        for (i, arg) in argv.iter().enumerate() {
            if arg.value.contains('\0') {
                d.error(node.path.index(i), arg.span.clone(), "an argument cannot contain a NUL byte");
                ok = false;
            }
        }
        if argv[0].value.is_empty() {
            d.error(node.path.index(0), argv[0].span.clone(), "the command must not be empty");
            ok = false;
        }
        ok.then(|| Probe::Exec { argv: argv.into_iter().map(|a| a.value).collect() })
    }
}

/// `host:port` or `[v6]:port`, with a port from 1 to 65535 and a host that is an IP or DNS name.
fn split_host_port(s: &str) -> Option<(String, u16)> {
    let (host, port) = s.rsplit_once(':')?;
    let port: u16 = port.parse().ok().filter(|p| *p != 0)?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let valid = host.parse::<std::net::IpAddr>().is_ok() || crate::checks::dns_name(host).is_ok();
    valid.then(|| (host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::split_host_port;

    #[test]
    fn host_port() {
        assert_eq!(split_host_port("127.0.0.1:5432"), Some(("127.0.0.1".into(), 5432)));
        assert_eq!(split_host_port("[::1]:80"), Some(("::1".into(), 80)));
        assert_eq!(split_host_port("db.local:1"), Some(("db.local".into(), 1)));
        assert_eq!(split_host_port("127.0.0.1"), None);
        assert_eq!(split_host_port("127.0.0.1:0"), None);
        assert_eq!(split_host_port("a b:80"), None);
    }
}
