# x86_64 appliance for qemu (BIOS GRUB), matching the Debian test appliance's layout.
{ modulesPath, ... }:
{
  imports = [ (modulesPath + "/profiles/qemu-guest.nix") ];
  cairn.appliance.compatible = "cairn-appliance-x86_64";
  # Development images only: the keyring lives in the Nix store.
  cairn.appliance.rauc.allowDevelopmentKeyring = true;
  boot.initrd.availableKernelModules = [
    "virtio_pci"
    "virtio_blk"
  ];
}
