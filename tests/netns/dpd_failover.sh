#!/usr/bin/env bash
# Dead peer detection moves traffic to a redundant path, and the cut path
# comes back when restored (netns-lab/topology.sh "pair2"):
#
#   lan-a 10.1.0.2 -- a == gre-b   (u-b   198.18.11.x, OSPF cost 10) == b -- lan-b 10.2.0.2
#                       == gre-b-2 (u-b-2 198.18.12.x, OSPF cost 20) ==
#
# IKEv2 PSK, dpd-interval "1s", dpd-maximum-failures 3; FRR OSPF
# point-to-point over both tunnels with hello 1 s but dead interval 10 s, so
# that only mesh-site's DPD (the dead tunnel's interface going down) can move
# traffic within the 8 s allowed: OSPF by itself would wait 10 s.
#   1  both tunnels up, OSPF Full on both, lan-b reached via gre-b
#   2  under a steady ping, path 1 cut silently (both ends drop what
#      arrives on u-b/u-a): within 8 s (DPD: 4 s) both daemons report tunnel 1 not
#      "up", both sites route the far LAN via path 2, pings are answered
#      again; tunnel 2, busy now, stays up and is never declared dead
#   3  path 1 restored: tunnel 1 up again at both ends (the initiator
#      retries with backoff), OSPF Full on gre-b, the LANs routed via it
#
# usage: tests/netns/dpd_failover.sh [MESH_SITE_BINARY]
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
lab=$(dirname "$(readlink -f "$0")")/../../netns-lab
# shellcheck source=../../netns-lab/lib.sh
source "$lab/lib.sh"
# shellcheck source=../../netns-lab/topology.sh
source "$lab/topology.sh"

lab_init ping iptables
frr_require
lab_find_binary "${1:-}"
TOPO_DPD=1s:3 TOPO_OSPF_HELLO=1 TOPO_OSPF_DEAD=10 # read by topology.sh
topo_up pair2
p1=$(topo_find a-b:1) p2=$(topo_find a-b:2)
host_b=$(topo_host b)

routes_via() { # IFACE_AT_A IFACE_AT_B: both sites route the far LAN out of these only
    [[ $(topo_route_dev a b) == "$1" && $(topo_route_dev b a) == "$2" ]]
}

lab_info "(1) both tunnels up and OSPF Full on both; path 1 carries the LANs"
routes_via "${T_IFA[$p1]}" "${T_IFB[$p1]}" ||
    lab_die "(1) routes not via path 1: a -> b via $(topo_route_dev a b), b -> a via $(topo_route_dev b a)"
lab_ping_expect "${TOPO_LAN_NS[a]}" "$host_b" 10
topo_show_routing

lab_info "(2) cut path 1 under a steady ping"
lab_bg ping "${TOPO_LAN_NS[a]}" ping -n -D -O -i 0.05 -W 1 "$host_b"
replies() { (($(grep -c 'bytes from' "$LAB_DIR/ping.log") >= 10)); }
lab_wait 10 "10 replies to the ping before the cut" replies
cut_at=$(date +%s.%N) t0=$SECONDS
topo_cut "$p1"
tunnel1_down() { topo_tunnel_down "$p1"; }
lab_wait 8 "tunnel 1 to leave \"up\" at both ends after the cut (DPD 1s x 3: dead 4 s after the last packet)" tunnel1_down
lab_info "(2) tunnel 1 down at both ends $((SECONDS - t0)) s after the cut"
on_path2() { routes_via "${T_IFA[$p2]}" "${T_IFB[$p2]}"; }
lab_wait 8 "both sites to route the far LAN via path 2" on_path2
lab_info "(2) routes via path 2 $((SECONDS - t0)) s after the cut"
sleep 2
# `ping -D` prefixes each reply with its time: replies in the last second
# prove traffic flows again, and the longest silence between two replies
# since the cut is the outage.
gap=$("$LAB_PYTHON" - "$LAB_DIR/ping.log" "$cut_at" <<'PY'
import re, sys, time
cut = float(sys.argv[2])
times = [float(m.group(1)) for m in (re.match(r"\[(\d+\.\d+)\] \d+ bytes from", l) for l in open(sys.argv[1])) if m]
before = [t for t in times if t <= cut]
after = [t for t in times if t > cut]
if not before or not after or after[-1] < time.time() - 1:
    print("none")
else:
    window = before[-1:] + after
    print("%.2f" % max(b - a for a, b in zip(window, window[1:])))
PY
)
[[ $gap != none ]] || lab_die "(2) pings not answered again after the cut (none in the last second)"
lab_info "(2) pings answered again; the longest silence was ${gap} s"
awk -v g="$gap" 'BEGIN { exit !(g < 8) }' || lab_die "(2) ping silent for ${gap} s: longer than DPD (3 s) plus OSPF's reaction"
topo_tunnel_up "$p2" || lab_die "(2) tunnel 2 (busy now) is not up: a $(topo_tunnel_state a "${T_NAMEA[$p2]}"), b $(topo_tunnel_state b "${T_NAMEB[$p2]}")"
frr_ospf_full "${TOPO_NS[a]}" "${T_IFA[$p2]}" || lab_die "(2) no OSPF adjacency over path 2"
! frr_ospf_full "${TOPO_NS[a]}" "${T_IFA[$p1]}" || lab_die "(2) OSPF still Full over the cut path 1"
topo_show_routing

lab_info "(3) restore path 1: the tunnel comes back and carries the LANs again"
t0=$SECONDS
topo_restore "$p1"
tunnel1_back() { topo_tunnel_up "$p1" && topo_adjacent "$p1" && routes_via "${T_IFA[$p1]}" "${T_IFB[$p1]}"; }
lab_wait 30 "tunnel 1 up, OSPF Full over it and the LANs routed via it again" tunnel1_back
lab_info "(3) tunnel 1 back and routed $((SECONDS - t0)) s after the restore"
lab_ping_expect "${TOPO_LAN_NS[a]}" "$host_b" 10
lab_kill ping

# Tunnel 2 carried the traffic through the cut: DPD must not have called it dead.
for s in a b; do
    name=${T_NAMEA[$p2]}
    [[ $s == b ]] && name=${T_NAMEB[$p2]}
    if grep -E "peer dead" "$LAB_DIR/mesh-site-$s.log" | grep -qE "(^|[^A-Za-z0-9-])$name([^A-Za-z0-9-]|$)"; then
        lab_die "site $s declared the busy path-2 peer '$name' dead"
    fi
done
lab_info "PASS: dpd_failover"
