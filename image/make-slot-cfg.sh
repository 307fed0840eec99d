#!/usr/bin/env bash
# make-slot-cfg.sh KERNEL INITRD [ARG...] > slot.cfg
# Each root slot carries its own boot entry in /boot/slot.cfg. The boot partition's
# grub.cfg (make-grub-cfg.sh) chooses a slot, sets $root to its partition and sources
# this file, so an update brings its kernel, initrd and command line along with it.
# KERNEL and INITRD are paths inside the slot; ARG... are the image's own kernel
# arguments (the Debian appliance: its root device; NixOS: init= and boot.kernelParams).
# They follow the arguments every Cairn image needs, so an image may override those.
set -euo pipefail
(($# >= 2)) || { echo "usage: make-slot-cfg.sh KERNEL INITRD [ARG...]" >&2; exit 2; }
kernel=$1 initrd=$2
shift 2

# Everything here is read by GRUB's script parser: refuse what it would split, quote,
# comment out or run as a second command. `$` stays allowed so an argument can name
# a variable grub.cfg set (root=$dev).
for word in "$kernel" "$initrd" "$@"; do
    if [[ -z "$word" || ! "$word" =~ ^[][A-Za-z0-9_.,:/=+@%\$-]+$ ]]; then
        printf 'make-slot-cfg.sh: refusing %q: a GRUB word may hold only letters, digits and _.,:/=+@%%$-[]\n' "$word" >&2
        exit 1
    fi
done
for path in "$kernel" "$initrd"; do
    [[ "$path" == /* ]] || { echo "make-slot-cfg.sh: $path must be absolute inside the slot" >&2; exit 1; }
done

cat <<CFG
# This slot's boot entry (image/make-slot-cfg.sh), sourced by grub.cfg once it has
# chosen the slot: \$root is the slot's partition, \$slot its RAUC bootname.
# net.ifnames=0: the ports are eth0 (WAN) and eth1 (LAN), the names config.toml uses.
linux (\$root)$kernel rauc.slot=\$slot panic=10 net.ifnames=0${*:+ $*}
initrd (\$root)$initrd
CFG
