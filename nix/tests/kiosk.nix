# Mirrors `tests/vm/run kiosk`: the kiosk runtime is installed and its account exists.
# The full display check (cage, screenshots of camera tiles) is tests/kiosk/run.sh.
{
  name = "cairn-kiosk";
  nodes.machine = {
    cairn.provision.enable = true;
    cairn.kiosk.enable = true;
  };
  testScript = ''
    machine.wait_for_unit("provision.socket")
    machine.succeed("command -v kiosk && command -v cage")
    machine.succeed("id cairn-kiosk")
  '';
}
