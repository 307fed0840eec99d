# Pine64 Rock64 (RK3328, aarch64): GRUB arm64-efi started by U-Boot's UEFI. A production
# image must set cairn.appliance.rauc.keyring to the fleet's CA certificate.
{ lib, ... }:
{
  cairn.appliance.compatible = "cairn-rock64";
  cairn.appliance.rauc.keyring = lib.mkDefault null;
  boot.kernelParams = [ "earlycon" ];
  boot.initrd.availableKernelModules = [
    "mmc_block"
    "dw_mmc_rockchip"
  ];
  hardware.deviceTree.name = "rockchip/rk3328-rock64.dtb";
}
