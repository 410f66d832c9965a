#!/usr/bin/env bash
# Unpacks Debian 12's libreswan (4.10) under /opt/libreswan-4.10 for the
# interop tests (tests/interop/libreswan*.sh, harness netns-lab/libreswan.sh).
# The package is not installed with dpkg: it Conflicts with
# strongswan-libcharon and strongswan-starter, so apt would remove the
# strongSwan the other interop tests run. Its libraries come from
# tools/install-deps.sh, which calls this script. Nothing under /etc or /usr
# is written; pluto's compiled-in paths are bind-mounted per run instead.
# Idempotent: an unpacked tree is left as it is.
#   LIBRESWAN_DIR  where to unpack (default /opt/libreswan-4.10)
set -euo pipefail

dir=${LIBRESWAN_DIR:-/opt/libreswan-4.10}
[[ -x $dir/usr/libexec/ipsec/pluto ]] && exit 0

tmp=$(mktemp -d)
chmod 755 "$tmp" # apt-get download fetches as the user _apt
trap 'rm -rf "$tmp"' EXIT
echo "libreswan-install: unpacking Debian's libreswan into $dir"
# apt-get download needs the package lists; a fresh machine may have none.
(cd "$tmp" && apt-get download -q libreswan) || { apt-get update -q && (cd "$tmp" && apt-get download -q libreswan); }
deb=$(echo "$tmp"/libreswan_*.deb)
version=$(dpkg-deb -f "$deb" Version)
[[ $version == 4.10-* ]] || echo "libreswan-install: warning: Debian's libreswan is $version, the tests were written for 4.10" >&2
rm -rf "$dir.part" "$dir"
mkdir -p "$dir.part"
dpkg-deb -x "$deb" "$dir.part"
mv "$dir.part" "$dir"
