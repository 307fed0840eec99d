# The provision service: socket-activated API on :8080, boot-time recovery before any
# provisioned unit, `provision boot` after it, state on /data/cairn. Units come from the
# package (provision/units/), never retyped here; this module only enables them, gives
# them the tools they run, and sets up what the Debian test appliance's image sets up
# for provision (image/configure-rootfs.sh): the appsvc account for rootless containers,
# root's access to appsvc's user bus, and dnsmasq/chronyd reading the provisioned
# configs under /run/cairn.
{ config
, lib
, pkgs
, ...
}:
let
  cfg = config.cairn.provision;
  chrony = config.services.chrony.package;

  # Commands provision runs itself (src/activate: host.rs, users/), then the system's
  # profile: on the Debian appliance the units see everything installed (/usr/bin), and
  # a config's exec health probes may name any installed command.
  toolPath = [
    config.systemd.package
    pkgs.nftables
    pkgs.dnsmasq
    chrony
    pkgs.shadow
    "/run/wrappers"
    "/run/current-system/sw"
  ];

  # image/rootfs/session-local.conf, as is: the session bus's default policy admits
  # root, so provision can drive appsvc's user manager. NixOS's dbus configuration
  # includes share/dbus-1/session.d of every services.dbus.packages entry (it drops the
  # session-local.conf include, hence the session.d name).
  sessionPolicy = pkgs.runCommand "cairn-dbus-session-policy" { } ''
    install -Dm644 ${../image/rootfs/session-local.conf} $out/share/dbus-1/session.d/cairn-root.conf
  '';
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
    environment.systemPackages = [
      cfg.package
      pkgs.dnsmasq
    ];

    # Unit files from the package; the [Install] sections are honoured by wantedBy below.
    systemd.packages = [ cfg.package ];
    systemd.tmpfiles.packages = [ cfg.package ];
    systemd.sockets.provision.wantedBy = [ "sockets.target" ];
    systemd.services.cairn-recover.wantedBy = [ "basic.target" ];
    # /run starts empty: provision boot links the current generation again and starts it.
    systemd.services.cairn-boot.wantedBy = [ "multi-user.target" ];
    # NixOS gives units it knows a PATH of coreutils, grep, sed and systemd only.
    systemd.services.provision.path = toolPath;
    systemd.services.cairn-recover.path = toolPath;
    systemd.services.cairn-boot.path = toolPath;

    # Podman's Quadlet generators (system and user) read the units provision exposes
    # under /run. The wrapper puts /run/wrappers (setuid newuidmap/newgidmap) on
    # podman's PATH; passt (Network=pasta, rootless) is one of its helpers, named here
    # so it stays there.
    virtualisation.podman.enable = true;
    virtualisation.podman.extraPackages = [ pkgs.passt ];
    virtualisation.containers.enable = true;

    # Rootless containers run as appsvc under its own user manager, started at boot
    # (lingering), home and container storage on /data. The uid is fixed, below the
    # range managed users get; its subordinate ids are the conventional first range.
    users.users.appsvc = {
      isSystemUser = true;
      uid = 900;
      group = "appsvc";
      description = "Cairn rootless containers";
      home = "/data/appsvc";
      createHome = true;
      homeMode = "700";
      shell = "/run/current-system/sw/bin/nologin";
      linger = true;
      subUidRanges = [
        {
          startUid = 100000;
          count = 65536;
        }
      ];
      subGidRanges = [
        {
          startGid = 100000;
          count = 65536;
        }
      ];
    };
    users.groups.appsvc.gid = 900;

    services.dbus.packages = [ sessionPolicy ];

    # dnsmasq serves the LAN only from the provisioned config: provision links it to
    # /run/cairn/dnsmasq.conf, checks it with `dnsmasq --test` and restarts this unit
    # (cairn-boot.service does it again after a boot). Not started at boot by itself.
    # The semantics of image/rootfs/dnsmasq-cairn.conf, on a unit of its own because
    # NixOS's services.dnsmasq writes its own config and resolver settings.
    systemd.services.dnsmasq = {
      description = "dnsmasq: DHCP and DNS for the LAN from the provisioned config";
      requires = [ "network.target" ];
      after = [ "network.target" ];
      wants = [ "nss-lookup.target" ];
      before = [ "nss-lookup.target" ];
      unitConfig.ConditionPathExists = "/run/cairn/dnsmasq.conf";
      serviceConfig = {
        Type = "simple";
        ExecStartPre = "${pkgs.dnsmasq}/bin/dnsmasq --test --conf-file=/run/cairn/dnsmasq.conf";
        # --group: NixOS has no `dip`, dnsmasq's built-in default group.
        ExecStart = "${pkgs.dnsmasq}/bin/dnsmasq --keep-in-foreground --user=dnsmasq --group=dnsmasq --conf-file=/run/cairn/dnsmasq.conf";
        ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
      };
    };
    users.users.dnsmasq = {
      isSystemUser = true;
      group = "dnsmasq";
      description = "dnsmasq daemon";
    };
    users.groups.dnsmasq = { };
    # dnsmasq's built-in lease file is /var/lib/misc/dnsmasq.leases (Debian ships the
    # directory; NixOS does not).
    systemd.tmpfiles.rules = [ "d /var/lib/misc 0755 root root -" ];

    # chronyd runs the provisioned config only (image/rootfs/chrony-cairn.conf): provision
    # links it to /run/cairn/chrony.conf, checks it with `chronyd -p` and restarts
    # chrony.service, Debian's name for the unit NixOS calls chronyd.service, hence the
    # alias. Until the first apply there are no time servers, so chronyd does not run.
    services.chrony.enable = true;
    systemd.services.chronyd = {
      aliases = [ "chrony.service" ];
      unitConfig.ConditionPathExists = "/run/cairn/chrony.conf";
      serviceConfig.ExecStart = lib.mkForce "${chrony}/bin/chronyd -n -u chrony -f /run/cairn/chrony.conf ${toString config.services.chrony.extraFlags}";
    };

    networking.firewall.allowedTCPPorts = [ 8080 ];
  };
}
