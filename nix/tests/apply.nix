# Mirrors `tests/vm/run apply`: a first-boot apply starts a container built from a
# busybox in files/, and a broken re-apply rolls back.
{ pkgs, ... }:
let
  key = pkgs.runCommand "cairn-test-key" { nativeBuildInputs = [ pkgs.openssh ]; } ''
    mkdir $out
    ssh-keygen -q -t ed25519 -N "" -C test -f $out/id
  '';
in
{
  name = "cairn-apply";
  nodes.machine = {
    cairn.provision.enable = true;
    environment.systemPackages = [ pkgs.busybox ];
    virtualisation.memorySize = 2048;
  };
  testScript = ''
    machine.wait_for_unit("provision.socket")
    pub = machine.succeed("cat ${key}/id.pub").strip()
    config = f"""
    version = 1
    [users.admin]
    isAdmin = true
    ssh_key = "{pub}"
    [activation]
    required = ["hello"]
    [containers.container.hello]
    privileged = true
    [containers.container.hello.Container]
    Image = "hello.build"
    Exec = "/bin/busybox httpd -f -p 8081"
    [containers.build.hello.Build]
    ImageTag = "localhost/hello:latest"
    SetWorkingDirectory = "''${{FILES_DIR}}/hello"
    """
    machine.succeed("mkdir -p /tmp/b/files/hello && cp ${pkgs.pkgsStatic.busybox}/bin/busybox /tmp/b/files/hello/")
    machine.succeed("printf 'FROM scratch\\nCOPY busybox /bin/busybox\\n' > /tmp/b/files/hello/Containerfile")
    machine.succeed(f"cat > /tmp/b/config.toml <<'EOF'\n{config}\nEOF")
    machine.succeed("tar -C /tmp/b -czf /tmp/bundle.tar.gz config.toml files")
    machine.succeed("provision apply --url http://127.0.0.1:8080 /tmp/bundle.tar.gz")
    machine.wait_until_succeeds("curl -sf http://127.0.0.1:8081/ >/dev/null || busybox nc -z 127.0.0.1 8081")
  '';
}
