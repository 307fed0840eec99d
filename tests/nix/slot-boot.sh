#!/usr/bin/env bash
# Boots the NixOS image's disk layout in qemu, without Nix.
#
# modules/appliance-image.nix builds its slot, grub.cfg and disk with the Debian test
# appliance's scripts: make-store-slot.sh (the closure as the squashfs root, boot/ with
# the kernel, the initrd and slot.cfg), make-grub-cfg.sh and make-disk.sh. This test
# runs those scripts as the Nix build does, with the test appliance's kernel, an empty
# initrd and a stand-in closure (there is no Nix here to build the real one), then boots
# the disk under BIOS (GRUB i386-pc) and UEFI (GRUB x86_64-efi on OVMF) and checks:
#   - GRUB chooses slot A and loads the kernel from the store squashfs with the command
#     line of the slot's slot.cfg: init=<toplevel>/init, rauc.slot=A, boot.kernelParams;
#   - with no root file system the kernel panics and reboots (panic=1 from the image's
#     own arguments overrides the appliance's panic=10); GRUB counted the attempt in
#     grubenv, so the next boot is attempt 2 of 2;
#   - once slot A has used its tries, GRUB falls back to slot B, whose kernel gets
#     rauc.slot=B.
# The kernel only has to reach its command line and panic; NixOS's stage 1 and the
# udev rule that finds the slot are not exercised (docs/src/nix.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
source tests/lib.sh

max_tries=2
work=$root/target/nix-slot-boot
qemu_pid=""
kernel="" toplevel=""
cleanup() { [[ -z $qemu_pid ]] || kill -KILL "$qemu_pid" 2>/dev/null || true; }
trap cleanup EXIT

install_deps() {
  apt_install grub-efi-amd64-bin ovmf dosfstools mtools squashfs-tools gdisk grub-common grub-pc-bin
  need qemu-system-x86_64 "qemu-system-x86 (image/host-deps.sh installs it)"
}

# The kernel of the test appliance's slot A (tests/vm/run build reuses the cached image).
extract_kernel() {
  local built image disk start
  # It prints the image directory, then its report.
  built=$(tests/vm/run build)
  image=$(grep -m1 '^/' <<<"$built")
  disk=$image/disk.raw
  [[ -f $disk ]] || { echo "tests/vm/run build printed '$image', which has no disk.raw" >&2; return 1; }
  start=$(sgdisk -i 3 "$disk" | awk '/^First sector:/ {print $3}')
  rm -rf "$work"
  mkdir -p "$work"
  unsquashfs -q -n -o $((start * 512)) -d "$work/appliance" "$disk" 'boot/vmlinuz-*' >/dev/null
  kernel=$(ls "$work"/appliance/boot/vmlinuz-* | sort -V | tail -n1)
  [[ -s $kernel ]] || { echo "no kernel in slot A of $disk" >&2; return 1; }
  echo "kernel: $kernel"
}

# What `nix build` would hand make-store-slot.sh: a closure (here: two stand-in store
# paths, one of them the system's toplevel with its init) and the kernel arguments
# modules/appliance-image.nix passes.
make_slot() {
  [[ -n $kernel ]] || { echo "no kernel: the previous step failed" >&2; return 1; }
  local store=$work/nix/store
  toplevel=$store/0123456789abcdfghijklmnpqrsvwxyz-nixos-system-cairn-25.05
  mkdir -p "$toplevel" "$store/zyxwvsrqpnmlkjihgfdcba9876543210-dependency"
  printf '#!/bin/sh\n' > "$toplevel/init"
  echo hello > "$store/zyxwvsrqpnmlkjihgfdcba9876543210-dependency/file"
  printf '%s\n' "$toplevel" "$store/zyxwvsrqpnmlkjihgfdcba9876543210-dependency" > "$work/store-paths"
  # An empty initramfs (a newc archive holding only its trailer): no /init, no root
  # device, so the kernel panics as soon as it has shown its command line.
  printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08XTRAILER!!!\0\0\0\0' \
    0 0 0 0 1 0 0 0 0 0 0 11 0 > "$work/initrd"
  bash image/make-store-slot.sh "$work/slot.img" "$kernel" "$work/initrd" "$work/store-paths" \
    "init=$toplevel/init" console=ttyS0,115200 panic=1
  # The squashfs is mounted as /nix/store: store paths at its root, beside boot/.
  local listing
  listing=$(unsquashfs -l "$work/slot.img")
  local want
  for want in squashfs-root/boot/kernel squashfs-root/boot/initrd squashfs-root/boot/slot.cfg \
    "squashfs-root/$(basename "$toplevel")/init" \
    squashfs-root/zyxwvsrqpnmlkjihgfdcba9876543210-dependency/file; do
    grep -qxF "$want" <<<"$listing" || { echo "slot.img lacks $want" >&2; return 1; }
  done
  echo "slot.img holds boot/{kernel,initrd,slot.cfg} and the store paths at its root"
}

grub_cfg() {
  [[ -f $work/slot.img ]] || { echo "no slot.img: the previous step failed" >&2; return 1; }
  bash image/make-grub-cfg.sh "$max_tries" > "$work/grub.cfg"
  grub-script-check "$work/grub.cfg"
  unsquashfs -q -n -d "$work/slot-cfg" "$work/slot.img" boot/slot.cfg >/dev/null
  grub-script-check "$work/slot-cfg/boot/slot.cfg"
  echo "grub.cfg and slot.cfg pass grub-script-check"
}

# boot_and_watch NAME QEMU_ARGS...: boot the disk (slots A and B both holding the store
# slot) and wait for the serial log to show each expected line in order.
boot_and_watch() {
  local name=$1
  shift
  [[ -f $work/grub.cfg ]] || { echo "no grub.cfg: a previous step failed" >&2; return 1; }
  local disk=$work/$name.img log=$work/$name.serial.log
  if [[ $name == uefi ]]; then
    CAIRN_GRUB_DIR=/usr/lib/grub/x86_64-efi bash image/make-disk.sh "$disk" "$work/slot.img" \
      "$work/grub.cfg" 64 16 "$work/slot.img"
  else
    bash image/make-disk.sh "$disk" "$work/slot.img" "$work/grub.cfg" 64 16 "$work/slot.img"
  fi
  : > "$log"
  qemu-system-x86_64 -accel tcg -m 512 -smp 1 -nodefaults -no-user-config -display none \
    -monitor none -serial "file:$log" -drive "file=$disk,format=raw,if=virtio" "$@" &
  qemu_pid=$!
  disown "$qemu_pid" # killed on purpose below: no job notice for it
  local expected=(
    "cairn-boot: slot=A attempt=1 of $max_tries"
    "Command line: BOOT_IMAGE=(hd0,gpt3)/boot/kernel rauc.slot=A panic=10 net.ifnames=0 init=$toplevel/init console=ttyS0,115200 panic=1"
    "Kernel panic"
    "cairn-boot: slot=A attempt=2 of $max_tries"
    "cairn-boot: slot=B attempt=1 of $max_tries"
    "Command line: BOOT_IMAGE=(hd0,gpt4)/boot/kernel rauc.slot=B panic=10 net.ifnames=0 init=$toplevel/init"
  )
  local i=0 offset=0 deadline=$((SECONDS + 300)) rest found
  while ((i < ${#expected[@]})); do
    rest=$(tail -c +$((offset + 1)) "$log")
    if found=$(grep -aboF -m1 -- "${expected[$i]}" <<<"$rest"); then
      echo "$name: seen '${expected[$i]}'"
      offset=$((offset + ${found%%:*} + ${#expected[$i]}))
      i=$((i + 1))
      continue
    fi
    if ((SECONDS > deadline)) || ! kill -0 "$qemu_pid" 2>/dev/null; then
      echo "$name: did not see '${expected[$i]}' within 300 s; serial log $log ends:" >&2
      tail -n 30 "$log" | tr -d '\r' >&2
      cleanup
      qemu_pid=""
      return 1
    fi
    sleep 1
  done
  cleanup
  qemu_pid=""
  echo "$name: GRUB booted slot A from the store squashfs twice, then fell back to slot B"
}

step "nix slot boot: host packages" install_deps
step "nix slot boot: kernel from the test appliance" extract_kernel
step "nix slot boot: store slot (make-store-slot.sh)" make_slot
step "nix slot boot: grub.cfg" grub_cfg
step "nix slot boot: BIOS (GRUB i386-pc)" boot_and_watch bios
step "nix slot boot: UEFI (GRUB x86_64-efi, OVMF)" boot_and_watch uefi -bios /usr/share/ovmf/OVMF.fd
summary
