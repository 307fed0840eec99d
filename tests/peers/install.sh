#!/usr/bin/env bash
# Install every real peer the renderer's tests run against, idempotently:
#   - nftables       `nft -c -f` checks the rendered firewall ruleset
#   - dnsmasq-base   `dnsmasq --test` checks the rendered LAN DHCP/DNS config
#   - systemd        `systemd-analyze verify` checks every generated .service
#   - openssh-client `ssh-keygen -Y verify` reads the rendered admin-signers
#   - util-linux     `unshare` (private mount namespace for the user-unit check)
#   - iproute2, python3  network namespaces and TCP probes of firewall-netns.sh
#   - chrony         `chronyd -p -f` parses the rendered chrony.conf; only
#                    extracted (dpkg-deb -x) under $CAIRN_PEERS_DIR so no NTP
#                    daemon is installed or started on the host
#   - Podman 5.4.2's quadlet generator (tests/peers/install-quadlet.sh)
# Prints `CAIRN_QUADLET=<path>` and `CAIRN_CHRONYD=<path>` last, for callers
# that want to export them.
#
# Usage: tests/peers/install.sh       (root, or sudo available)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

SUDO=
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi

need=()
command -v nft >/dev/null || need+=(nftables)
command -v dnsmasq >/dev/null || need+=(dnsmasq-base)
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v unshare >/dev/null || need+=(util-linux)
command -v ip >/dev/null || need+=(iproute2)
[[ -x /usr/bin/python3 ]] || need+=(python3)
if ((${#need[@]})); then
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

PEERS_DIR=${CAIRN_PEERS_DIR:-$HOME/.cache/cairn/peers}
CHRONY_ROOT=$PEERS_DIR/chrony
CHRONYD=$CHRONY_ROOT/usr/sbin/chronyd
if [[ ! -x $CHRONYD ]]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    # let apt's sandbox user (_apt) write the download
    if [[ $(id -u) -eq 0 ]] && id _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi
    (cd "$tmp" && apt-get download -q chrony >&2) || {
        echo "install.sh: ERROR: apt-get download chrony failed (Debian package 'chrony')" >&2
        exit 1
    }
    deb=$(find "$tmp" -maxdepth 1 -name 'chrony_*.deb' -print -quit)
    rm -rf "$CHRONY_ROOT.partial"
    mkdir -p "$CHRONY_ROOT.partial"
    dpkg-deb -x "$deb" "$CHRONY_ROOT.partial"
    rm -rf "$CHRONY_ROOT"
    mv "$CHRONY_ROOT.partial" "$CHRONY_ROOT"
fi
if ! "$CHRONYD" -v >/dev/null 2>&1; then
    echo "install.sh: ERROR: $CHRONYD does not run (missing libraries of Debian package 'chrony'?)" >&2
    exit 1
fi

quadlet=$("$here/install-quadlet.sh")
echo "CAIRN_QUADLET=$quadlet"
echo "CAIRN_CHRONYD=$CHRONYD"
