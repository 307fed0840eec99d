#!/usr/bin/env bash
# configure-rootfs.sh ROOTDIR UNITS_DIR SSH_PUBKEY CA_CERT SYSTEM_CONF BIN...
# Turn the debootstrapped tree into the Cairn appliance root: install the given
# binaries (whatever exists: provision today, kiosk later) to /usr/bin, the unit
# files from provision/units, the read-only-root plumbing and RAUC config.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

root=$1 units=$2 pubkey=$3 cacert=$4 sysconf=$5
shift 5
[[ $# -ge 1 ]] || die "configure-rootfs.sh: at least one binary (provision) is required"

for bin in "$@"; do
    [[ -x "$bin" ]] || die "binary $bin is missing or not executable"
    log "installing binary $(basename "$bin")"
    install -m 0755 "$bin" "$root/usr/bin/$(basename "$bin")"
done

log "installing unit files from $units"
for u in "$units"/*.service "$units"/*.socket; do
    install -m 0644 "$u" "$root/usr/lib/systemd/system/$(basename "$u")"
done
install -m 0644 "$units/cairn.tmpfiles" "$root/usr/lib/tmpfiles.d/cairn.conf"
chroot "$root" systemctl enable provision.socket cairn-recover.service cairn-boot.service \
    cairn-mark-good.service systemd-networkd.service ssh.service >&2
# dnsmasq and chronyd run the provisioned configs only: provision links them under
# /run/cairn and restarts the daemons (cairn-boot.service does it again after a boot).
chroot "$root" systemctl disable dnsmasq.service >&2 || true
for unit in dnsmasq chrony; do
    install -d "$root/usr/lib/systemd/system/$unit.service.d"
    install -m 0644 "$here/rootfs/$unit-cairn.conf" "$root/usr/lib/systemd/system/$unit.service.d/cairn.conf"
done

# appsvc runs the rootless containers under its own user manager, started at boot
# (lingering) with its home and container storage on /data. The uid is fixed and
# below the range useradd gives managed users; its subordinate ids follow the
# conventional first range.
log "adding the rootless container account appsvc"
chroot "$root" groupadd --gid 900 appsvc
chroot "$root" useradd --uid 900 --gid appsvc --home-dir /data/appsvc --no-create-home \
    --shell /usr/sbin/nologin --comment "Cairn rootless containers" appsvc
echo "appsvc:100000:65536" > "$root/etc/subuid"
echo "appsvc:100000:65536" > "$root/etc/subgid"
install -d "$root/var/lib/systemd/linger"
: > "$root/var/lib/systemd/linger/appsvc"
install -m 0644 "$here/rootfs/storage.conf" "$root/etc/containers/storage.conf"
install -m 0644 "$here/rootfs/session-local.conf" "$root/etc/dbus-1/session-local.conf"
# Debian's "record successful boot" would edit grubenv too; only GRUB and RAUC may.
chroot "$root" systemctl mask grub-common.service grub-initrd-fallback.service >&2
# /etc and /var start empty at every boot (tmpfs overlays), so ConditionNeedsUpdate= is
# always true: the linker cache and journal catalog were built with the image and /usr
# never changes under them. e2scrub needs LVM snapshots, which the appliance has none of.
chroot "$root" systemctl mask ldconfig.service systemd-journal-catalog-update.service \
    e2scrub_reap.service >&2

install -m 0644 "$here/rootfs/cairn-image.tmpfiles" "$root/usr/lib/tmpfiles.d/cairn-image.conf"
install -m 0644 "$here/rootfs/fstab" "$root/etc/fstab"
install -d "$root/data" "$root/etc/systemd/network"
install -m 0644 "$here/rootfs/20-wan.network" "$root/etc/systemd/network/20-wan.network"
install -m 0644 "$here/rootfs/20-lan.network" "$root/etc/systemd/network/20-lan.network"
echo cairn > "$root/etc/hostname"
: > "$root/etc/machine-id"

install -m 0644 "$here/rootfs/sshd-cairn-test.conf" "$root/etc/ssh/sshd_config.d/cairn-test.conf"
install -m 0644 "$pubkey" "$root/etc/ssh/cairn-test-authorized_keys"

install -d "$root/etc/rauc"
install -m 0644 "$sysconf" "$root/etc/rauc/system.conf"
install -m 0644 "$cacert" "$root/etc/rauc/ca.cert.pem"

# The kiosk display: the renderer's cairn-kiosk.service runs /usr/bin/cairn-kiosk as
# cairn-kiosk (fixed uid: its key under /data outlives image updates). The unit adds
# the video, render and input groups itself; the seat comes from seatd (its socket is in
# the video group).
log "adding the kiosk account cairn-kiosk"
chroot "$root" groupadd --system --gid 901 cairn-kiosk
chroot "$root" useradd --system --uid 901 --gid cairn-kiosk --home-dir /var/lib/cairn-kiosk --no-create-home \
    --shell /usr/sbin/nologin --comment "Cairn kiosk display" cairn-kiosk
if [[ -e "$root/usr/bin/kiosk" ]]; then
    mv "$root/usr/bin/kiosk" "$root/usr/bin/cairn-kiosk"
fi
install -m 0644 "$here/rootfs/cairn-kiosk.tmpfiles" "$root/usr/lib/tmpfiles.d/cairn-kiosk.conf"
install -d "$root/usr/lib/systemd/system/cairn-kiosk.service.d"
install -m 0644 "$here/rootfs/cairn-kiosk-vm.conf" "$root/usr/lib/systemd/system/cairn-kiosk.service.d/cairn-vm.conf"

install -m 0755 "$here/rootfs/cairn-overlay.initramfs" \
    "$root/etc/initramfs-tools/scripts/local-bottom/cairn-overlay"
kver=$(basename "$(ls -d "$root"/lib/modules/* | sort -V | tail -n1)")
log "regenerating the initramfs for kernel $kver"
chroot "$root" update-initramfs -u -k "$kver" >&2
# Stable names GRUB loads from the squashfs slot, and the slot's boot entry: its root
# is the squashfs itself, on the partition grub.cfg chose ($dev).
ln -sfn "vmlinuz-$kver" "$root/boot/vmlinuz"
ln -sfn "initrd.img-$kver" "$root/boot/initrd.img"
"$here/make-slot-cfg.sh" /boot/vmlinuz /boot/initrd.img 'root=$dev' rootfstype=squashfs ro \
    console=ttyS0,115200 > "$root/boot/slot.cfg"
