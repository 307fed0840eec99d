#!/usr/bin/env bash
# Install every real peer the renderer's tests run against, idempotently:
#   - nftables       `nft -c -f` checks the rendered firewall ruleset
#   - dnsmasq-base   `dnsmasq --test` checks the rendered LAN DHCP/DNS config
#   - systemd        `systemd-analyze verify` checks every generated .service
#   - openssh-client `ssh-keygen -Y verify` reads the rendered admin-signers
#   - util-linux     `unshare` (private mount namespace for the user-unit check)
#   - Podman 5.4.2's quadlet generator (tests/peers/install-quadlet.sh)
# Prints `CAIRN_QUADLET=<path>` last, for callers that want to export it.
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
if ((${#need[@]})); then
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

quadlet=$("$here/install-quadlet.sh")
echo "CAIRN_QUADLET=$quadlet"
