# Test bundles for the apply and power-cut tests, written as tests/vm/src/fixture.rs
# writes them: config.toml plus files/ holding a `FROM scratch` image (a static busybox)
# and the page every httpd serves. No registry is reachable from the test machine, so a
# .build unit builds the image there. Also the admin's ssh key that signs every apply.
{ pkgs, lib }:
let
  # A shell that exits on SIGTERM: busybox as PID 1 would ignore `podman stop`.
  stoppable = command: "/bin/busybox sh -c 'trap \"exit 0\" TERM; ${command} & wait'";

  toml =
    { containers
    , settleSeconds
    , timeoutSeconds ? 900
    , ...
    }:
    let
      str = builtins.toJSON;
      container =
        c:
        ''
          [containers.container.${c.name}]
          privileged = ${lib.boolToString c.privileged}
          [containers.container.${c.name}.Container]
          Image = "bb.build"
          Exec = ${str c.exec}
          Environment = "CAIRN_REV=${toString c.revision}"
        ''
        + lib.optionalString (c.publish != null) ''
          PublishPort = ${str c.publish}
        ''
        + lib.optionalString c.restartAlways ''
          [containers.container.${c.name}.Service]
          Restart = "always"
          RestartSec = 1
        '';
    in
    ''
      # Generated for a NixOS test (nix/tests/fixture.nix).
      version = 1

      [users.admin]
      isAdmin = true
      ssh_key = "@admin_key@"

      [activation]
      required = [${lib.concatMapStringsSep ", " (c: str c.name) containers}]
      timeout_seconds = ${toString timeoutSeconds}
      settle_seconds = ${toString settleSeconds}

      [containers.build.bb.Build]
      ImageTag = "localhost/cairn-busybox:latest"
      File = "''${FILES_DIR}/bb/Containerfile"
      SetWorkingDirectory = "''${FILES_DIR}"

    ''
    + lib.concatMapStringsSep "\n" container containers;
in
rec {
  # A busybox httpd serving the image's /www on `port`, rootful on the host's network.
  httpd = name: port: {
    inherit name;
    privileged = true;
    exec = stoppable "/bin/busybox httpd -f -p ${toString port} -h /www";
    publish = null;
    revision = 1;
    restartAlways = false;
  };
  # A rootless (appsvc) busybox httpd published on 127.0.0.1:`hostPort`.
  rootlessHttpd =
    name: hostPort:
    httpd name 0
    // {
      privileged = false;
      exec = stoppable "/bin/busybox httpd -f -p 8000 -h /www";
      publish = "${toString hostPort}:8000";
    };
  sleeper = name: httpd name 0 // { exec = stoppable "/bin/busybox sleep 2147483647"; };

  # configs: name -> { containers, page, settleSeconds }. The output holds id/id.pub (the
  # admin key), <name>/ (the tree) and <name>.tar.gz (the bundle) for each config.
  bundles =
    configs:
    pkgs.runCommand "cairn-test-bundles"
      {
        nativeBuildInputs = [
          pkgs.openssh
          pkgs.gnutar
          pkgs.gzip
        ];
      }
      (
        ''
          mkdir -p $out
          ssh-keygen -q -t ed25519 -N "" -C admin -f $out/id
          key=$(cat $out/id.pub)
        ''
        + lib.concatStrings (
          lib.mapAttrsToList
            (name: config: ''
              mkdir -p $out/${name}/files/bb $out/${name}/files/www
              substitute ${pkgs.writeText "${name}.toml" (toml config)} $out/${name}/config.toml \
                --subst-var-by admin_key "$key"
              printf 'FROM scratch\nCOPY bb/busybox /bin/busybox\nCOPY www/ /www/\n' > $out/${name}/files/bb/Containerfile
              cp ${pkgs.pkgsStatic.busybox}/bin/busybox $out/${name}/files/bb/busybox
              printf '%s' ${lib.escapeShellArg config.page} > $out/${name}/files/www/index.html
              tar -C $out/${name} --owner=0 --group=0 -czf $out/${name}.tar.gz config.toml files
            '')
            configs
        )
      );
}
