{
  description = "Cairn: declarative provisioning appliance for embedded Linux";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  outputs =
    { self, nixpkgs }:
    let
      lib = nixpkgs.lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f system nixpkgs.legacyPackages.${system});

      # The target each system's image and RAUC bundle are built for.
      targetFor = {
        x86_64-linux = "qemu-x86_64";
        aarch64-linux = "rock64";
      };

      mkAppliance =
        { system, board }:
        lib.nixosSystem {
          inherit system;
          specialArgs = {
            cairnPackages = self.packages.${system};
          };
          modules = [
            self.nixosModules.appliance
            board
          ];
        };
    in
    {
      packages = forAllSystems (
        system: pkgs:
          let
            provision = pkgs.callPackage ./nix/provision.nix { };
            kiosk = pkgs.callPackage ./nix/kiosk.nix { };
            target = self.nixosConfigurations.${targetFor.${system}}.config.system.build;
          in
          {
            inherit provision kiosk;
            default = provision;
            image = target.cairnImage;
            rauc-bundle = target.cairnRaucBundle;
          }
      );

      nixosModules = {
        provision = ./modules/provision.nix;
        kiosk = ./modules/kiosk.nix;
        appliance = ./modules/appliance.nix;
      };

      nixosConfigurations = {
        qemu-x86_64 = mkAppliance {
          system = "x86_64-linux";
          board = ./nix/boards/qemu-x86_64.nix;
        };
        rock64 = mkAppliance {
          system = "aarch64-linux";
          board = ./nix/boards/rock64.nix;
        };
      };

      # NixOS VM tests mirroring tests/vm suites. They need Nix with KVM; see docs/src/nix.md.
      checks = forAllSystems (
        system: pkgs:
          let
            runTest =
              file:
              pkgs.testers.runNixOSTest {
                imports = [ file ];
                node.specialArgs = {
                  cairnPackages = self.packages.${system};
                };
                defaults.imports = [
                  self.nixosModules.provision
                  self.nixosModules.kiosk
                ];
              };
          in
          lib.optionalAttrs (system == "x86_64-linux") {
            smoke = runTest ./nix/tests/smoke.nix;
            apply = runTest ./nix/tests/apply.nix;
            power-cut = runTest ./nix/tests/power-cut.nix;
            ota = runTest ./nix/tests/ota.nix;
            kiosk = runTest ./nix/tests/kiosk.nix;
          }
      );

      formatter = forAllSystems (system: pkgs: pkgs.nixpkgs-fmt);
    };
}
