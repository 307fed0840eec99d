#!/usr/bin/env bash
# Make Podman 5.4.2's Quadlet generator available at a stable path, for
# tests that compare Cairn's output with the real generator.
#
# The binary comes from Debian trixie's `podman` package. It is only
# *extracted* (dpkg-deb -x) into a private directory: nothing is installed
# into the host, and the trixie apt source this script adds is pinned to a
# low priority so that no `apt-get upgrade` on the host ever takes from it.
#
# Idempotent: a second run with the binary in place only prints the path.
#
# Usage: tests/peers/install-quadlet.sh        # prints the quadlet path
# Env:   CAIRN_PEERS_DIR  (default: $HOME/.cache/cairn/peers)
set -euo pipefail

PODMAN_VERSION=5.4.2
PKG=podman
SUITE=trixie
PEERS_DIR=${CAIRN_PEERS_DIR:-$HOME/.cache/cairn/peers}
ROOT=$PEERS_DIR/podman-$PODMAN_VERSION
QUADLET=$ROOT/usr/libexec/podman/quadlet

SOURCES_FILE=/etc/apt/sources.list.d/cairn-trixie.sources
PIN_FILE=/etc/apt/preferences.d/cairn-trixie-low-pin

die() {
    echo "install-quadlet: ERROR: $*" >&2
    echo "install-quadlet: needs Debian package '$PKG' ($PODMAN_VERSION, suite $SUITE)" >&2
    exit 1
}

# Already there and the right version: done.
if [[ -x $QUADLET ]] && "$QUADLET" -version 2>/dev/null | grep -qF "$PODMAN_VERSION"; then
    echo "$QUADLET"
    exit 0
fi

command -v apt-get >/dev/null || die "apt-get not found (Debian/Ubuntu host required)"
command -v dpkg-deb >/dev/null || die "dpkg-deb not found"

SUDO=
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "must run as root (or with sudo) to add the $SUITE apt source"
    SUDO=sudo
fi

changed=0
# The pin comes first, so the source is never visible without it.
if [[ ! -f $PIN_FILE ]]; then
    $SUDO tee "$PIN_FILE" >/dev/null <<PIN
# Added by Cairn's tests/peers/install-quadlet.sh: trixie is only a source
# for 'apt-get download' of test peers; never install or upgrade from it.
Package: *
Pin: release n=$SUITE
Pin-Priority: 1
PIN
    changed=1
fi
if [[ ! -f $SOURCES_FILE ]]; then
    $SUDO tee "$SOURCES_FILE" >/dev/null <<SRC
# Added by Cairn's tests/peers/install-quadlet.sh (low-pinned, see
# $PIN_FILE): used only to download test peers such as podman $PODMAN_VERSION.
Types: deb
URIs: http://deb.debian.org/debian
Suites: $SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    changed=1
fi

# Refresh the lists if we just added the source or the version is unknown.
if [[ $changed -eq 1 ]] || ! apt-cache madison "$PKG" 2>/dev/null | grep -q "| *$PODMAN_VERSION"; then
    $SUDO apt-get update -qq >&2 || die "apt-get update failed"
fi

ver=$(apt-cache madison "$PKG" | awk -F'|' -v v="$PODMAN_VERSION" \
    '{gsub(/ /,"",$2)} index($2, v)==1 || index($2, v"+")==1 || $2 ~ "^[0-9]+:"v {print $2; exit}')
[[ -n $ver ]] || die "no $PKG $PODMAN_VERSION candidate in apt (apt-cache madison $PKG)"

tmp=$(mktemp -d)
# let apt's sandbox user (_apt) write the download, as apt-get wants
if [[ $(id -u) -eq 0 ]] && id _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q "$PKG=$ver" >&2) || die "apt-get download $PKG=$ver failed"
deb=$(find "$tmp" -maxdepth 1 -name "${PKG}_*.deb" -print -quit)
[[ -n $deb ]] || die "download of $PKG=$ver produced no .deb"

mkdir -p "$PEERS_DIR"
rm -rf "$ROOT.partial"
mkdir -p "$ROOT.partial"
dpkg-deb -x "$deb" "$ROOT.partial" || die "dpkg-deb -x $deb failed"
[[ -x $ROOT.partial/usr/libexec/podman/quadlet ]] || die "$deb has no usr/libexec/podman/quadlet"
# Record exactly which package build the tree came from (read by
# tools/gen-directives.sh for the header of config/src/directives.rs).
dpkg-deb -f "$deb" Package Version Architecture >"$ROOT.partial/CAIRN-DEB"
rm -rf "$ROOT"
mv "$ROOT.partial" "$ROOT"

"$QUADLET" -version >/dev/null 2>&1 || die "$QUADLET does not run on this host"
echo "$QUADLET"
