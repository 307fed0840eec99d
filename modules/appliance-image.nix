# Builds the appliance's artefacts from the NixOS system:
#   system.build.cairnSlot       the read-only root slot (squashfs of the store closure + boot/)
#   system.build.cairnImage      a GPT disk: bios_grub/ESP, boot (grub + grubenv), root-a, root-b, data
#   system.build.cairnRaucBundle the RAUC bundle directory (manifest + slot image) and a sign script
# The grub.cfg is the Debian appliance's boot-counting script (image/make-grub-cfg.sh),
# so both images select slots the same way. Its `linux` line is replaced by each slot's
# slot.cfg, whose command line is boot.kernelParams: modules/appliance.nix puts the
# script's net.ifnames=0 there.
{ config
, lib
, pkgs
, ...
}:
let
  cfg = config.cairn.appliance;
  toplevel = config.system.build.toplevel;
  closure = pkgs.closureInfo { rootPaths = [ toplevel ]; };
  efi = pkgs.stdenv.hostPlatform.isAarch64;
  grubTarget = if efi then "arm64-efi" else "i386-pc";
  grub = if efi then pkgs.grub2_efi else pkgs.grub2;
  kernelParams = lib.concatStringsSep " " config.boot.kernelParams;
in
{
  options.cairn.appliance.serialConsole = lib.mkOption {
    type = lib.types.str;
    default = if efi then "ttyS2,1500000" else "ttyS0,115200";
    description = "Kernel console for the boot log.";
  };

  config.system.build = {
    cairnSlot = pkgs.runCommand "cairn-slot-${cfg.version}.squashfs" { nativeBuildInputs = [ pkgs.squashfsTools ]; } ''
      mkdir -p boot
      cp ${config.boot.kernelPackages.kernel}/${config.system.boot.loader.kernelFile} boot/kernel
      cp ${config.system.build.initialRamdisk}/${config.system.boot.loader.initrdFile} boot/initrd
      # Each slot carries its own boot entry; the shared grub.cfg sources it after choosing.
      cat > boot/slot.cfg <<CFG
      linux (\$root)/boot/kernel init=${toplevel}/init rauc.slot=\$slot console=${cfg.serialConsole} panic=10 ${kernelParams}
      initrd (\$root)/boot/initrd
      CFG
      # gzip: GRUB reads the kernel straight from the slot, and its squashfs reader knows
      # only gzip, xz and lzo (the Debian appliance found this out the hard way).
      mksquashfs boot $(cat ${closure}/store-paths) $out \
        -keep-as-directory -all-root -comp gzip -Xcompression-level 1 -b 1M -no-xattrs -processors $NIX_BUILD_CORES
    '';

    cairnImage =
      pkgs.runCommand "cairn-image-${cfg.version}"
        {
          nativeBuildInputs = [
            pkgs.systemd
            pkgs.e2fsprogs
            pkgs.dosfstools
            pkgs.mtools
            grub
            pkgs.bash
          ];
        }
        ''
          mkdir -p boot/grub repart.d $out
          bash ${../image/make-grub-cfg.sh} ${toString cfg.bootTries} \
            | sed -e 's|^linux .*||' -e 's|^initrd .*||' \
                  -e 's|^if \[ "\$slot" = "A" \]; then set part=gpt3.*|if [ "$slot" = "A" ]; then search --no-floppy --set=root --part-label root-a; fi|' \
                  -e 's|^if \[ "\$slot" = "B" \]; then set part=gpt4.*|if [ "$slot" = "B" ]; then search --no-floppy --set=root --part-label root-b; fi|' \
                  -e 's|^boot$|source ($root)/boot/slot.cfg\nboot|' > boot/grub/grub.cfg
          grub-editenv boot/grub/grubenv create
          grub-editenv boot/grub/grubenv set ORDER="A B" A_OK=1 A_TRY=0 B_OK=0 B_TRY=0

          cat > repart.d/10-firmware.conf <<CONF
          [Partition]
          ${if efi then "Type=esp\nFormat=vfat\nSizeMinBytes=64M\nLabel=esp" else "Type=21686148-6449-6e6f-744e-656564454649\nSizeMinBytes=1M\nSizeMaxBytes=1M\nLabel=bios"}
          CONF
          cat > repart.d/20-boot.conf <<CONF
          [Partition]
          Type=linux-generic
          Label=boot
          Format=ext4
          CopyFiles=$PWD/boot:/grub
          SizeMinBytes=64M
          CONF
          cat > repart.d/30-root-a.conf <<CONF
          [Partition]
          Type=linux-generic
          Label=root-a
          CopyBlocks=${config.system.build.cairnSlot}
          SizeMinBytes=${cfg.slotSize}
          SizeMaxBytes=${cfg.slotSize}
          CONF
          cat > repart.d/40-root-b.conf <<CONF
          [Partition]
          Type=linux-generic
          Label=root-b
          SizeMinBytes=${cfg.slotSize}
          SizeMaxBytes=${cfg.slotSize}
          CONF
          cat > repart.d/50-data.conf <<CONF
          [Partition]
          Type=linux-generic
          Label=data
          Format=ext4
          SizeMinBytes=256M
          CONF
          systemd-repart --empty=create --size=auto --offline=yes --definitions=repart.d $out/disk.img

          ${
            if efi then
              ''
                grub-mkimage -O arm64-efi -p '(hd0,gpt2)/grub' -o BOOTAA64.EFI \
                  part_gpt ext2 squash4 loadenv test linux search search_label normal configfile
                mmd -i $out/disk.img@@1M ::/EFI ::/EFI/BOOT
                mcopy -i $out/disk.img@@1M BOOTAA64.EFI ::/EFI/BOOT/BOOTAA64.EFI
              ''
            else
              ''
                grub-mkimage -O i386-pc -p '(hd0,gpt2)/grub' -o core.img \
                  biosdisk part_gpt ext2 squash4 loadenv test linux search search_label normal configfile
                echo "(hd0) $out/disk.img" > device.map
                grub-bios-setup --skip-fs-probe -d . -b ${grub}/lib/grub/${grubTarget}/boot.img -c core.img -m device.map $out/disk.img
              ''
          }
        '';

    cairnRaucBundle =
      pkgs.runCommand "cairn-rauc-bundle-${cfg.version}"
        {
          nativeBuildInputs = [ pkgs.rauc ];
        }
        ''
          mkdir -p $out/content $out/bin
          cp ${config.system.build.cairnSlot} $out/content/rootfs.img
          cat > $out/content/manifest.raucm <<MANIFEST
          [update]
          compatible=${cfg.compatible}
          version=${cfg.version}

          [bundle]
          format=verity

          [image.rootfs]
          filename=rootfs.img
          MANIFEST
          # Bundles are signed outside the store: the signing key never enters Nix.
          cat > $out/bin/cairn-sign-bundle <<SCRIPT
          #!${pkgs.runtimeShell}
          set -eu
          [ \$# -eq 3 ] || { echo "usage: cairn-sign-bundle CERT KEY OUT.raucb" >&2; exit 2; }
          exec ${pkgs.rauc}/bin/rauc bundle --cert="\$1" --key="\$2" $out/content "\$3"
          SCRIPT
          chmod +x $out/bin/cairn-sign-bundle
        '';
  };
}
