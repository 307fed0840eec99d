#!/usr/bin/env bash
# host-deps.sh: install the Debian packages the image build and the qemu harness need.
# Needs root. On bookworm, qemu comes from bookworm-backports when the host already
# carries the backports qemu-utils (mixing both qemu versions is not installable).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
[[ $(id -u) -eq 0 ]] || die "host-deps.sh must run as root"
export DEBIAN_FRONTEND=noninteractive
. /etc/os-release

qemu_target=()
if [[ "${VERSION_CODENAME:-}" == bookworm ]]; then
    src=/etc/apt/sources.list.d/cairn-bookworm-backports.sources
    if [[ ! -f $src ]] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        mirror=$(debian_mirror)
        log "adding bookworm-backports (NotAutomatic: nothing upgrades from it unless asked)"
        cat > "$src" <<SRC
# Added by Cairn's image/host-deps.sh for qemu-system-x86 from bookworm-backports.
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    fi
    qemu_target=(-t bookworm-backports)
fi
apt-get update -q >&2
apt-get install -y -q --no-install-recommends "${qemu_target[@]}" qemu-system-x86 qemu-utils >&2
apt-get install -y -q --no-install-recommends \
    debootstrap squashfs-tools rauc grub-pc-bin grub-common gdisk openssl \
    e2fsprogs openssh-client busybox-static >&2
log "host packages installed"
