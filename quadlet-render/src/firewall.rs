//! `[network.firewall]` → one nftables ruleset, `firewall/nftables.conf`.
//!
//! Inbound (`input`, policy drop): loopback, established/related traffic and ICMP
//! (v4 and v6, which IPv6 needs for neighbour discovery) are accepted everywhere,
//! and so are DHCPv6 replies to a link-local address (the WAN's DHCP client).
//! WAN (eth0) accepts only the listed ports. LAN (eth1) accepts everything while its
//! scope is empty; a non-empty scope is an allowlist that always keeps TCP 22, 53,
//! 8080 and UDP 53, 67, 68, 123 so the device stays reachable and serves DHCP, DNS
//! and NTP. Any other interface gets nothing new.
//!
//! Forwarding (`forward`, policy drop, no rules): the device never routes.
//!
//! The file replaces only Cairn's own table (`inet cairn`), atomically: it declares
//! the table, deletes it and defines it again in one transaction.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use cairn_config::{LAN_ALWAYS_OPEN_TCP, LAN_ALWAYS_OPEN_UDP, Network};

use crate::RenderedFile;
use crate::network::{LAN, WAN};

pub const NFTABLES_PATH: &str = "firewall/nftables.conf";
pub const TABLE: &str = "cairn";

fn port_rule(s: &mut String, iface: &str, proto: &str, ports: &BTreeSet<u16>) {
    if ports.is_empty() {
        return;
    }
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    let _ = writeln!(s, "\t\tiifname \"{iface}\" {proto} dport {{ {} }} accept", list.join(", "));
}

pub(crate) fn render(network: &Network) -> RenderedFile {
    let fw = &network.firewall;
    let mut s = String::from("#!/usr/sbin/nft -f\n# Rendered by Cairn from [network.firewall]. Do not edit.\n\n");
    let _ = writeln!(s, "table inet {TABLE}\ndelete table inet {TABLE}\n\ntable inet {TABLE} {{");
    s.push_str("\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n");
    s.push_str("\t\tiif \"lo\" accept\n");
    s.push_str("\t\tct state established,related accept\n");
    s.push_str("\t\tct state invalid drop\n");
    s.push_str("\t\tmeta l4proto { icmp, ipv6-icmp } accept\n");
    // DHCPv6 replies come from the server's link-local address to ours; conntrack
    // cannot match them to the multicast solicit, so they are let in explicitly.
    s.push_str("\t\tip6 daddr fe80::/64 udp dport 546 accept\n");
    let _ = writeln!(s, "\t\t# WAN ({WAN}): deny by default");
    port_rule(&mut s, WAN, "tcp", &fw.wan.tcp);
    port_rule(&mut s, WAN, "udp", &fw.wan.udp);
    if fw.lan.is_empty() {
        let _ = writeln!(s, "\t\t# LAN ({LAN}): open (no scope given)");
        let _ = writeln!(s, "\t\tiifname \"{LAN}\" accept");
    } else {
        let _ = writeln!(s, "\t\t# LAN ({LAN}): allowlist, always keeping management, DHCP, DNS and NTP");
        let tcp: BTreeSet<u16> = fw.lan.tcp.iter().chain(LAN_ALWAYS_OPEN_TCP).copied().collect();
        let udp: BTreeSet<u16> = fw.lan.udp.iter().chain(LAN_ALWAYS_OPEN_UDP).copied().collect();
        port_rule(&mut s, LAN, "tcp", &tcp);
        port_rule(&mut s, LAN, "udp", &udp);
    }
    s.push_str("\t}\n\n");
    s.push_str("\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n\t}\n}\n");
    RenderedFile::data(NFTABLES_PATH, s)
}
