#!/usr/bin/env bash
# make-disk.sh OUT.raw SLOT_A.img GRUB_CFG SLOT_MIB DATA_MIB
# Assemble the GPT A/B disk without loop devices or root:
#   1 bios-grub  1 MiB     GRUB core.img (BIOS boot)
#   2 boot      64 MiB     ext4 "boot": GRUB modules, grub.cfg, grubenv (mounted at /boot)
#   3 root-a    SLOT_MIB   squashfs slot A (RAUC bootname A, /dev/vda3)
#   4 root-b    SLOT_MIB   squashfs slot B (RAUC bootname B, /dev/vda4), empty at first
#   5 data      DATA_MIB   ext4 "data" (mounted at /data), the only persistent writable place
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
out=$1 slota=$2 grubcfg=$3 slot_mib=$4 data_mib=$5
need sgdisk gdisk
need mkfs.ext4 e2fsprogs
need grub-mkimage grub-common
need grub-editenv grub-common
grubdir=/usr/lib/grub/i386-pc
[[ -f $grubdir/boot.img ]] || die "missing $grubdir/boot.img (install Debian package 'grub-pc-bin')"

slot_bytes=$(stat -c %s "$slota")
((slot_bytes <= slot_mib * 1024 * 1024)) || die "slot image ($slot_bytes bytes) exceeds the ${slot_mib} MiB slot"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- boot partition contents ---
mkdir -p "$work/boot/grub/i386-pc"
cp "$grubdir"/*.mod "$grubdir"/*.lst "$work/boot/grub/i386-pc/"
install -m 0644 "$grubcfg" "$work/boot/grub/grub.cfg"
grub-editenv "$work/boot/grub/grubenv" create
grub-editenv "$work/boot/grub/grubenv" set ORDER="A B" A_OK=1 A_TRY=0 B_OK=0 B_TRY=0
# No journal, no inline data: GRUB rewrites grubenv in place through its block list.
mkfs.ext4 -q -F -L boot -O ^has_journal,^inline_data -d "$work/boot" "$work/boot.ext4" 64M
mkfs.ext4 -q -F -L data "$work/data.ext4" "${data_mib}M"

grub-mkimage -O i386-pc -o "$work/core.img" -p '(hd0,gpt2)/grub' biosdisk part_gpt ext2

# --- partition table (MiB offsets) ---
p1=1 p2=2 p3=66 p4=$((66 + slot_mib)) p5=$((66 + 2 * slot_mib))
total=$((p5 + data_mib + 1))
rm -f "$out"
truncate -s "${total}M" "$out"
mib=2048 # sectors per MiB
sgdisk -o \
    -n 1:$((p1 * mib)):$((p2 * mib - 1)) -t 1:EF02 -c 1:bios-grub \
    -n 2:$((p2 * mib)):$((p3 * mib - 1)) -t 2:8300 -c 2:boot \
    -n 3:$((p3 * mib)):$((p4 * mib - 1)) -t 3:8300 -c 3:root-a \
    -n 4:$((p4 * mib)):$((p5 * mib - 1)) -t 4:8300 -c 4:root-b \
    -n 5:$((p5 * mib)):$(((p5 + data_mib) * mib - 1)) -t 5:8300 -c 5:data \
    "$out" >/dev/null
sgdisk -v "$out" >/dev/null || die "GPT on $out does not verify"
[[ $(sgdisk -p "$out" | grep -c "^ *[1-5] ") -eq 5 ]] || die "GPT on $out lacks partitions"

put() { dd if="$1" of="$out" bs=1M seek="$2" conv=notrunc,sparse status=none; }
put "$work/boot.ext4" "$p2"
put "$slota" "$p3"
put "$work/data.ext4" "$p5"

# --- BIOS GRUB: boot.img in the MBR code area, core.img in the bios-grub partition ---
core_sectors=$((($(stat -c %s "$work/core.img") + 511) / 512))
le() { # le VALUE BYTES: little-endian bytes as printf escapes
    local v=$1 n=$2 s="" i
    for ((i = 0; i < n; i++)); do s+=$(printf '\\x%02x' $(((v >> (8 * i)) & 255))); done
    printf '%s' "$s"
}
core_lba=$((p1 * mib))
dd if="$work/core.img" of="$out" bs=512 seek="$core_lba" conv=notrunc status=none
# diskboot.img (core.img's first sector) loads the rest from its block list at 0x1f4.
printf "$(le $((core_lba + 1)) 8)$(le $((core_sectors - 1)) 2)" \
    | dd of="$out" bs=1 seek=$((core_lba * 512 + 0x1f4)) conv=notrunc status=none
# boot.img code (first 440 bytes keep the protective MBR's table intact), then the LBA
# of core.img at GRUB_BOOT_MACHINE_KERNEL_SECTOR (0x5c).
dd if="$grubdir/boot.img" of="$out" bs=440 count=1 conv=notrunc status=none
printf "$(le "$core_lba" 8)" | dd of="$out" bs=1 seek=$((0x5c)) conv=notrunc status=none
log "disk $(basename "$out"): ${total} MiB, slots ${slot_mib} MiB, data ${data_mib} MiB"
