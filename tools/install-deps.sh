#!/usr/bin/env bash
# Installs every Debian 12 package that building, testing and the netns lab need.
# Idempotent: a machine that has them all does not touch apt.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config git
  libbotan-2-dev libssl-dev libnl-3-dev libnl-route-3-dev libboost-dev libcli11-dev
  doctest-dev libtomlplusplus-dev libspdlog-dev nlohmann-json3-dev
  # the service: sd_notify (READY, STATUS, WATCHDOG) and journal fields
  libsystemd-dev
  # packaging: man pages from docs/, the .deb's shlibdeps, its install test
  pandoc dpkg-dev fakeroot file debootstrap systemd zstd
  # libFuzzer: clang 16, since clang 14 cannot compile libstdc++ 12's
  # std::expected and std::variant of types with real destructors
  clang-16 libclang-rt-16-dev
  # lab and tests
  iproute2 iputils-ping iperf3 iptables conntrack tcpdump tshark procps psmisc
  python3 ca-certificates
  # the netns certificate tests and unit.import-routeros make their PKI with it
  openssl
  # promtool checks the metrics exposition; dnsmasq serves the DNS-named peer test
  prometheus dnsmasq-base
  # tests/netns/firewall_docs.sh loads docs/firewall.md's ruleset
  nftables
  # tests/CMakeLists.txt: unit.shellcheck_* check the lab and test scripts
  shellcheck
  # references in the same runs: wireguard-go, strongSwan (kernel-libipsec), FRR
  wireguard-go wireguard-tools
  strongswan-charon strongswan-swanctl strongswan-pki libcharon-extra-plugins
  libstrongswan-standard-plugins
  frr
  # libreswan 4.10's libraries; its own package is unpacked, not installed
  # (netns-lab/libreswan-install.sh says why)
  libevent-pthreads-2.1-7 libldns3 libnss3-tools libcurl3-nss libunbound8 libcap-ng0
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
bash "$(dirname "$0")/../netns-lab/libreswan-install.sh"
