#!/usr/bin/env bash
# make-squashfs.sh ROOTDIR OUT.img
# gzip, not zstd: GRUB loads the kernel straight from the slot and GRUB's squash4
# reader only understands gzip, xz and lzo. Level 1 keeps the build fast.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
need mksquashfs squashfs-tools
rm -f "$2"
mksquashfs "$1" "$2" -noappend -comp gzip -Xcompression-level 1 -b 256K \
    -quiet -no-progress >&2
log "squashfs $(basename "$2"): $(du -h "$2" | cut -f1)"
