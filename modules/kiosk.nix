# The kiosk runtime: cage, the kiosk program and its GStreamer plugins, and the
# dedicated account. The unit itself (cairn-kiosk.service) is rendered by provision
# from config.toml when [kiosk] is enabled, so it starts and stops with applies.
{ config
, lib
, pkgs
, ...
}:
let
  cfg = config.cairn.kiosk;
in
{
  options.cairn.kiosk = {
    enable = lib.mkEnableOption "the runtime for the Cairn kiosk display";

    package = lib.mkOption {
      type = lib.types.package;
      default = pkgs.callPackage ../nix/kiosk.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./nix/kiosk.nix { }";
      description = "The kiosk package (built with its display feature).";
    };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [
      cfg.package
      pkgs.cage
    ];
    hardware.graphics.enable = true;
    # The rendered unit takes the seat from seatd (its socket in the video group, a
    # group the unit adds), not from a logind session: see quadlet-render/src/kiosk.rs.
    services.seatd = {
      enable = true;
      group = "video";
    };
    fonts.enableDefaultPackages = true;

    users.users.cairn-kiosk = {
      isSystemUser = true;
      group = "cairn-kiosk";
      extraGroups = [
        "video"
        "render"
        "input"
      ];
    };
    users.groups.cairn-kiosk = { };
    users.users.cairn-kiosk.home = "/var/lib/cairn-kiosk";

    # The kiosk's directories: its local API key on /data, its home (font, GTK and
    # WebKit caches). The same file the Debian appliance installs.
    systemd.tmpfiles.packages = [
      (pkgs.runCommand "cairn-kiosk-tmpfiles" { } ''
        install -Dm644 ${../image/rootfs/cairn-kiosk.tmpfiles} $out/lib/tmpfiles.d/cairn-kiosk.conf
      '')
    ];

    # provision renders the unit with these paths (the Debian appliance uses /usr/bin).
    systemd.services.provision.environment = {
      CAIRN_KIOSK_BIN = lib.getExe cfg.package;
      CAIRN_CAGE_BIN = lib.getExe pkgs.cage;
    };
  };
}
