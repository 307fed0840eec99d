#!/usr/bin/env bash
# build.sh OUTDIR BIN...
# Build the complete test appliance into OUTDIR (needs root for debootstrap/chroot):
#   disk.raw          GPT A/B disk, slot A = VERSION 1, slot B empty
#   bundles.ext4      ext4 volume with the test bundles, attached read-only as a 2nd disk:
#     good.raucb      VERSION 2, signed by the trusted CA
#     nomark.raucb    VERSION 3-nomark, never marks its slot good (fallback test)
#     foreign.raucb   VERSION 2, signed by an unrelated CA (must be refused)
#   keys/             throwaway CA, signers and the test-only ssh key
#   image.env         facts the harness reads (versions, boot attempts, sizes)
# BIN... are the workspace binaries to install in /usr/bin: pass whatever exists
# (target/release/provision today; target/release/kiosk once that crate exists).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
out=${1:?usage: build.sh OUTDIR BIN...}
shift
units=${CAIRN_UNITS_DIR:-$here/../provision/units}
max_tries=${CAIRN_MAX_TRIES:-2}
slot_mib=${CAIRN_SLOT_MIB:-1024}
data_mib=${CAIRN_DATA_MIB:-512}

need mkfs.ext4 e2fsprogs
mkdir -p "$out"
out=$(cd "$out" && pwd)
work="$out/work"
rm -rf "$work"
mkdir -p "$work" "$out/bundles"
start=$SECONDS

"$here/make-keys.sh" "$out/keys"
# The debootstrapped base depends only on the package list and the script that
# installs it: reuse it from the cache when those did not change.
base_key=$(cat "$here/build-rootfs.sh" "$here/packages.txt" "$here/lib.sh" | sha256sum | cut -c1-16)
base_tar=${XDG_CACHE_HOME:-$HOME/.cache}/cairn/rootfs-base/$base_key.tar
if [[ -f $base_tar ]]; then
    log "reusing base rootfs $base_tar"
    mkdir -p "$work/rootfs"
    tar -C "$work/rootfs" --numeric-owner --xattrs --xattrs-include='*' -xpf "$base_tar"
else
    "$here/build-rootfs.sh" "$work/rootfs"
    mkdir -p "$(dirname "$base_tar")"
    rm -f "$(dirname "$base_tar")"/*.tar
    tar -C "$work/rootfs" --numeric-owner --xattrs --xattrs-include='*' -cf "$base_tar.tmp" .
    mv "$base_tar.tmp" "$base_tar"
fi
"$here/configure-rootfs.sh" "$work/rootfs" "$units" "$out/keys/ssh_test_key.pub" \
    "$out/keys/ca.cert.pem" "$here/rootfs/system.conf" "$@"

k=$out/keys
"$here/set-version.sh" "$work/rootfs" 2
"$here/make-squashfs.sh" "$work/rootfs" "$work/v2.img"
"$here/make-bundle.sh" "$out/bundles/good.raucb" "$work/v2.img" 2 \
    "$k/signer.cert.pem" "$k/signer.key.pem" "$k/ca.cert.pem"
"$here/make-bundle.sh" "$out/bundles/foreign.raucb" "$work/v2.img" 2 \
    "$k/other-signer.cert.pem" "$k/other-signer.key.pem" "$k/other-ca.cert.pem"
rm -f "$work/v2.img"
"$here/set-version.sh" "$work/rootfs" 3-nomark nomark
"$here/make-squashfs.sh" "$work/rootfs" "$work/v3.img"
"$here/make-bundle.sh" "$out/bundles/nomark.raucb" "$work/v3.img" 3-nomark \
    "$k/signer.cert.pem" "$k/signer.key.pem" "$k/ca.cert.pem"
rm -f "$work/v3.img"
"$here/set-version.sh" "$work/rootfs" 1
"$here/make-squashfs.sh" "$work/rootfs" "$work/v1.img"

"$here/make-grub-cfg.sh" "$max_tries" > "$work/grub.cfg"
"$here/make-disk.sh" "$out/disk.raw" "$work/v1.img" "$work/grub.cfg" "$slot_mib" "$data_mib"

bundles_mib=$(($(du -sm "$out/bundles" | cut -f1) * 11 / 10 + 16))
rm -f "$out/bundles.ext4"
mkfs.ext4 -q -F -L bundles -d "$out/bundles" "$out/bundles.ext4" "${bundles_mib}M"
rm -rf "$work" "$out/bundles"

cat > "$out/image.env" <<ENV
CAIRN_IMAGE_VERSION=1
CAIRN_GOOD_VERSION=2
CAIRN_NOMARK_VERSION=3-nomark
CAIRN_MAX_TRIES=$max_tries
CAIRN_BUILD_SECONDS=$((SECONDS - start))
ENV
log "image ready in $out after $((SECONDS - start)) s"
