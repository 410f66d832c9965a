#!/usr/bin/env bash
# The lab demo: two sites joined by mesh-site over a veth "internet".
#
#   lan-a (10.1.0.2) -- site-a [mesh-site] ==ESP-in-UDP 4500== [mesh-site] site-b -- lan-b (10.2.0.2)
#                       192.0.2.1                                192.0.2.2
#
# (the full diagram is at the top of netns-lab/lib.sh). It builds the
# namespaces, writes static-SA configs with fresh random keys, starts one
# mesh-site per site, pings LAN to LAN, shows `mesh-site status` of both
# sides, runs a short iperf3 across and cleans up on exit or Ctrl-C.
#
# usage: netns-lab/two-site.sh [--algorithm ALG] [--binary PATH] [--build] [--time SECONDS] [--keep]
#   ALG: aes-128-gcm (default), aes-256-gcm, chacha20-poly1305, aes-128-cbc, aes-256-cbc
#        (the CBC ones with HMAC-SHA-256-128)
#   --binary: the mesh-site to run (default: $MESH_SITE, else build/tools/mesh-site)
#   --build: first install what is missing (tools/install-deps.sh) and
#            (re)build build/tools/mesh-site; done anyway when no binary is given
#            and build/tools/mesh-site does not exist (a fresh checkout)
#   --keep: leave everything running until Ctrl-C, printing how to get in
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$(readlink -f "$0")")/lib.sh"

algorithm=aes-128-gcm binary='' seconds=5 keep=0 build=0
while (($#)); do
    case $1 in
        --algorithm | -a) algorithm=$2; shift 2 ;;
        --binary | -b) binary=$2; shift 2 ;;
        --time | -t) seconds=$2; shift 2 ;;
        --keep | -k) keep=1; shift ;;
        --build) build=1; shift ;;
        -h | --help) sed -n '2,22s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done

if ((build)) || [[ -z $binary && -z ${MESH_SITE:-} && ! -x $LAB_ROOT/build/tools/mesh-site ]]; then
    lab_build
fi
lab_init iperf3 ping
lab_find_binary "$binary"
lab_key_bytes "$algorithm" >/dev/null

lab_info "building the two-site topology (namespaces end in -$$)"
lab_two_site_topology

lab_info "checking the underlay: site-a -> site-b"
lab_ping_expect "$SITE_A" "$UNDERLAY_B" 3

lab_info "starting mesh-site in both sites ($algorithm, static SAs)"
lab_write_site_configs "$algorithm"
lab_site_start a
lab_site_start b

lab_info "LAN to LAN through the tunnel"
lab_ping_expect "$LAN_A" "$HOST_B" 10
lab_ping_expect "$LAN_B" "$HOST_A" 10

lab_info "iperf3 ${seconds}s, lan-a -> lan-b"
lab_iperf_server "$LAN_B"
gbps=$(lab_iperf "$LAN_A" "$HOST_B" "$seconds")
lab_info "throughput: $gbps Gbit/s"

lab_info "mesh-site status, site-a"
mesh a status
lab_info "mesh-site status, site-b"
mesh b status

if ((keep)); then
    lab_info "running; Ctrl-C tears everything down. Try:"
    cat >&2 <<EOF
    ip netns exec $LAN_A ping $HOST_B
    ip netns exec $SITE_A $MESH_SITE status -c $LAB_DIR/site-a.toml
    ip netns exec $SITE_A $MESH_SITE keys --wireshark esp -c $LAB_DIR/site-a.toml
    ip netns exec $SITE_A tcpdump -ni wan0 udp port 4500
    logs: $LAB_DIR/*.log
EOF
    while lab_alive mesh-site-a && lab_alive mesh-site-b; do sleep 1; done
    lab_die "a mesh-site exited"
fi
lab_info "done; cleaning up"
