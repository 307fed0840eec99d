#!/usr/bin/env bash
# set-version.sh ROOTDIR VERSION [nomark]
# Write /etc/cairn-release. With "nomark", mask cairn-mark-good.service so the
# booted system never marks its slot good (boot-count fallback test image).
set -euo pipefail
root=$1 version=$2 mode=${3:-}
printf 'NAME=Cairn\nVERSION=%s\n' "$version" > "$root/etc/cairn-release"
rm -f "$root/etc/systemd/system/cairn-mark-good.service"
if [[ "$mode" == nomark ]]; then
    ln -s /dev/null "$root/etc/systemd/system/cairn-mark-good.service"
fi
