//! `[network]` → systemd-networkd `.network` files, the LAN's dnsmasq config and
//! the chrony config.
//!
//! - `eth0` is the WAN: DHCP unless configured static. The top-level `dns_servers`,
//!   `dns_search_domains` and `default_gateway` apply to it when it has none of its own.
//! - `eth1` is the LAN gateway: always static with the dnsmasq gateway address, up
//!   without carrier, and not required for `network-online.target`.
//! - dnsmasq serves DHCP and DNS on eth1 only; it hands out the gateway as router,
//!   DNS and NTP server. The gateway aliases resolve to the gateway address.
//! - chrony syncs from the configured servers and serves time to the LAN.

use std::fmt::Write as _;
use std::net::IpAddr;

use cairn_config::{Interface, InterfaceMode, Network};

use crate::RenderedFile;

pub const NETWORKD_DIR: &str = "network/networkd";
pub const DNSMASQ_PATH: &str = "network/dnsmasq.conf";
pub const CHRONY_PATH: &str = "network/chrony.conf";
/// The WAN interface.
pub const WAN: &str = "eth0";
/// The LAN gateway interface.
pub const LAN: &str = "eth1";
/// DHCP lease time on the LAN.
pub const LEASE_TIME: &str = "12h";

pub(crate) fn render(network: &Network) -> Vec<RenderedFile> {
    let mut files = Vec::new();
    let wan = network.interfaces.get(WAN).cloned().unwrap_or_else(|| Interface {
        name: WAN.into(),
        mode: InterfaceMode::Dhcp,
        gateway: None,
        dns_servers: vec![],
        dns_search_domains: vec![],
    });
    let wan = Interface {
        gateway: wan.gateway.or(network.default_gateway),
        dns_servers: if wan.dns_servers.is_empty() { network.dns_servers.clone() } else { wan.dns_servers },
        dns_search_domains: if wan.dns_search_domains.is_empty() {
            network.dns_search_domains.clone()
        } else {
            wan.dns_search_domains
        },
        ..wan
    };
    files.push(networkd(&wan, false));
    let lan = network.interfaces.get(LAN).cloned().unwrap_or_else(|| Interface {
        name: LAN.into(),
        mode: InterfaceMode::Static { address: network.dnsmasq.gateway },
        gateway: None,
        dns_servers: vec![],
        dns_search_domains: vec![],
    });
    // The dnsmasq gateway address is the one source of truth for eth1's address
    // (validation made them agree when both are given).
    let lan = Interface { mode: InterfaceMode::Static { address: network.dnsmasq.gateway }, ..lan };
    files.push(networkd(&lan, true));
    for iface in network.interfaces.values().filter(|i| i.name != WAN && i.name != LAN) {
        files.push(networkd(iface, false));
    }
    files.push(dnsmasq(network, &wan.dns_servers));
    files.push(chrony(network));
    files
}

/// `10-eth0.network`, `10-eth1.network`, … (names sort by interface).
fn networkd(iface: &Interface, lan: bool) -> RenderedFile {
    let mut s = format!(
        "# Rendered by Cairn from [network] for {}{}. Do not edit.\n\n[Match]\nName={}\n\n[Network]\n",
        iface.name,
        if lan { " (LAN gateway)" } else { "" },
        iface.name
    );
    match iface.mode {
        InterfaceMode::Dhcp => s.push_str("DHCP=yes\n"),
        InterfaceMode::Static { address } => {
            let _ = writeln!(s, "Address={address}");
        }
    }
    if let Some(gw) = iface.gateway {
        let _ = writeln!(s, "Gateway={gw}");
    }
    for dns in &iface.dns_servers {
        let _ = writeln!(s, "DNS={dns}");
    }
    if !iface.dns_search_domains.is_empty() {
        let _ = writeln!(s, "Domains={}", iface.dns_search_domains.join(" "));
    }
    if lan {
        s.push_str("ConfigureWithoutCarrier=yes\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n");
        s.push_str("\n[Link]\nRequiredForOnline=no\n");
    } else if matches!(iface.mode, InterfaceMode::Dhcp) && !iface.dns_servers.is_empty() {
        // Configured DNS servers replace the ones the DHCP server offers.
        s.push_str("\n[DHCPv4]\nUseDNS=no\n");
    }
    RenderedFile::data(format!("{NETWORKD_DIR}/10-{}.network", iface.name), s)
}

fn dnsmasq(network: &Network, upstream: &[IpAddr]) -> RenderedFile {
    let lan = &network.dnsmasq;
    let gw = lan.gateway.addr();
    let mut s = String::from("# Rendered by Cairn from [network.dnsmasq]. Do not edit.\n");
    s.push_str("# DHCP and DNS for the LAN on eth1 only.\n");
    let _ = writeln!(s, "interface={}", lan.interface);
    s.push_str("bind-dynamic\ndomain-needed\nbogus-priv\n");
    if upstream.is_empty() {
        s.push_str("# Upstream DNS: the host's resolv.conf.\n");
    } else {
        s.push_str("# Upstream DNS: the configured servers only.\nno-resolv\n");
        for ip in upstream {
            let _ = writeln!(s, "server={ip}");
        }
    }
    let _ = writeln!(s, "domain={}", lan.domain);
    let _ = writeln!(s, "local=/{}/", lan.domain);
    let _ = writeln!(s, "dhcp-range={},{},{},{LEASE_TIME}", lan.dhcp_start, lan.dhcp_end, lan.gateway.netmask());
    let _ = writeln!(s, "dhcp-option=option:router,{gw}");
    let _ = writeln!(s, "dhcp-option=option:dns-server,{gw}");
    let _ = writeln!(s, "dhcp-option=option:ntp-server,{gw}");
    s.push_str("dhcp-authoritative\n");
    if let Some(pattern) = &lan.hostname_pattern {
        // dnsmasq has no name templates: it can only name clients after their MAC
        // (aa-bb-cc-dd-ee-ff). The pattern is recorded here for the operator.
        let _ = writeln!(s, "# hostname_pattern {pattern:?}: clients without a name get their MAC as name");
        s.push_str("dhcp-generate-names\n");
    }
    for alias in &lan.gateway_aliases {
        let _ = writeln!(s, "host-record={alias},{alias}.{},{gw}", lan.domain);
    }
    RenderedFile::data(DNSMASQ_PATH, s)
}

fn chrony(network: &Network) -> RenderedFile {
    let mut s = String::from("# Rendered by Cairn from [network.ntp]. Do not edit.\n");
    // cairn_config resolves the default servers, with or without a [network] table.
    for server in &network.ntp_servers {
        let _ = writeln!(s, "server {server} iburst");
    }
    s.push_str("driftfile /var/lib/chrony/chrony.drift\nmakestep 1.0 3\nrtcsync\n");
    s.push_str("# Serve time to the LAN (UDP 123 is always open there).\n");
    let _ = writeln!(s, "allow {}", network.dnsmasq.gateway.trunc());
    RenderedFile::data(CHRONY_PATH, s)
}
