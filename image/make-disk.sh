#!/usr/bin/env bash
# make-disk.sh OUT.raw SLOT_A.img GRUB_CFG SLOT_MIB DATA_MIB [SLOT_B.img]
# Assemble the GPT A/B disk without loop devices or root. The Debian test appliance and
# the NixOS image (modules/appliance-image.nix) are both assembled by this script:
#   1 firmware  BIOS: 1 MiB bios-grub partition holding GRUB's core.img
#               EFI:  63 MiB ESP holding EFI/BOOT/BOOT<arch>.EFI
#   2 boot      64 MiB     ext4 "boot": GRUB modules, grub.cfg, grubenv (mounted at /boot)
#   3 root-a    SLOT_MIB   squashfs slot A (RAUC bootname A, /dev/vda3 in qemu)
#   4 root-b    SLOT_MIB   squashfs slot B (RAUC bootname B), empty unless SLOT_B is given
#   5 data      DATA_MIB   ext4 "data" (mounted at /data), the only persistent writable place
# Each slot boots through its own /boot/slot.cfg (make-slot-cfg.sh).
# CAIRN_GRUB_DIR is GRUB's module directory for the target platform (default Debian's
# /usr/lib/grub/i386-pc); its name says the platform: i386-pc, x86_64-efi or arm64-efi.
# With SLOT_B, both slots start out good (a factory image with a fallback).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
(($# == 5 || $# == 6)) || die "usage: make-disk.sh OUT.raw SLOT_A.img GRUB_CFG SLOT_MIB DATA_MIB [SLOT_B.img]"
out=$1 slota=$2 grubcfg=$3 slot_mib=$4 data_mib=$5 slotb=${6:-}
[[ "$slot_mib" =~ ^[1-9][0-9]*$ && "$data_mib" =~ ^[1-9][0-9]*$ ]] ||
    die "SLOT_MIB and DATA_MIB must be whole MiB (got '$slot_mib', '$data_mib')"
need sgdisk gdisk
need mkfs.ext4 e2fsprogs
need grub-mkimage grub-common
need grub-editenv grub-common
grubdir=${CAIRN_GRUB_DIR:-/usr/lib/grub/i386-pc}
platform=$(basename "$grubdir")
case "$platform" in
    i386-pc) firmware_mib=1 grub_package=grub-pc-bin ;;
    x86_64-efi) firmware_mib=63 grub_package=grub-efi-amd64-bin ;;
    arm64-efi) firmware_mib=63 grub_package=grub-efi-arm64-bin ;;
    *) die "CAIRN_GRUB_DIR=$grubdir: expected a GRUB directory named i386-pc, x86_64-efi or arm64-efi" ;;
esac
[[ -f $grubdir/part_gpt.mod ]] || die "missing GRUB modules in $grubdir (install Debian package '$grub_package')"
if [[ $platform == i386-pc ]]; then
    [[ -f $grubdir/boot.img ]] || die "missing $grubdir/boot.img (install Debian package '$grub_package')"
else
    need mkfs.vfat dosfstools
    need mcopy mtools
fi

for slot in "$slota" ${slotb:+"$slotb"}; do
    slot_bytes=$(stat -c %s "$slot")
    ((slot_bytes <= slot_mib * 1024 * 1024)) || die "slot image $slot ($slot_bytes bytes) exceeds the ${slot_mib} MiB slot"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- boot partition contents ---
mkdir -p "$work/boot/grub/$platform"
cp "$grubdir"/*.mod "$grubdir"/*.lst "$work/boot/grub/$platform/"
install -m 0644 "$grubcfg" "$work/boot/grub/grub.cfg"
grub-editenv "$work/boot/grub/grubenv" create
b_ok=0
[[ -z $slotb ]] || b_ok=1
grub-editenv "$work/boot/grub/grubenv" set ORDER="A B" A_OK=1 A_TRY=0 B_OK=$b_ok B_TRY=0
# No journal, no inline data: GRUB rewrites grubenv in place through its block list.
mkfs.ext4 -q -F -L boot -O ^has_journal,^inline_data -d "$work/boot" "$work/boot.ext4" 64M
mkfs.ext4 -q -F -L data "$work/data.ext4" "${data_mib}M"

# GRUB's own image reads the boot partition; everything else it loads from there.
if [[ $platform == i386-pc ]]; then
    grub-mkimage -d "$grubdir" -O i386-pc -o "$work/core.img" -p '(hd0,gpt2)/grub' biosdisk part_gpt ext2
else
    efi_name=BOOTX64.EFI
    [[ $platform == arm64-efi ]] && efi_name=BOOTAA64.EFI
    grub-mkimage -d "$grubdir" -O "$platform" -o "$work/$efi_name" -p '(hd0,gpt2)/grub' part_gpt ext2
    mkfs.vfat -n ESP -C "$work/esp.vfat" $((firmware_mib * 1024)) >/dev/null
    mmd -i "$work/esp.vfat" ::/EFI ::/EFI/BOOT
    mcopy -i "$work/esp.vfat" "$work/$efi_name" "::/EFI/BOOT/$efi_name"
fi

# --- partition table (MiB offsets) ---
p1=1 p2=$((1 + firmware_mib)) p3=$((p2 + 64)) p4=$((p3 + slot_mib)) p5=$((p3 + 2 * slot_mib))
total=$((p5 + data_mib + 1))
rm -f "$out"
truncate -s "${total}M" "$out"
mib=2048 # sectors per MiB
firmware_type=EF02 firmware_name=bios-grub
[[ $platform == i386-pc ]] || firmware_type=EF00 firmware_name=esp
sgdisk -o \
    -n 1:$((p1 * mib)):$((p2 * mib - 1)) -t 1:"$firmware_type" -c 1:"$firmware_name" \
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
[[ -z $slotb ]] || put "$slotb" "$p4"
put "$work/data.ext4" "$p5"

if [[ $platform != i386-pc ]]; then
    put "$work/esp.vfat" "$p1"
else
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
fi
log "disk $(basename "$out"): ${total} MiB, slots ${slot_mib} MiB, data ${data_mib} MiB"
