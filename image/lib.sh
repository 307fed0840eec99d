#!/usr/bin/env bash
# Shared helpers for the image scripts. Sourced, never executed.
set -euo pipefail

log() { printf '[image %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf '[image] ERROR: %s\n' "$*" >&2; exit 1; }

# need TOOL PACKAGE: fail naming the Debian package that provides a missing tool.
need() {
    command -v "$1" >/dev/null 2>&1 || die "missing host tool '$1' (install Debian package '$2')"
}

# The Debian archive URI: $CAIRN_DEBIAN_MIRROR, else the first main-archive URI the
# host's own apt configuration uses (so no archive host is hard-coded here).
debian_mirror() {
    if [[ -n "${CAIRN_DEBIAN_MIRROR:-}" ]]; then
        printf '%s\n' "$CAIRN_DEBIAN_MIRROR"
        return
    fi
    local uri
    uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | awk '/^URIs:/ {print $2}' | grep -v -- '-security' | grep '/debian/\?$' | head -n1 || true)
    if [[ -z "$uri" ]]; then
        uri=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
            | awk '{print $2}' | grep -v -- '-security' | grep '/debian/\?$' | head -n1 || true)
    fi
    [[ -n "$uri" ]] || die "no Debian archive URI found in the host apt sources; set CAIRN_DEBIAN_MIRROR"
    printf '%s\n' "${uri%/}"
}
