#!/usr/bin/env bash
# The lab demo README's Quick start gives: installs what is missing, builds
# mesh-site, then brings up three sites in a full mesh (netns-lab/topology.sh
# "mesh3": one mesh-site and one FRR zebra + ospfd per site, OSPF
# point-to-point over every tunnel, each site's LAN announced), shows the
# OSPF adjacencies and routes, cuts the underlay between site a and site b
# under a 100 packets/s probe between their LANs, prints how long traffic
# took to flow again (through site c) and how many packets were lost,
# restores the link and waits for the tunnel to come back. Everything is
# removed at the end, also when interrupted (netns-lab/failover.sh).
# About a minute. Other shapes: `bash netns-lab/demo.sh --topology pair2`
# (two sites over two paths); any option of netns-lab/failover.sh is passed on.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target mesh-site
# DPD every 200 ms, dead after 3 unanswered: the tunnel's interface goes
# down within a second of the cut and OSPF reroutes at once.
exec bash netns-lab/failover.sh --binary "$PWD/build/tools/mesh-site" --topology mesh3 \
    --dpd 200ms:3 --cuts 1 --show "$@"
