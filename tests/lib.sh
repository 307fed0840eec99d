# Shared helpers for the test scripts: named steps, a summary, loud failures.
# shellcheck shell=bash

STEPS_PASSED=0
STEPS_FAILED=0
FAILED_STEPS=()

# step NAME CMD...: runs CMD, records the outcome, never aborts the run.
step() {
  local name=$1
  shift
  local start=$SECONDS
  echo "==> ${name}"
  if "$@"; then
    STEPS_PASSED=$((STEPS_PASSED + 1))
    echo "==> ${name}: ok ($((SECONDS - start)) s)"
  else
    STEPS_FAILED=$((STEPS_FAILED + 1))
    FAILED_STEPS+=("${name}")
    echo "==> ${name}: FAILED ($((SECONDS - start)) s)"
  fi
}

# need CMD PACKAGE: fails loudly, naming the Debian package, when CMD is missing.
need() {
  command -v "$1" >/dev/null 2>&1 || {
    echo "missing: '$1' — install the Debian package '$2'" >&2
    return 1
  }
}

# apt_install PKG...: installs Debian packages that are not installed yet.
apt_install() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root or install them first)" >&2
    return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" && return 0
  # The appliance's qemu comes from bookworm-backports and may have upgraded shared
  # libraries (libdrm, gbm, wayland); -dev packages must then match them from there.
  if grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "retrying with bookworm-backports as the target release: ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t bookworm-backports "${missing[@]}"
  else
    return 1
  fi
}

summary() {
  echo
  if [ "${STEPS_FAILED}" -gt 0 ]; then
    echo "failed steps: ${FAILED_STEPS[*]}"
  fi
  echo "${STEPS_PASSED} passed, ${STEPS_FAILED} failed"
  [ "${STEPS_FAILED}" -eq 0 ]
}
