#!/usr/bin/env bash
# Install the Debian packages bench needs when they are missing, and say so.
# Usage: .ci/sysdeps.sh PACKAGE...   (root installs with apt-get; others get told what to run)
set -euo pipefail
missing=()
for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "bench: missing Debian packages: ${missing[*]}" >&2
    echo "bench: run as root: apt-get install -y ${missing[*]}" >&2
    exit 3
fi
echo "bench: installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if [ ! -f /var/lib/apt/periodic/bench-updated ] || [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock)" ]; then
    apt-get update -qq
    mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/bench-updated
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bench: installed ${missing[*]}"
