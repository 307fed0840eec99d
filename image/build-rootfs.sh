#!/usr/bin/env bash
# build-rootfs.sh ROOTDIR [DEB_CACHE_DIR]
# debootstrap a Debian trixie root with the packages in packages.txt. Needs root.
# Only Debian packages are downloaded (from the host's configured Debian archive).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

root=${1:?usage: build-rootfs.sh ROOTDIR [DEB_CACHE_DIR]}
cache=${2:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn/debs}
need debootstrap debootstrap
[[ $(id -u) -eq 0 ]] || die "build-rootfs.sh must run as root (debootstrap, chroot)"

mirror=$(debian_mirror)
mkdir -p "$cache" "$root"
log "debootstrap trixie minbase into $root from the host's Debian archive"
debootstrap --variant=minbase --cache-dir="$cache" \
    --include=systemd,systemd-sysv,dbus,ca-certificates trixie "$root" "$mirror" >&2

mounts=()
cleanup() {
    local i
    for ((i=${#mounts[@]}-1; i>=0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
for m in proc sys dev dev/pts; do
    mount --bind "/$m" "$root/$m"; mounts+=("$root/$m")
done
mkdir -p "$root/var/cache/apt/archives"
mount --bind "$cache" "$root/var/cache/apt/archives"; mounts+=("$root/var/cache/apt/archives")

# No service may start inside the chroot during package installation.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
    > "$root/etc/apt/apt.conf.d/90cairn-no-recommends"
# The initramfs must mount a squashfs root and build the /etc,/var overlays.
mkdir -p "$root/etc/initramfs-tools"
printf 'squashfs\noverlay\nvirtio_blk\nvirtio_pci\next4\n' >> "$root/etc/initramfs-tools/modules"

mapfile -t pkgs < <(grep -v '^\s*#' "$here/packages.txt" | grep -v '^\s*$')
log "installing ${#pkgs[@]} packages"
chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get -q update >&2
chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
    apt-get -q -y install "${pkgs[@]}" >&2
rm -f "$root/usr/sbin/policy-rc.d"
# Not `apt-get clean`: the archives directory is the shared .deb cache.
cleanup
trap - EXIT
rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin
log "rootfs ready: $(du -sh "$root" | cut -f1)"
