#!/usr/bin/env bash
# make-keys.sh OUTDIR
# Throwaway keys for one image build (never committed, regenerated per build):
#   ca.{key,cert}.pem          the CA the image trusts (/etc/rauc/ca.cert.pem)
#   signer.{key,cert}.pem      bundle signing key issued by that CA
#   other-ca.*, other-signer.* an unrelated CA and signer: its bundles must be refused
#   ssh_test_key(.pub)         root's login key, accepted by the test image only
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
need openssl openssl
need ssh-keygen openssh-client
out=$1
mkdir -p "$out"
chmod 700 "$out"

ca() { # ca NAME SUBJECT
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$out/$1.key.pem" -out "$out/$1.cert.pem" -days 3650 -subj "$2" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        2>/dev/null
}
signer() { # signer NAME CA SUBJECT
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$out/$1.key.pem" -out "$out/$1.csr" -subj "$3" 2>/dev/null
    printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' > "$out/$1.ext"
    openssl x509 -req -in "$out/$1.csr" -CA "$out/$2.cert.pem" -CAkey "$out/$2.key.pem" \
        -CAcreateserial -days 3650 -extfile "$out/$1.ext" -out "$out/$1.cert.pem" 2>/dev/null
    rm -f "$out/$1.csr" "$out/$1.ext"
}
ca ca "/O=Cairn test appliance/CN=Cairn test CA"
signer signer ca "/O=Cairn test appliance/CN=Cairn test bundle signer"
ca other-ca "/O=Somebody else/CN=Foreign CA"
signer other-signer other-ca "/O=Somebody else/CN=Foreign bundle signer"
ssh-keygen -q -t ed25519 -N '' -C cairn-test-image-only -f "$out/ssh_test_key"
log "keys in $out"
