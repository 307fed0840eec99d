#!/usr/bin/env bash
# Load a rendered nftables ruleset into a throwaway network namespace wired like a
# device (eth0 = WAN, eth1 = LAN, each a veth to a client namespace) and probe it
# with real TCP connections. Prints one line per probe: `<from> <port> <result>`,
# result being `open`, `refused` or `dropped` (connect timed out).
#
# The probes run once before the ruleset is loaded (prefix `before:`) so a test can
# tell that a `dropped` comes from the firewall and not from the wiring.
#
# Needs root (network namespaces), iproute2, nftables and /usr/bin/python3.
# Usage: tests/peers/firewall-netns.sh RULESET WAN_PORTS LAN_PORTS
#   WAN_PORTS / LAN_PORTS: comma-separated TCP ports to probe on the device from
#   the WAN / LAN client. A probe `fwd 7000` checks forwarding WAN → LAN client.
set -euo pipefail

rules=$1
wan_ports=$2
lan_ports=$3
py=/usr/bin/python3
id=cairn$$
dev=$id-dev
wan=$id-wan
lan=$id-lan
pids=()

cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    # Anything still running in our namespaces was started by this script.
    for n in "$dev" "$wan" "$lan"; do
        for p in $(ip netns pids "$n" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
        ip netns del "$n" 2>/dev/null || true
    done
}
trap cleanup EXIT

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

for n in "$dev" "$wan" "$lan"; do ip netns add "$n"; nsx "$n" ip link set lo up; done
ip link add eth0 netns "$dev" type veth peer name w0 netns "$wan"
ip link add eth1 netns "$dev" type veth peer name l0 netns "$lan"
nsx "$dev" ip addr add 192.0.2.10/24 dev eth0
nsx "$dev" ip addr add 10.42.0.1/24 dev eth1
nsx "$wan" ip addr add 192.0.2.20/24 dev w0
nsx "$lan" ip addr add 10.42.0.50/24 dev l0
nsx "$dev" ip link set eth0 up
nsx "$dev" ip link set eth1 up
nsx "$wan" ip link set w0 up
nsx "$lan" ip link set l0 up
nsx "$wan" ip route add 10.42.0.0/24 via 192.0.2.10
nsx "$lan" ip route add default via 10.42.0.1
nsx "$dev" sysctl -qw net.ipv4.ip_forward=1

listener='
import select, socket, sys
socks = []
for p in sys.argv[1:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(p)))
    s.listen(64)
    socks.append(s)
print("ready", flush=True)
while True:
    for s in select.select(socks, [], [])[0]:
        s.accept()[0].close()
'
probe='
import socket, sys
s = socket.socket()
s.settimeout(1.0)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("open")
except socket.timeout:
    print("dropped")
except ConnectionRefusedError:
    print("refused")
'
all_ports=$(echo "$wan_ports,$lan_ports" | tr ',' '\n' | sort -un | tr '\n' ' ')
ready=$(mktemp)
trap 'cleanup; rm -f "$ready" "$ready.fwd"' EXIT
# `ip netns exec` execs the listener, so $! is the listener itself; no output
# descriptor of the caller is kept open by it.
ip netns exec "$dev" "$py" -c "$listener" $all_ports >"$ready" 2>/dev/null </dev/null &
pids+=($!)
ip netns exec "$lan" "$py" -c "$listener" 7000 >"$ready.fwd" 2>/dev/null </dev/null &
pids+=($!)
for _ in $(seq 100); do
    [[ -s $ready && -s $ready.fwd ]] && break
    sleep 0.1
done

run_probes() {
    local prefix=$1 p
    for p in ${wan_ports//,/ }; do echo "${prefix}wan $p $(nsx "$wan" "$py" -c "$probe" 192.0.2.10 "$p")"; done
    for p in ${lan_ports//,/ }; do echo "${prefix}lan $p $(nsx "$lan" "$py" -c "$probe" 10.42.0.1 "$p")"; done
    echo "${prefix}fwd 7000 $(nsx "$wan" "$py" -c "$probe" 10.42.0.50 7000)"
}

run_probes "before:"
nsx "$dev" nft -f "$rules"
run_probes ""
