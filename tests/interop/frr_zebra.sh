#!/usr/bin/env bash
# Interop with FRRouting 8.4 (netns-lab/topology.sh "pair"): two sites, one
# mesh-site GRE tunnel between them, FRR's zebra and ospfd in each site, and
# mesh-site announcing the tunnel's static route to zebra (zebra-socket).
# What FRR's own vtysh must say:
#   (a) the OSPF adjacency over the tunnel is Full at both ends, and the LANs
#       reach each other through it;
#   (b) mesh-site's route is in `show ip route` as type nhrp, selected, over
#       the tunnel interface, at its route-distance;
#   (c) zebra restarted under mesh-site: the route comes back by itself;
#   (d) the peer killed (no Delete): after DPD the route is the leak-guard
#       blackhole at distance 254, tagged 254, and nothing is routed to the
#       far LAN through the tunnel;
#   (e) mesh-site stopped with SIGTERM: its routes are withdrawn from zebra.
# usage: frr_zebra.sh /path/to/mesh-site
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../netns-lab/lib.sh"
source "$here/../../netns-lab/topology.sh"
MESH_SITE=${1:?usage: frr_zebra.sh MESH_SITE}
lab_init vtysh

TOPO_ZEBRA=1 TOPO_STATIC=1 TOPO_DPD=1s:3
topo_up pair
a=${TOPO_NS[a]} b=${TOPO_NS[b]} far=$(topo_lan b)

# route_summary NS PREFIX: zebra's nhrp route for PREFIX (`show ip route nhrp
# json`) as "nhrp selected=True distance=10 via=gre-b tag=0", or "none".
route_summary() {
    local json
    json=$(vty "$1" "show ip route nhrp json")
    "$LAB_PYTHON" -c '
import json, sys
routes = json.loads(sys.argv[1] or "{}").get(sys.argv[2]) or []
if not routes:
    print("none")
    sys.exit()
r = routes[0]
hop = r["nexthops"][0]
via = "blackhole" if hop.get("blackhole") else hop.get("interfaceName", "?")
print("%s selected=%s distance=%s via=%s tag=%s" % (r["protocol"], r.get("selected", False), r["distance"], via, r.get("tag", 0)))' "$json" "$2"
}
nhrp_route_is() { [[ $(route_summary "$1" "$2") == "$3" ]]; }

lab_info "(a) OSPF Full over the tunnel, LAN to LAN"
frr_ospf_full "$a" gre-b || lab_die "no Full OSPF neighbor on gre-b in site a"
frr_ospf_full "$b" gre-a || lab_die "no Full OSPF neighbor on gre-a in site b"
pretty "$a" "vtysh -c 'show ip ospf neighbor'"
vty "$a" "show ip ospf neighbor" >&2
lab_ping_expect "${TOPO_LAN_NS[a]}" "$(topo_host b)" 5

lab_info "(b) mesh-site's route in zebra: type nhrp, selected, via gre-b, distance 10"
lab_wait 10 "zebra in site a to select the nhrp route to $far" \
    nhrp_route_is "$a" "$far" "nhrp selected=True distance=10 via=gre-b tag=0"
pretty "$a" "vtysh -c 'show ip route $far'"
vty "$a" "show ip route $far" >&2
ip -n "$a" -4 route show "$far" | grep -Eq "dev gre-b proto nhrp|proto nhrp.*dev gre-b" ||
    lab_die "zebra did not put the nhrp route into the kernel: $(ip -n "$a" -4 route show "$far")"

lab_info "(c) zebra restarted under mesh-site: the route is announced again"
run=$(frr_run_dir "$a")
zebra_pid=$(<"$run/zebra.pid")
n "$a" kill "$zebra_pid"
lab_wait 10 "the old zebra to exit" bash -c "! kill -0 $zebra_pid 2>/dev/null"
n "$a" "$FRR_BIN/zebra" -N "$a" -d -P 0 -f "$(frr_conf_dir "$a")/zebra.conf" || lab_die "zebra did not start again"
lab_wait 20 "mesh-site to announce $far to the new zebra" \
    nhrp_route_is "$a" "$far" "nhrp selected=True distance=10 via=gre-b tag=0"
lab_alive mesh-site-a || lab_die "mesh-site (site a) exited when zebra went away"
connects=$(tmesh a status --json | "$LAB_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["routing"]["counters"]["connects"])')
((connects >= 2)) || lab_die "mesh-site's zebra client says it connected $connects time(s), expected 2"

lab_info "(d) site b killed: after DPD, the leak-guard blackhole stands in for the route"
n "$b" kill -KILL "${LAB_PID[mesh-site-b]}"
unset "LAB_PID[mesh-site-b]"
lab_wait 15 "the route in site a to become the blackhole" \
    nhrp_route_is "$a" "$far" "nhrp selected=True distance=254 via=blackhole tag=254"
ip -n "$a" -4 route show "$far" | grep -q "^blackhole" ||
    lab_die "no blackhole for $far in the kernel of site a: $(ip -n "$a" -4 route show "$far")"
pretty "$a" "vtysh -c 'show ip route $far'"
vty "$a" "show ip route $far" >&2

lab_info "(e) mesh-site stopped with SIGTERM: zebra holds no nhrp route of it any more"
pid=${LAB_PID[mesh-site-a]}
unset "LAB_PID[mesh-site-a]"
n "$a" kill -TERM "$pid"
lab_wait 10 "mesh-site (site a) to exit" bash -c "! kill -0 $pid 2>/dev/null"
lab_wait 5 "the nhrp route to leave zebra" nhrp_route_is "$a" "$far" none
[[ -z $(vty "$a" "show ip route nhrp") ]] || lab_die "nhrp routes left in zebra: $(vty "$a" "show ip route nhrp")"

lab_info "PASS: frr_zebra (a b c d e)"
