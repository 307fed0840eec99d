# The provision service and CLI, built from the workspace's Cargo.lock. Unit files are
# installed from provision/units/ — the same files the Debian test appliance installs.
{ lib
, rustPlatform
, pkg-config
,
}:
rustPlatform.buildRustPackage {
  pname = "cairn-provision";
  version = (lib.importTOML ../Cargo.toml).workspace.package.version;

  src = lib.cleanSource ../.;
  cargoLock.lockFile = ../Cargo.lock;

  cargoBuildFlags = [
    "-p"
    "provision"
  ];
  cargoTestFlags = [
    "-p"
    "provision"
    "-p"
    "cairn-config"
  ];
  nativeBuildInputs = [ pkg-config ];

  postInstall = ''
    install -Dm644 -t $out/lib/systemd/system provision/units/*.service provision/units/*.socket
    install -Dm644 provision/units/cairn.tmpfiles $out/lib/tmpfiles.d/cairn.conf
    # Units name /usr/bin/provision; on NixOS the binary lives in the store.
    substituteInPlace $out/lib/systemd/system/*.service \
      --replace-quiet /usr/bin/provision $out/bin/provision
  '';

  meta = {
    description = "Cairn's provisioning service: validate, render, promote, activate, roll back";
    mainProgram = "provision";
    license = lib.licenses.asl20;
    platforms = lib.platforms.linux;
  };
}
