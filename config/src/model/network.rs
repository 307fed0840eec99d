//! `[network]`: host interfaces and resolver, the LAN gateway (dnsmasq), NTP and the inbound firewall.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use ipnet::Ipv4Net;

use crate::Spanned;
use crate::checks::{dns_name, ip_addr, ipv4_addr, ipv4_interface, ntp_server};
use crate::diagnostic::Diagnostics;
use crate::syntax::{Node, OptionalField, TableNode};

/// LAN gateway address when neither eth1 nor dnsmasq name one.
pub const DEFAULT_GATEWAY_CIDR: &str = "172.20.30.1/24";
/// LAN DHCP domain when none is given.
pub const DEFAULT_LAN_DOMAIN: &str = "local";
/// Names the gateway answers to on the LAN when none are given.
pub const DEFAULT_GATEWAY_ALIASES: &[&str] = &["cairn"];
/// NTP servers when none are given.
pub const DEFAULT_NTP_SERVERS: &[&str] = &["time.cloudflare.com"];
/// The provisioning API port: never a configurable WAN rule.
pub const RESERVED_WAN_TCP_PORT: u16 = 8080;
/// Ports a LAN allowlist always keeps open, so the device stays manageable.
pub const LAN_ALWAYS_OPEN_TCP: &[u16] = &[22, 53, 8080];
pub const LAN_ALWAYS_OPEN_UDP: &[u16] = &[53, 67, 68, 123];

/// Host networking.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    pub dns_servers: Vec<IpAddr>,
    pub dns_search_domains: Vec<String>,
    pub default_gateway: Option<Ipv4Addr>,
    pub interfaces: BTreeMap<String, Interface>,
    pub dnsmasq: Dnsmasq,
    pub ntp_servers: Vec<String>,
    pub firewall: Firewall,
}

impl Default for Network {
    /// The network of a config without `[network]`: DHCP defaults, the default LAN
    /// gateway, the default NTP servers, the default firewall.
    fn default() -> Self {
        Self {
            dns_servers: Vec::new(),
            dns_search_domains: Vec::new(),
            default_gateway: None,
            interfaces: BTreeMap::new(),
            dnsmasq: Dnsmasq::default(),
            ntp_servers: DEFAULT_NTP_SERVERS.iter().map(|s| s.to_string()).collect(),
            firewall: Firewall::default(),
        }
    }
}

/// One Ethernet interface `ethN`.
#[derive(Clone, Debug, PartialEq)]
pub struct Interface {
    pub name: String,
    pub mode: InterfaceMode,
    pub gateway: Option<Ipv4Addr>,
    pub dns_servers: Vec<IpAddr>,
    pub dns_search_domains: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum InterfaceMode {
    Dhcp,
    Static { address: Ipv4Net },
}

/// The LAN DHCP/DNS server on eth1, with every default resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Dnsmasq {
    pub interface: String,
    /// Gateway address and prefix, e.g. 172.20.30.1/24.
    pub gateway: Ipv4Net,
    pub dhcp_start: Ipv4Addr,
    pub dhcp_end: Ipv4Addr,
    pub domain: String,
    /// Host names for DHCP clients, containing `{mac}`; `None` leaves names to clients.
    pub hostname_pattern: Option<String>,
    pub gateway_aliases: Vec<String>,
}

impl Default for Dnsmasq {
    fn default() -> Self {
        let gateway: Ipv4Net = DEFAULT_GATEWAY_CIDR.parse().expect("constant CIDR");
        let [a, b, c, _] = gateway.addr().octets();
        Self {
            interface: "eth1".into(),
            gateway,
            dhcp_start: Ipv4Addr::new(a, b, c, 10),
            dhcp_end: Ipv4Addr::new(a, b, c, 254),
            domain: DEFAULT_LAN_DOMAIN.into(),
            hostname_pattern: None,
            gateway_aliases: DEFAULT_GATEWAY_ALIASES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// Inbound firewall: WAN is deny-by-default; LAN is open unless a scope lists ports.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Firewall {
    pub wan: PortSet,
    pub lan: PortSet,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct PortSet {
    pub tcp: BTreeSet<u16>,
    pub udp: BTreeSet<u16>,
}

impl PortSet {
    pub fn is_empty(&self) -> bool {
        self.tcp.is_empty() && self.udp.is_empty()
    }
}

fn ip_list(node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<Vec<IpAddr>> {
    let items = node.nonempty_string_list(d)?;
    let mut out = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        match ip_addr(item.value.trim()) {
            Ok(ip) => out.push(ip),
            Err(m) => {
                d.error(node.path.index(i), item.span.clone(), m).hint("use an IP literal such as 192.0.2.53");
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn dns_list(node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<Vec<String>> {
    let items = node.nonempty_string_list(d)?;
    let mut out = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        match dns_name(item.value.trim()) {
            Ok(()) => out.push(item.value.trim().trim_end_matches('.').to_ascii_lowercase()),
            Err(m) => {
                d.error(node.path.index(i), item.span.clone(), m);
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn parse_with<T>(
    node: &Node<'_, '_>,
    d: &mut Diagnostics<'_>,
    f: impl Fn(&str) -> Result<T, String>,
) -> Option<Spanned<T>> {
    let s = node.string(d)?;
    match f(s.value.trim()) {
        Ok(v) => Some(Spanned::new(v, s.span)),
        Err(m) => {
            d.error(&node.path, s.span, m);
            None
        }
    }
}

pub(crate) fn decode(node: Option<&Node<'_, '_>>, d: &mut Diagnostics<'_>) -> Option<Network> {
    let Some(node) = node else { return Some(Network::default()) };
    let table = node.table(d)?;
    table.deny_unknown_keys(
        d,
        &["dns_servers", "dns_search_domains", "default_gateway", "interfaces", "dnsmasq", "ntp", "firewall"],
    );
    let dns_servers = table.get("dns_servers").map(|n| ip_list(&n, d));
    let dns_search_domains = table.get("dns_search_domains").map(|n| dns_list(&n, d));
    let default_gateway = table.get("default_gateway").map(|n| parse_with(&n, d, ipv4_addr));
    let interfaces = match table.get("interfaces") {
        Some(n) => decode_interfaces(&n, d),
        None => Some(BTreeMap::new()),
    };
    let dnsmasq = decode_dnsmasq(table.get("dnsmasq").as_ref(), interfaces.as_ref(), &table, d);
    let ntp_servers = decode_ntp(table.get("ntp").as_ref(), d);
    let firewall = decode_firewall(table.get("firewall").as_ref(), d);
    Some(Network {
        dns_servers: dns_servers.unwrap_or(Some(vec![]))?,
        dns_search_domains: dns_search_domains.unwrap_or(Some(vec![]))?,
        default_gateway: default_gateway.optional()?.map(|g| g.value),
        interfaces: interfaces?,
        dnsmasq: dnsmasq?,
        ntp_servers: ntp_servers?,
        firewall: firewall?,
    })
}

fn decode_interfaces(node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<BTreeMap<String, Interface>> {
    let table = node.table(d)?;
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (name, entry) in table.entries() {
        let name_ok =
            name.value.strip_prefix("eth").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !name_ok {
            d.error(&entry.path, name.span.clone(), format!("unsupported interface name {:?}", name.value))
                .hint("interfaces are named eth0, eth1, …");
            ok = false;
            continue;
        }
        match decode_interface(name.value, &entry, d) {
            Some(iface) => {
                out.insert(name.value.to_owned(), iface);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn decode_interface(name: &str, node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<Interface> {
    let table = node.table(d)?;
    table.deny_unknown_keys(d, &["mode", "address", "gateway", "dns_servers", "dns_search_domains"]);
    let mode = table.require(d, "mode").and_then(|n| n.choice(d, &["dhcp", "static"]));
    let address = table.get("address").map(|n| (n.clone(), parse_with(&n, d, ipv4_interface)));
    let mode = match (mode, address) {
        (Some(m), address) if m.value == "static" => match address {
            Some((_, Some(a))) => Some(InterfaceMode::Static { address: a.value }),
            Some((_, None)) => None,
            None => {
                d.error(&table.path, table.span.clone(), format!("static interface `{name}` needs an `address`"))
                    .hint("add address = \"192.168.1.10/24\" or use mode = \"dhcp\"");
                None
            }
        },
        (Some(m), address) => {
            if name == "eth1" {
                d.error(table.path.key("mode"), m.span.clone(), "eth1 is the LAN gateway and must be static").hint(
                    "set mode = \"static\" with an address, or leave eth1 out to use the default gateway address",
                );
                None
            } else if let Some((n, _)) = address {
                d.error(&n.path, n.key_span.clone(), "`address` is only used when mode is \"static\"")
                    .hint("remove address or set mode = \"static\"");
                None
            } else {
                Some(InterfaceMode::Dhcp)
            }
        }
        (None, _) => None,
    };
    let gateway = table.get("gateway").map(|n| parse_with(&n, d, ipv4_addr));
    let dns_servers = table.get("dns_servers").map(|n| ip_list(&n, d));
    let dns_search_domains = table.get("dns_search_domains").map(|n| dns_list(&n, d));
    Some(Interface {
        name: name.to_owned(),
        mode: mode?,
        gateway: gateway.optional()?.map(|g| g.value),
        dns_servers: dns_servers.unwrap_or(Some(vec![]))?,
        dns_search_domains: dns_search_domains.unwrap_or(Some(vec![]))?,
    })
}

fn decode_dnsmasq(
    node: Option<&Node<'_, '_>>,
    interfaces: Option<&BTreeMap<String, Interface>>,
    network: &TableNode<'_, '_>,
    d: &mut Diagnostics<'_>,
) -> Option<Dnsmasq> {
    let mut out = Dnsmasq::default();
    let eth1 = interfaces.and_then(|i| i.get("eth1")).and_then(|i| match i.mode {
        InterfaceMode::Static { address } => Some(address),
        InterfaceMode::Dhcp => None,
    });
    if let Some(address) = eth1 {
        out.gateway = address;
    }
    let Some(node) = node else {
        return finish_lan(out, None, network, d);
    };
    let table = node.table(d)?;
    table.deny_unknown_keys(
        d,
        &[
            "enable",
            "interface",
            "gateway_cidr",
            "dhcp_start",
            "dhcp_end",
            "domain",
            "hostname_pattern",
            "gateway_aliases",
        ],
    );
    let mut ok = true;
    if let Some(n) = table.get("enable") {
        match n.bool(d) {
            Some(b) if !b.value => {
                d.error(&n.path, b.span, "the LAN DHCP/DNS server cannot be disabled")
                    .hint("remove `enable` or set it to true");
                ok = false;
            }
            Some(_) => {}
            None => ok = false,
        }
    }
    if let Some(n) = table.get("interface") {
        match n.string(d) {
            Some(s) if s.value.trim() != "eth1" => {
                d.error(&n.path, s.span, format!("{:?}: the LAN gateway interface is always eth1", s.value))
                    .hint("remove `interface` or set it to \"eth1\"");
                ok = false;
            }
            Some(_) => {}
            None => ok = false,
        }
    }
    let mut gateway_span = None;
    if let Some(n) = table.get("gateway_cidr") {
        match parse_with(&n, d, ipv4_interface) {
            Some(g) => {
                if let Some(address) = eth1 {
                    if address != g.value {
                        d.error(
                            &n.path,
                            g.span.clone(),
                            format!("{} does not match network.interfaces.eth1.address {address}", g.value),
                        )
                        .hint("give the same address in both places, or only one of them");
                        ok = false;
                    }
                }
                out.gateway = g.value;
                gateway_span = Some((n.path.clone(), g.span));
            }
            None => ok = false,
        }
    }
    // Defaults for the range follow the gateway's subnet: .10 to .254.
    let base = u32::from(out.gateway.trunc().network());
    let last = u32::from(out.gateway.trunc().broadcast()).saturating_sub(1);
    out.dhcp_start = Ipv4Addr::from(base + 10);
    out.dhcp_end = Ipv4Addr::from((base + 254).min(last));
    let mut range_span = None;
    for key in ["dhcp_start", "dhcp_end"] {
        if let Some(n) = table.get(key) {
            match parse_with(&n, d, ipv4_addr) {
                Some(ip) => {
                    if key == "dhcp_start" {
                        out.dhcp_start = ip.value;
                    } else {
                        out.dhcp_end = ip.value;
                    }
                    range_span.get_or_insert((n.path.clone(), ip.span));
                }
                None => ok = false,
            }
        }
    }
    if let Some(n) = table.get("domain") {
        match parse_with(&n, d, |s| dns_name(s).map(|_| s.trim_end_matches('.').to_ascii_lowercase())) {
            Some(v) => out.domain = v.value,
            None => ok = false,
        }
    }
    if let Some(n) = table.get("hostname_pattern") {
        match n.string(d) {
            Some(p) if p.value.is_empty() => {}
            Some(p) => {
                if !p.value.contains("{mac}") {
                    d.error(&n.path, p.span, "must contain `{mac}`").hint("e.g. hostname_pattern = \"device-{mac}\"");
                    ok = false;
                } else if let Err(m) = dns_name(&p.value.replace("{mac}", "001122334455")) {
                    d.error(&n.path, p.span, format!("does not produce valid host names: {m}"));
                    ok = false;
                } else {
                    out.hostname_pattern = Some(p.value);
                }
            }
            None => ok = false,
        }
    }
    if let Some(n) = table.get("gateway_aliases") {
        match n.string_list(d) {
            Some(list) if list.is_empty() => {}
            Some(list) => {
                let mut aliases = Vec::new();
                for (i, alias) in list.iter().enumerate() {
                    match dns_name(alias.value.trim()) {
                        Ok(()) => {
                            let a = alias.value.trim().trim_end_matches('.').to_ascii_lowercase();
                            if !aliases.contains(&a) {
                                aliases.push(a);
                            }
                        }
                        Err(m) => {
                            d.error(n.path.index(i), alias.span.clone(), m);
                            ok = false;
                        }
                    }
                }
                out.gateway_aliases = aliases;
            }
            None => ok = false,
        }
    }
    if !ok {
        return None;
    }
    finish_lan(out, gateway_span.or(range_span).map(|(p, s)| (p, s, table.span.clone())), network, d)
}

/// Checks that hold between the gateway address and the DHCP range.
fn finish_lan(
    out: Dnsmasq,
    at: Option<(crate::syntax::KeyPath, std::ops::Range<usize>, std::ops::Range<usize>)>,
    network: &TableNode<'_, '_>,
    d: &mut Diagnostics<'_>,
) -> Option<Dnsmasq> {
    let (path, span) = match at {
        Some((p, s, _)) => (p.to_string(), s),
        None => (network.path.key("dnsmasq").to_string(), network.span.clone()),
    };
    let prefix = out.gateway.prefix_len();
    if !(16..=30).contains(&prefix) {
        d.error(&path, span, format!("the LAN prefix /{prefix} is outside /16–/30"))
            .hint("use a prefix from /16 to /30, e.g. 172.20.30.1/24");
        return None;
    }
    let subnet = out.gateway.trunc();
    if !subnet.contains(&out.dhcp_start) || !subnet.contains(&out.dhcp_end) {
        d.error(&path, span, format!("the DHCP range {}–{} must lie inside {subnet}", out.dhcp_start, out.dhcp_end))
            .hint("pick dhcp_start and dhcp_end inside the gateway's subnet");
        return None;
    }
    if out.dhcp_start > out.dhcp_end {
        d.error(&path, span, format!("dhcp_start {} is after dhcp_end {}", out.dhcp_start, out.dhcp_end))
            .hint("swap them");
        return None;
    }
    let gw = out.gateway.addr();
    if out.dhcp_start <= gw && gw <= out.dhcp_end {
        d.error(&path, span, format!("the DHCP range {}–{} contains the gateway {gw}", out.dhcp_start, out.dhcp_end))
            .hint("start the range after the gateway address");
        return None;
    }
    Some(out)
}

fn decode_ntp(node: Option<&Node<'_, '_>>, d: &mut Diagnostics<'_>) -> Option<Vec<String>> {
    let defaults = || DEFAULT_NTP_SERVERS.iter().map(|s| s.to_string()).collect();
    let Some(node) = node else { return Some(defaults()) };
    let table = node.table(d)?;
    table.deny_unknown_keys(d, &["servers"]);
    let Some(n) = table.get("servers") else { return Some(defaults()) };
    let list = n.nonempty_string_list(d)?;
    let mut ok = true;
    for (i, s) in list.iter().enumerate() {
        if let Err(m) = ntp_server(s.value.trim()) {
            d.error(n.path.index(i), s.span.clone(), m);
            ok = false;
        }
    }
    ok.then(|| list.into_iter().map(|s| s.value.trim().to_owned()).collect())
}

fn decode_firewall(node: Option<&Node<'_, '_>>, d: &mut Diagnostics<'_>) -> Option<Firewall> {
    let Some(node) = node else { return Some(Firewall::default()) };
    let table = node.table(d)?;
    table.deny_unknown_keys(d, &["inbound"]);
    let Some(inbound) = table.get("inbound") else { return Some(Firewall::default()) };
    let inbound = inbound.table(d)?;
    inbound.deny_unknown_keys(d, &["wan", "lan"]);
    let wan = inbound.get("wan").map(|n| decode_ports(&n, d, true));
    let lan = inbound.get("lan").map(|n| decode_ports(&n, d, false));
    Some(Firewall { wan: wan.unwrap_or(Some(PortSet::default()))?, lan: lan.unwrap_or(Some(PortSet::default()))? })
}

fn decode_ports(node: &Node<'_, '_>, d: &mut Diagnostics<'_>, wan: bool) -> Option<PortSet> {
    let table = node.table(d)?;
    table.deny_unknown_keys(d, &["tcp", "udp"]);
    let mut set = PortSet::default();
    let mut ok = true;
    for proto in ["tcp", "udp"] {
        let Some(n) = table.get(proto) else { continue };
        let Some(items) = n.array(d) else {
            ok = false;
            continue;
        };
        for item in items {
            let Some(port) = item.integer_in(d, 1, 65535) else {
                ok = false;
                continue;
            };
            let port = port.value as u16;
            if wan && proto == "tcp" && port == RESERVED_WAN_TCP_PORT {
                d.error(
                    &item.path,
                    item.span(),
                    "TCP 8080 is reserved for the provisioning API and cannot be opened on the WAN",
                )
                .hint("publish the service on another port");
                ok = false;
                continue;
            }
            if proto == "tcp" {
                set.tcp.insert(port)
            } else {
                set.udp.insert(port)
            };
        }
    }
    ok.then_some(set)
}
