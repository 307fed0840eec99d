#!/usr/bin/env bash
# Let the host's systemd-networkd parse a directory of .network files and print
# what it says about them. systemd 252 has no offline checker for .network files,
# so networkd itself runs for five seconds in a fresh network namespace (only
# `lo`: nothing is configured) and a private mount namespace where DIR is bind-
# mounted over /etc/systemd/network and /run/systemd and /run/dbus are empty
# tmpfs (no system bus, so no bus name is claimed on the host). Nothing outside
# those namespaces changes. Lines starting with `/etc/systemd/network/` are
# networkd's complaints about a file (unknown key, invalid value, …).
#
# Needs root and util-linux `unshare`. Usage: tests/peers/networkd-parse.sh DIR
set -euo pipefail

dir=$(cd "$1" && pwd)
networkd=/lib/systemd/systemd-networkd
[[ -x $networkd ]] || { echo "networkd-parse: $networkd is missing (Debian package systemd)" >&2; exit 1; }

# networkd keeps running after parsing; `timeout` ends it (exit 124 is expected).
set +e
timeout 5 unshare --net --mount --propagation private -- sh -euc '
    mount -t tmpfs tmpfs /run/systemd
    # no system bus: networkd must not claim a bus name on the host
    if [ -d /run/dbus ]; then mount -t tmpfs tmpfs /run/dbus; fi
    mount --bind "$1" /etc/systemd/network
    SYSTEMD_LOG_TARGET=console SYSTEMD_LOG_LEVEL=info SYSTEMD_LOG_COLOR=0 exec "$2"
' sh "$dir" "$networkd" 2>&1
rc=$?
set -e
if [[ $rc -ne 124 && $rc -ne 0 ]]; then
    echo "networkd-parse: systemd-networkd exited with $rc" >&2
    exit 1
fi
