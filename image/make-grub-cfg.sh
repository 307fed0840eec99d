#!/usr/bin/env bash
# make-grub-cfg.sh MAX_TRIES > grub.cfg
# The boot partition's grub.cfg, the same for the Debian test appliance and the NixOS
# image: it only chooses the slot; the slot's /boot/slot.cfg says what to boot.
# A/B slot selection with boot counting, using the grubenv variables RAUC's
# "grub" backend reads and writes: ORDER, A_OK/B_OK, A_TRY/B_TRY.
#   - RAUC "set primary" (after install): ORDER="<new> <old>", <new>_OK=1, <new>_TRY=0
#   - RAUC "mark good" (cairn-mark-good.service): <slot>_OK=1, <slot>_TRY=0
#   - GRUB: boot the first slot in ORDER with OK=1 and TRY < MAX_TRIES, and count
#     the attempt (TRY+1) in grubenv before loading the kernel. A slot that never
#     marks itself good is skipped after MAX_TRIES boots: fallback to the other slot.
set -euo pipefail
max=${1:?usage: make-grub-cfg.sh MAX_TRIES}
[[ "$max" =~ ^[1-8]$ ]] || { echo "MAX_TRIES must be 1..8" >&2; exit 1; }

cat <<CFG
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
insmod part_gpt
insmod ext2
insmod squash4
insmod loadenv
insmod test
insmod linux

set MAX_TRIES=$max
set ORDER="A B"
set A_OK=0
set B_OK=0
set A_TRY=0
set B_TRY=0
load_env

set slot=""
for s in \$ORDER; do
    if [ "\$s" = "A" ]; then ok=\$A_OK; try=\$A_TRY; fi
    if [ "\$s" = "B" ]; then ok=\$B_OK; try=\$B_TRY; fi
    if [ "\$ok" = "1" -a "\$try" -lt "\$MAX_TRIES" ]; then
        slot=\$s
        break
    fi
done
if [ -z "\$slot" ]; then
    echo "cairn-boot: no bootable slot left (ORDER=\$ORDER A_OK=\$A_OK A_TRY=\$A_TRY B_OK=\$B_OK B_TRY=\$B_TRY); trying A"
    set slot=A
fi
CFG
# GRUB script has no arithmetic: count attempts with an explicit table.
for s in A B; do
    echo "if [ \"\$slot\" = \"$s\" ]; then"
    for ((i = 0; i < max; i++)); do
        kw=elif; [[ $i -eq 0 ]] && kw=if
        echo "    $kw [ \"\$${s}_TRY\" = \"$i\" ]; then ${s}_TRY=$((i + 1))"
    done
    echo "    fi"
    echo "fi"
done
cat <<'CFG'
save_env ORDER A_OK B_OK A_TRY B_TRY

# The slots are the disk's partitions 3 and 4 (make-disk.sh); dev is how the qemu test
# appliance's kernel names them (its slot.cfg passes root=$dev).
if [ "$slot" = "A" ]; then set root=hd0,gpt3; set dev=/dev/vda3; try=$A_TRY; fi
if [ "$slot" = "B" ]; then set root=hd0,gpt4; set dev=/dev/vda4; try=$B_TRY; fi
echo "cairn-boot: slot=$slot attempt=$try of $MAX_TRIES ORDER=$ORDER A_OK=$A_OK A_TRY=$A_TRY B_OK=$B_OK B_TRY=$B_TRY"
# The slot's own kernel, initrd and command line (make-slot-cfg.sh).
source ($root)/boot/slot.cfg
boot
# Only reached when the slot could not be loaded: the attempt is already counted,
# so rebooting moves on towards the other slot instead of waiting at a prompt.
echo "cairn-boot: slot $slot could not be booted; rebooting"
sleep 5
reboot
CFG
