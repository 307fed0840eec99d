# A development RAUC CA and signing key, generated in the Nix store. The private key is
# world-readable there, so this keyring is only ever used with
# cairn.appliance.rauc.allowDevelopmentKeyring = true (never in production).
{ runCommand, openssl }:
runCommand "cairn-dev-keyring" { nativeBuildInputs = [ openssl ]; } ''
  mkdir -p $out
  cd $out
  openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj "/CN=Cairn development CA" \
    -keyout ca.key.pem -out ca.cert.pem
  openssl req -newkey rsa:3072 -nodes -subj "/CN=Cairn development signing" \
    -keyout signing.key.pem -out signing.csr.pem
  openssl x509 -req -in signing.csr.pem -CA ca.cert.pem -CAkey ca.key.pem -CAcreateserial \
    -days 3650 -out signing.cert.pem
  rm ca.key.pem signing.csr.pem
''
