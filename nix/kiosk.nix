# The kiosk display (gtk4 + gstreamer + webkitgtk 6), built with its `display` feature.
{ lib
, rustPlatform
, pkg-config
, wrapGAppsHook4
, gtk4
, webkitgtk_6_0
, gst_all_1
,
}:
rustPlatform.buildRustPackage {
  pname = "cairn-kiosk";
  version = (lib.importTOML ../Cargo.toml).workspace.package.version;

  src = lib.cleanSource ../.;
  cargoLock.lockFile = ../Cargo.lock;

  cargoBuildFlags = [
    "-p"
    "cairn-kiosk"
    "--features"
    "display"
  ];
  doCheck = false;

  nativeBuildInputs = [
    pkg-config
    wrapGAppsHook4
  ];
  buildInputs = [
    gtk4
    webkitgtk_6_0
    gst_all_1.gstreamer
    gst_all_1.gst-plugins-base
    gst_all_1.gst-plugins-good
    gst_all_1.gst-plugins-bad
    gst_all_1.gst-libav
  ];

  meta = {
    description = "Cairn's kiosk display: camera and web grid with warm pools";
    mainProgram = "kiosk";
    license = lib.licenses.asl20;
    platforms = lib.platforms.linux;
  };
}
