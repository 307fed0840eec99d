# The provision service: socket-activated API on :8080, boot-time recovery before any
# provisioned unit, state on /data/cairn. Units come from the package (provision/units/),
# never retyped here; this module only enables them and sets the runtime environment.
{ config
, lib
, pkgs
, ...
}:
let
  cfg = config.cairn.provision;
in
{
  options.cairn.provision = {
    enable = lib.mkEnableOption "the Cairn provisioning service";

    package = lib.mkOption {
      type = lib.types.package;
      default = pkgs.callPackage ../nix/provision.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./nix/provision.nix { }";
      description = "The provision package; its lib/systemd/system units are installed as they are.";
    };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ cfg.package ];

    # Unit files from the package; the [Install] sections are honoured by wantedBy below.
    systemd.packages = [ cfg.package ];
    systemd.tmpfiles.packages = [ cfg.package ];
    systemd.sockets.provision.wantedBy = [ "sockets.target" ];
    systemd.services.cairn-recover.wantedBy = [ "basic.target" ];

    # Podman's Quadlet generator reads the units provision exposes under /run.
    virtualisation.podman.enable = true;
    virtualisation.containers.enable = true;

    # Rootless containers run as appsvc under its own lingering user manager.
    users.users.appsvc = {
      isSystemUser = true;
      group = "appsvc";
      home = "/data/appsvc";
      createHome = true;
      linger = true;
      autoSubUidGidRange = true;
    };
    users.groups.appsvc = { };

    networking.firewall.allowedTCPPorts = [ 8080 ];
  };
}
