# The Cairn appliance: a read-only squashfs store in one of two A/B slots, a tmpfs root,
# persistent state only on /data, RAUC for OS updates with GRUB boot counting (the same
# grubenv scheme the Debian test appliance proves in tests/vm), no default credentials,
# key-only SSH and no IP forwarding.
{ config
, lib
, pkgs
, ...
}:
let
  cfg = config.cairn.appliance;
  keyring =
    if cfg.rauc.keyring != null then
      cfg.rauc.keyring
    else if cfg.rauc.allowDevelopmentKeyring then
      "${cfg.rauc.developmentKeyring}/ca.cert.pem"
    else
      null;
in
{
  imports = [
    ./provision.nix
    ./kiosk.nix
    ./appliance-image.nix
  ];

  options.cairn.appliance = {
    version = lib.mkOption {
      type = lib.types.strMatching "[0-9A-Za-z.+~-]+";
      default = "0.1.0";
      description = "The OS version written to /etc/cairn-release and the RAUC manifest.";
    };
    compatible = lib.mkOption {
      type = lib.types.str;
      description = "RAUC compatible string: bundles for other hardware are refused.";
    };
    slotMiB = lib.mkOption {
      type = lib.types.ints.positive;
      default = 1024;
      description = "Size of each root slot partition in MiB (the Debian test appliance's default).";
    };
    dataMiB = lib.mkOption {
      type = lib.types.ints.positive;
      default = 512;
      description = ''
        Size of the data partition in MiB as written to the image. The partition is not
        grown on the device: set this to what the board's storage allows.
      '';
    };
    bootTries = lib.mkOption {
      type = lib.types.ints.between 1 8;
      default = 3;
      description = "Boots a slot gets to mark itself good before GRUB falls back to the other slot.";
    };
    rauc = {
      keyring = lib.mkOption {
        type = lib.types.nullOr lib.types.path;
        default = null;
        description = "The production CA certificate (PEM) that update bundles must be signed by.";
      };
      allowDevelopmentKeyring = lib.mkOption {
        type = lib.types.bool;
        default = false;
        description = ''
          Use a development CA generated in the Nix store (its private key is world-readable
          there). Never for production: anyone with the store can sign updates.
        '';
      };
      developmentKeyring = lib.mkOption {
        type = lib.types.package;
        default = pkgs.callPackage ../nix/dev-keyring.nix { };
        defaultText = lib.literalExpression "pkgs.callPackage ./nix/dev-keyring.nix { }";
        description = "Derivation holding ca.cert.pem, signing.cert.pem and signing.key.pem for development.";
      };
    };
  };

  config = {
    assertions = [
      {
        assertion = keyring != null;
        message = ''
          cairn.appliance.rauc.keyring is not set: a production image needs the CA certificate
          that signs its update bundles. For a development image, set
          cairn.appliance.rauc.allowDevelopmentKeyring = true explicitly.
        '';
      }
      {
        assertion = !(cfg.rauc.keyring != null && cfg.rauc.allowDevelopmentKeyring);
        message = "cairn.appliance.rauc: set either keyring (production) or allowDevelopmentKeyring, not both.";
      }
    ];

    cairn.provision.enable = true;
    cairn.kiosk.enable = lib.mkDefault true;

    # Root is a tmpfs; the store is the active slot's squashfs, read-only. The initrd
    # links /dev/cairn-root to the slot GRUB chose (rauc.slot=A|B on the command line).
    fileSystems."/" = {
      device = "none";
      fsType = "tmpfs";
      options = [
        "mode=0755"
        "size=50%"
      ];
    };
    fileSystems."/nix/store" = {
      device = "/dev/cairn-root";
      fsType = "squashfs";
      options = [ "ro" ];
      neededForBoot = true;
    };
    fileSystems."/data" = {
      device = "/dev/disk/by-partlabel/data";
      fsType = "ext4";
      options = [
        "noatime"
        "nodev"
        "nosuid"
      ];
      neededForBoot = true;
      autoResize = true;
    };
    fileSystems."/boot" = {
      device = "/dev/disk/by-partlabel/boot";
      fsType = "ext4";
      options = [ "noatime" ];
    };
    boot.initrd.systemd.enable = true;
    boot.initrd.availableKernelModules = [
      "squashfs"
      "ext4"
    ];
    boot.initrd.services.udev.rules = ''
      ENV{ID_PART_ENTRY_NAME}=="root-a", IMPORT{cmdline}="rauc.slot", ENV{rauc.slot}=="A", SYMLINK+="cairn-root"
      ENV{ID_PART_ENTRY_NAME}=="root-b", IMPORT{cmdline}="rauc.slot", ENV{rauc.slot}=="B", SYMLINK+="cairn-root"
    '';
    # The image has no Nix database and is never changed in place.
    nix.enable = false;
    boot.loader.grub.enable = false;
    system.switch.enable = false;

    environment.etc."cairn-release".text = "VERSION=${cfg.version}\n";

    # RAUC: the same slot layout and grub backend as image/rootfs/system.conf.
    environment.systemPackages = [ pkgs.rauc ];
    environment.etc."rauc/system.conf".text = ''
      [system]
      compatible=${cfg.compatible}
      bootloader=grub
      grubenv=/boot/grub/grubenv
      bundle-formats=-plain
      data-directory=/data/rauc

      [keyring]
      path=/etc/rauc/keyring.pem

      [slot.rootfs.0]
      device=/dev/disk/by-partlabel/root-a
      type=raw
      bootname=A

      [slot.rootfs.1]
      device=/dev/disk/by-partlabel/root-b
      type=raw
      bootname=B
    '';
    environment.etc."rauc/keyring.pem".source = keyring;
    systemd.packages = [ pkgs.rauc ];
    systemd.services.rauc.wantedBy = [ "multi-user.target" ];
    services.dbus.packages = [ pkgs.rauc ];
    # Mark the booted slot good once the system is up (unit from provision/units/). The
    # unit names Debian's /usr/bin/rauc; NixOS has rauc in the store only.
    systemd.services.cairn-mark-good.wantedBy = [ "multi-user.target" ];
    systemd.services.cairn-mark-good.serviceConfig.ExecStart = [
      ""
      "${pkgs.rauc}/bin/rauc status mark-good"
    ];

    # State that must outlive a reboot lives on /data (root is a tmpfs): RAUC's slot
    # status, rootful container storage, appsvc's home. The Debian appliance's rules,
    # installed as they are.
    systemd.tmpfiles.packages = [
      (pkgs.runCommand "cairn-image-tmpfiles" { } ''
        install -Dm644 ${../image/rootfs/cairn-image.tmpfiles} $out/lib/tmpfiles.d/cairn-image.conf
      '')
    ];
    # Rootful images and containers on /data (image/rootfs/storage.conf): overlayfs on
    # a RAM root would lose them at every boot. Rootless storage is under appsvc's home.
    virtualisation.containers.storage.settings.storage = {
      driver = "overlay";
      runroot = "/run/containers/storage";
      graphroot = "/data/containers/storage";
    };

    # No default credentials: no passwords at all, key-only SSH, no root login.
    users.mutableUsers = false;
    users.users.root.hashedPassword = "!";
    services.openssh = {
      enable = true;
      settings = {
        PasswordAuthentication = false;
        KbdInteractiveAuthentication = false;
        PermitRootLogin = "no";
      };
    };

    # A gateway that never routes: no forwarding, ever.
    boot.kernel.sysctl = {
      "net.ipv4.ip_forward" = 0;
      "net.ipv4.conf.all.forwarding" = 0;
      "net.ipv6.conf.all.forwarding" = 0;
    };
    # provision owns the firewall: it loads the config's `table inet cairn` (input and
    # forward policy drop) at every apply and boot. NixOS's own firewall would be a
    # second table dropping what the config opens on the LAN (DHCP, DNS, NTP), which the
    # Debian appliance does not have; until the first apply both are open, as there.
    networking.firewall.enable = false;
    networking.nftables.enable = true;

    # Ports as on the Debian appliance: eth0 is the WAN (DHCP), eth1 the LAN with the
    # default gateway address of CONFIG.md, up without a carrier, so a new device is
    # reachable at http://172.20.30.1:8080/ for its first apply. Each slot's boot entry
    # (image/make-slot-cfg.sh, shared with the Debian image) passes net.ifnames=0; NixOS
    # is told too, so it names the ports the same way. Provisioned settings
    # (/run/systemd/network/10-eth*.network) sort first and win. The .network files are
    # the Debian image's, installed as they are.
    networking.usePredictableInterfaceNames = false;
    networking.useNetworkd = true;
    networking.useDHCP = false;
    environment.etc."systemd/network/20-wan.network".source = ../image/rootfs/20-wan.network;
    environment.etc."systemd/network/20-lan.network".source = ../image/rootfs/20-lan.network;

    system.stateVersion = "25.05";
  };
}
