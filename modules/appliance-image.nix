# Builds the appliance's artefacts from the NixOS system:
#   system.build.cairnSlot       the read-only root slot (squashfs of the store closure + boot/)
#   system.build.cairnImage      a GPT disk: bios-grub/ESP, boot (grub + grubenv), root-a, root-b, data
#   system.build.cairnRaucBundle the RAUC bundle directory (manifest + slot image) and a sign script
# The slot, the grub.cfg and the disk are made by the Debian test appliance's own scripts
# (image/make-*.sh), so both images lay out their disks, count boots and choose slots the
# same way; tests/nix/slot-boot.sh boots this slot layout through them in qemu. Each
# slot's boot/slot.cfg carries init= and boot.kernelParams.
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
  # make-disk.sh reads the platform from the module directory's name.
  grubTarget = if efi then "arm64-efi" else "i386-pc";
  grub = if efi then pkgs.grub2_efi else pkgs.grub2;
  kernelParams = lib.concatStringsSep " " config.boot.kernelParams;
  # The Debian test appliance's image scripts, run here as they are there.
  imageScripts = lib.fileset.toSource {
    root = ../image;
    fileset = lib.fileset.unions [
      ../image/lib.sh
      ../image/make-grub-cfg.sh
      ../image/make-slot-cfg.sh
      ../image/make-store-slot.sh
      ../image/make-disk.sh
    ];
  };
in
{
  options.cairn.appliance.serialConsole = lib.mkOption {
    type = lib.types.str;
    default = if efi then "ttyS2,1500000" else "ttyS0,115200";
    description = "Kernel console for the boot log.";
  };

  config.system.build = {
    cairnSlot =
      pkgs.runCommand "cairn-slot-${cfg.version}.squashfs"
        {
          nativeBuildInputs = [ pkgs.squashfsTools ];
        }
        ''
          bash ${imageScripts}/make-store-slot.sh $out \
            ${config.boot.kernelPackages.kernel}/${config.system.boot.loader.kernelFile} \
            ${config.system.build.initialRamdisk}/${config.system.boot.loader.initrdFile} \
            ${closure}/store-paths \
            init=${toplevel}/init console=${cfg.serialConsole} ${kernelParams}
        '';

    cairnImage =
      pkgs.runCommand "cairn-image-${cfg.version}"
        {
          nativeBuildInputs = [
            pkgs.gptfdisk
            pkgs.e2fsprogs
            pkgs.dosfstools
            pkgs.mtools
            grub
          ];
        }
        ''
          mkdir -p $out
          bash ${imageScripts}/make-grub-cfg.sh ${toString cfg.bootTries} > grub.cfg
          CAIRN_GRUB_DIR=${grub}/lib/grub/${grubTarget} \
            bash ${imageScripts}/make-disk.sh $out/disk.img ${config.system.build.cairnSlot} grub.cfg \
              ${toString cfg.slotMiB} ${toString cfg.dataMiB}
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
