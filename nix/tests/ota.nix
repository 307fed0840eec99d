# Mirrors `tests/vm/run ota`: RAUC refuses a bundle signed by a foreign CA. Slot switching
# and boot-count fallback need the full disk image and are proven by tests/vm/run ota.
{ pkgs, ... }:
{
  name = "cairn-ota";
  nodes.machine = {
    environment.systemPackages = [
      pkgs.rauc
      pkgs.openssl
    ];
  };
  testScript = ''
    machine.succeed("openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=foreign -keyout /tmp/k -out /tmp/c")
    machine.succeed("mkdir -p /tmp/content && echo x > /tmp/content/rootfs.img")
    machine.succeed("printf '[update]\\ncompatible=cairn-appliance-x86_64\\nversion=9\\n[bundle]\\nformat=verity\\n[image.rootfs]\\nfilename=rootfs.img\\n' > /tmp/content/manifest.raucm")
    machine.succeed("rauc bundle --cert=/tmp/c --key=/tmp/k /tmp/content /tmp/foreign.raucb")
    machine.fail("rauc info --keyring=${pkgs.cacert}/etc/ssl/certs/ca-bundle.crt /tmp/foreign.raucb")
  '';
}
