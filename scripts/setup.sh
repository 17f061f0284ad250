#!/usr/bin/env bash
# Installs what mdsrec needs and does not find: Debian packages (when run as root;
# otherwise it lists them and stops) and the npm dev dependencies (npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS="cmake make gcc emscripten libcjson-dev libstb-dev libopenblas-dev zlib1g-dev chromium clang-14 libclang-rt-14-dev wabt clang-19 lld-19 openmpi-bin libopenmpi-dev"
missing=()
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "mdsrec setup: installing Debian packages: ${missing[*]}"
    # another apt or dpkg run (unattended upgrades, a second terminal) holds the lock: wait for
    # it, as apt itself can, instead of failing at once
    lock="-o DPkg::Lock::Timeout=600"
    if fuser /var/lib/dpkg/lock-frontend /var/lib/apt/lists/lock >/dev/null 2>&1; then
      echo "mdsrec setup: another package manager is running; waiting for it (up to 10 minutes)"
    fi
    apt-get $lock update -q
    DEBIAN_FRONTEND=noninteractive apt-get $lock install -y -q "${missing[@]}"
  else
    echo "mdsrec setup: these Debian packages are missing: ${missing[*]}" >&2
    echo "  install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "mdsrec setup: npm ci"
  npm ci --no-audit --no-fund
fi
