#!/usr/bin/env bash
# What can be checked of the Nix side on a machine without a Nix daemon:
#   1. every .nix file parses (nix-instantiate --parse, Debian's nix-bin);
#   2. every .nix file is formatted (nixpkgs-fmt --check);
#   3. every unit the modules enable by name ships in provision/units/ (the package
#      installs that directory as is), and every repository file the Nix code
#      references exists.
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
# come from other packages (rauc) or that NixOS itself defines are listed here.
units_exist() {
  local provided_elsewhere=" rauc "
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
  # Paths the Nix code reads from the repository (../x or ./x relative to the file).
  local f ref dir
  for f in "${files[@]}"; do
    dir=$(dirname "$f")
    while read -r ref; do
      if [ ! -e "$dir/$ref" ]; then
        echo "MISSING: $f references $ref"
        ok=1
      fi
    done < <(grep -oE '(\.\./|\./)[A-Za-z0-9_./-]+\.(nix|sh|lock|toml)' "$f" | sort -u)
  done
  # The package installs every unit file and the tmpfiles snippet from provision/units.
  ls provision/units/*.service provision/units/*.socket provision/units/cairn.tmpfiles >/dev/null
  return $ok
}

step "nix tools" install_tools
step "nix parse" parse_all
step "nix format" formatted
step "nix unit consistency" units_exist
summary
