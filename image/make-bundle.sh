#!/usr/bin/env bash
# make-bundle.sh OUT.raucb ROOTFS.img VERSION CERT KEY KEYRING
# A signed RAUC bundle in verity format with one image for the rootfs slot class.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
need rauc rauc
out=$1 img=$2 version=$3 cert=$4 key=$5 keyring=$6
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
ln "$img" "$dir/rootfs.img" 2>/dev/null || cp "$img" "$dir/rootfs.img"
cat > "$dir/manifest.raucm" <<MANIFEST
[update]
compatible=cairn-appliance-x86_64
version=$version

[bundle]
format=verity

[image.rootfs]
filename=rootfs.img
MANIFEST
rm -f "$out"
# The slot image is already compressed: do not compress it again.
rauc bundle --cert="$cert" --key="$key" --keyring="$keyring" \
    --mksquashfs-args="-noD -noF -noX" "$dir" "$out" >&2
log "bundle $(basename "$out") version $version: $(du -h "$out" | cut -f1)"
