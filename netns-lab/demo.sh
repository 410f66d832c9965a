#!/usr/bin/env bash
# The lab demo README's Quick start gives: installs what is missing, builds
# mesh-site, then brings up three sites in a full mesh (netns-lab/topology.sh
# "mesh3": one mesh-site and one FRR zebra + bfdd + ospfd per site, OSPF
# point-to-point with BFD over every tunnel, each site's LAN announced), shows the
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
# BFD every 50 ms, down after 3 missed: OSPF reroutes about 0.15 s after
# the cut. DPD 1 s x 3 deletes the dead path's SAs and takes its interface
# down 4 s after the cut, which moves no traffic any more. Without BFD
# (`--bfd ''`, or BFD when the machine is too busy to keep it up), DPD
# 200ms x 3 reroutes within a second: `--bfd '' --dpd 200ms:3`.
exec bash netns-lab/failover.sh --binary "$PWD/build/tools/mesh-site" --topology mesh3 \
    --bfd 50ms:3 --dpd 1s:3 --cuts 1 --show "$@"
