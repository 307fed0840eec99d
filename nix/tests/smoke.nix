# Mirrors `tests/vm/run smoke`: the API answers, the store is read-only, /data persists.
{
  name = "cairn-smoke";
  nodes.machine = {
    cairn.provision.enable = true;
    virtualisation.fileSystems."/data" = {
      device = "/dev/vdb";
      fsType = "ext4";
      autoFormat = true;
    };
    virtualisation.emptyDiskImages = [ 512 ];
  };
  testScript = ''
    machine.wait_for_unit("provision.socket")
    machine.succeed("curl -sf http://127.0.0.1:8080/api/health | grep -q '\"ok\"'")
    machine.fail("touch /nix/store/cairn-must-not-write")
    machine.succeed("echo kept > /data/persist")
    machine.shutdown()
    machine.start()
    machine.wait_for_unit("provision.socket")
    machine.succeed("grep -q kept /data/persist")
  '';
}
