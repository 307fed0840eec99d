#!/usr/bin/env bash
# make-store-slot.sh OUT.img KERNEL INITRD STORE_PATHS [ARG...]
# The NixOS image's root slot (modules/appliance-image.nix runs this script): a squashfs
# that is mounted as /nix/store, holding every path listed in the file STORE_PATHS (the
# system's closure) plus boot/ with the kernel, the initrd and the slot's boot entry
# (make-slot-cfg.sh with ARG..., which must include init=<toplevel>/init).
# The root file system itself is a tmpfs; persistent state lives on /data.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
(($# >= 4)) || die "usage: make-store-slot.sh OUT.img KERNEL INITRD STORE_PATHS [ARG...]"
out=$1 kernel=$2 initrd=$3 store_paths=$4
shift 4
need mksquashfs squashfs-tools
printf '%s\n' "$@" | grep -q '^init=/' || die "no init=/… among the kernel arguments: the slot would not start the system"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/boot"
cp "$kernel" "$work/boot/kernel"
cp "$initrd" "$work/boot/initrd"
bash "$here/make-slot-cfg.sh" /boot/kernel /boot/initrd "$@" > "$work/boot/slot.cfg"

mapfile -t paths < "$store_paths"
((${#paths[@]} > 0)) || die "$store_paths lists no store paths"
for p in "${paths[@]}"; do
    [[ -e "$p" ]] || die "store path $p does not exist"
    [[ "$(basename "$p")" != boot ]] || die "a store path named boot would clash with the slot's boot/"
done
# Several sources: each becomes a directory at the squashfs root by its base name, so
# the closure's paths sit where /nix/store expects them. gzip: GRUB reads the kernel
# straight from the slot, and its squash4 reader knows only gzip, xz and lzo.
rm -f "$out"
mksquashfs "$work/boot" "${paths[@]}" "$out" -noappend -all-root -no-xattrs \
    -comp gzip -Xcompression-level 1 -b 1M -quiet -no-progress >&2
log "store slot $(basename "$out"): ${#paths[@]} store paths, $(du -h "$out" | cut -f1)"
