#!/usr/bin/env bash
# What can be checked of the Nix side on a machine without a Nix daemon:
#   1. every .nix file parses (nix-instantiate --parse, Debian's nix-bin);
#   2. every .nix file is formatted (nixpkgs-fmt --check);
#   3. every unit the modules enable by name ships in provision/units/ (the package
#      installs that directory as is), every unit there with a WantedBy= is enabled by
#      the modules, and every repository file the Nix code references exists;
#   4. every file the Debian appliance installs from image/rootfs is mirrored on the Nix
#      side (or said not to apply), and the Nix image is made by the shared image scripts
#      (image/make-{store-slot,grub-cfg,disk}.sh).
# Evaluating the flake, building the image and running the NixOS VM tests need Nix with
# the nixpkgs input and KVM; docs/src/nix.md says what did and did not run.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/lib.sh

tools=${CAIRN_TOOLS_DIR:-$PWD/target/tools}
mapfile -t files < <(git ls-files '*.nix')
[ ${#files[@]} -gt 0 ] || { echo "no .nix files found" >&2; exit 1; }

install_tools() {
  apt_install nix-bin
  if [ ! -x "$tools/bin/nixpkgs-fmt" ]; then
    cargo install --locked --quiet --root "$tools" nixpkgs-fmt@1.3.0
  fi
}

parse_all() {
  local f ok=0
  for f in "${files[@]}"; do
    if ! nix-instantiate --parse "$f" >/dev/null; then
      echo "does not parse: $f"
      ok=1
    fi
  done
  return $ok
}

formatted() {
  "$tools/bin/nixpkgs-fmt" --check "${files[@]}"
}

# Units named in modules/ as systemd.services.<name> / systemd.sockets.<name>; those that
# come from other packages (rauc), that NixOS itself defines (chronyd) or that a module
# defines in full (dnsmasq) are listed here.
units_exist() {
  local provided_elsewhere=" rauc chronyd dnsmasq "
  local ok=0 kind name file
  while read -r kind name; do
    [[ "$provided_elsewhere" == *" $name "* ]] && continue
    file="provision/units/${name}.${kind%s}"
    [ "$kind" = services ] && file="provision/units/${name}.service"
    [ "$kind" = sockets ] && file="provision/units/${name}.socket"
    if [ -f "$file" ]; then
      echo "ok: modules enable $name, shipped as $file"
    else
      echo "MISSING: modules enable $name but $file does not exist"
      ok=1
    fi
  done < <(grep -ohE 'systemd\.(services|sockets)\.[A-Za-z0-9_-]+' modules/*.nix | sed -E 's/systemd\.(services|sockets)\./\1 /' | sort -u)
  # The other way round: a unit whose [Install] says WantedBy= must be enabled by the
  # modules, written as systemd.<services|sockets>.<name>.wantedBy (NixOS ignores
  # [Install] sections).
  local unit base kindname
  for unit in provision/units/*.service provision/units/*.socket; do
    grep -q '^WantedBy=' "$unit" || continue
    base=$(basename "$unit")
    kindname="systemd.${base##*.}s.${base%.*}.wantedBy"
    if grep -qF "$kindname" modules/*.nix; then
      echo "ok: $unit is enabled ($kindname)"
    else
      echo "MISSING: $unit has WantedBy= but no module sets $kindname"
      ok=1
    fi
  done
  # Paths the Nix code reads from the repository (../x or ./x relative to the file);
  # defaultText strings only document an expression and are skipped.
  local f ref dir
  for f in "${files[@]}"; do
    dir=$(dirname "$f")
    while read -r ref; do
      if [ ! -e "$dir/$ref" ]; then
        echo "MISSING: $f references $ref"
        ok=1
      fi
    done < <(grep -v literalExpression "$f" | grep -oE '(\.\./|\./)[A-Za-z0-9_./-]+\.(nix|sh|lock|toml|conf|network|tmpfiles)' | sort -u)
  done
  # The package installs every unit file and the tmpfiles snippet from provision/units.
  ls provision/units/*.service provision/units/*.socket provision/units/cairn.tmpfiles >/dev/null
  return $ok
}

# How the Nix side mirrors each file image/configure-rootfs.sh installs from image/rootfs:
# "reuse" (the Nix code reads the file itself), a string that modules/*.nix must contain
# (the setting that mirrors it), or "-: why it does not apply". A new file there fails
# this check until someone decides.
image_mirrored() {
  local ok=0 file how listed=" "
  while IFS='|' read -r file how; do
    listed+="$file "
    if [ ! -e "image/rootfs/$file" ]; then
      echo "STALE: image/rootfs/$file is listed here but no longer exists"
      ok=1
    elif [ "$how" = reuse ]; then
      if grep -qF "image/rootfs/$file" "${files[@]}"; then
        echo "ok: image/rootfs/$file is installed by the Nix code as is"
      else
        echo "MISSING: no .nix file reads image/rootfs/$file"
        ok=1
      fi
    elif [[ "$how" == -:* ]]; then
      echo "ok: image/rootfs/$file does not apply to NixOS (${how#-: })"
    elif grep -qF -- "$how" modules/*.nix; then
      echo "ok: image/rootfs/$file is mirrored in modules/ ($how)"
    else
      echo "MISSING: image/rootfs/$file is mirrored by '$how', which no module contains"
      ok=1
    fi
  done <<'LIST'
20-lan.network|reuse
20-wan.network|reuse
cairn-image.tmpfiles|reuse
session-local.conf|reuse
storage.conf|graphroot = "/data/containers/storage"
dnsmasq-cairn.conf|--conf-file=/run/cairn/dnsmasq.conf
chrony-cairn.conf|-f /run/cairn/chrony.conf
system.conf|data-directory=/data/rauc
fstab|-: fileSystems in modules/appliance.nix mount boot and data by partition label
cairn-overlay.initramfs|-: the NixOS root is a tmpfs and the store is the slot's squashfs
sshd-cairn-test.conf|-: test image only (root logs in with a throwaway key)
cairn-kiosk.tmpfiles|reuse
cairn-kiosk-vm.conf|-: qemu test image only (no GPU: software rendering, a longer start timeout)
LIST
  local f
  for f in image/rootfs/*; do
    f=$(basename "$f")
    if [[ "$listed" != *" $f "* ]]; then
      echo "UNLISTED: image/rootfs/$f: say in tests/nix/check.sh how the Nix side mirrors it"
      ok=1
    fi
  done
  # The Nix image is made by the Debian appliance's own image scripts, not a copy of
  # them (tests/nix/slot-boot.sh boots what they make from the Nix slot layout).
  local script
  for script in make-store-slot.sh make-grub-cfg.sh make-disk.sh; do
    if grep -qF "bash \${imageScripts}/$script" modules/appliance-image.nix &&
      grep -qF "../image/$script" modules/appliance-image.nix; then
      echo "ok: the Nix image runs image/$script"
    else
      echo "MISSING: modules/appliance-image.nix does not run image/$script"
      ok=1
    fi
  done
  return $ok
}

step "nix tools" install_tools
step "nix parse" parse_all
step "nix format" formatted
step "nix unit consistency" units_exist
step "nix mirrors the appliance image" image_mirrored
summary
