#!/usr/bin/env bash
# BFD over the tunnels moves traffic off a cut path long before DPD could,
# and stays up while the tunnels are saturated (netns-lab/topology.sh
# "pair2", FRR's bfdd beside ospfd in each site):
#
#   lan-a 10.1.0.2 -- a == gre-b   (u-b   198.18.11.x, OSPF cost 10) == b -- lan-b 10.2.0.2
#                       == gre-b-2 (u-b-2 198.18.12.x, OSPF cost 20) ==
#
# IKEv2 PSK with DPD 1s x 3 (a silent peer is dead after 4 s); OSPF
# point-to-point, hello 1 s, dead 10 s; BFD 50 ms x 3 on both tunnels (`ip
# ospf bfd`, profile "tunnels"). Neither DPD nor OSPF alone can move traffic
# within 1 s: only BFD can.
#   1  both BFD sessions Up at both sites (vtysh: show bfd peers), OSPF Full
#      on both tunnels, path 1 carries the LANs
#   2  under the lab probe (100 datagrams/s each way), path 1 cut silently:
#      bfdd at both sites logs the session to path 1's far end going down,
#      both sites route the far LAN via path 2 while mesh-site still holds
#      tunnel 1 "up" (DPD has not acted), and the probe flows again within
#      1 s of the cut in both directions
#   3  path 1 restored: its BFD session Up again, OSPF Full, the LANs routed
#      via it
#   4  iperf3 --bidir over both tunnels at once for 10 s, 200 Mbit/s each
#      way on each (a third of what a tunnel carries here), under the probe:
#      every BFD session stays Up with the same session ID and FRR's
#      session-down counter at 0, bfdd logs no session going down, no OSPF
#      adjacency leaves Full, no "peer dead". Saturated tunnels are the
#      benchmark's business (netns-lab/bench-failover.sh --load): there the
#      data plane's queues still hold BFD's packets too long (docs/lab.md).
#
# usage: tests/netns/bfd_failover.sh [MESH_SITE_BINARY]
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
lab=$(dirname "$(readlink -f "$0")")/../../netns-lab
# shellcheck source=../../netns-lab/lib.sh
source "$lab/lib.sh"
# shellcheck source=../../netns-lab/topology.sh
source "$lab/topology.sh"

lab_init iptables iperf3
frr_require
lab_find_binary "${1:-}"
TOPO_DPD=1s:3 TOPO_BFD=50ms:3 TOPO_OSPF_HELLO=1 TOPO_OSPF_DEAD=10 # read by topology.sh
topo_up pair2
p1=$(topo_find a-b:1) p2=$(topo_find a-b:2)

routes_via() { # IFACE_AT_A IFACE_AT_B: both sites route the far LAN out of these only
    [[ $(topo_route_dev a b) == "$1" && $(topo_route_dev b a) == "$2" ]]
}
# bfd_up T: both sites' bfdd have the session over tunnel T Up.
bfd_up() {
    frr_bfd_up "${TOPO_NS[a]}" "$(topo_tun_addr "$1" b)" && frr_bfd_up "${TOPO_NS[b]}" "$(topo_tun_addr "$1" a)"
}

lab_info "(1) BFD Up on both tunnels at both sites, OSPF Full on both, path 1 carries the LANs"
both_bfd_up() { bfd_up "$p1" && bfd_up "$p2"; }
lab_wait 20 "both BFD sessions Up at both sites" both_bfd_up
pretty "${TOPO_NS[a]}" "vtysh -c 'show bfd peers brief'"
vty "${TOPO_NS[a]}" "show bfd peers brief" >&2
on_path1() { routes_via "${T_IFA[$p1]}" "${T_IFB[$p1]}"; }
lab_wait 20 "both sites to route the far LAN via path 1" on_path1

lab_info "(2) cut path 1 under the probe"
lab_bg probe-a "${TOPO_LAN_NS[a]}" "$LAB_PYTHON" "$lab/probe.py" run --peer "$(topo_host b)" --log "$LAB_DIR/probe-a.rx"
lab_bg probe-b "${TOPO_LAN_NS[b]}" "$LAB_PYTHON" "$lab/probe.py" run --peer "$(topo_host a)" --log "$LAB_DIR/probe-b.rx"
lab_wait 10 "the probe flowing both ways" test -s "$LAB_DIR/probe-a.rx" -a -s "$LAB_DIR/probe-b.rx"
sleep 1
downs0=$(topo_bfd_downs)
echo "$(date +%s.%N) cut cut#1" >"$LAB_DIR/events"
t0=$SECONDS
topo_cut "$p1"
on_path2() { routes_via "${T_IFA[$p2]}" "${T_IFB[$p2]}"; }
lab_wait 4 "both sites to route the far LAN via path 2" on_path2
state_a=$(topo_tunnel_state a "${T_NAMEA[$p1]}") state_b=$(topo_tunnel_state b "${T_NAMEB[$p1]}")
lab_info "(2) routes via path 2 within $((SECONDS - t0)) s; mesh-site's tunnel 1: a $state_a, b $state_b"
# DPD (1s x 3) needs 4 s of silence: a tunnel still "up" proves BFD moved the routes.
[[ $state_a == up && $state_b == up ]] ||
    lab_die "(2) tunnel 1 already down in mesh-site (a $state_a, b $state_b): DPD, not BFD, moved the traffic"
((SECONDS - t0 < 4)) || lab_die "(2) rerouting took $((SECONDS - t0)) s: DPD's time, not BFD's"
(($(topo_bfd_downs) >= downs0 + 2)) || lab_die "(2) bfdd did not log the path-1 session going down at both sites"
grep -h 'state-change: .* up -> down' "$(frr_run_dir "${TOPO_NS[a]}")/bfdd.log" "$(frr_run_dir "${TOPO_NS[b]}")/bfdd.log" |
    grep -q "peer:$(topo_tun_addr "$p1" b) " || lab_die "(2) bfdd at a logged no down for path 1's far end $(topo_tun_addr "$p1" b)"
sleep 2
echo "$(date +%s.%N) restore restore#1" >>"$LAB_DIR/events"
lab_kill probe-a
lab_kill probe-b
"$LAB_PYTHON" "$lab/probe.py" analyze --events "$LAB_DIR/events" \
    --flow "a->b=$LAB_DIR/probe-b.rx" --flow "b->a=$LAB_DIR/probe-a.rx" >&2
IFS=, read -r _ _ recovery _ lost < <("$LAB_PYTHON" "$lab/probe.py" analyze --csv --events "$LAB_DIR/events" \
    --flow "a->b=$LAB_DIR/probe-b.rx" --flow "b->a=$LAB_DIR/probe-a.rx")
lab_info "(2) the probe flowed again $recovery s after the cut, $lost lost (the worse direction)"
awk -v r="$recovery" 'BEGIN { exit !(r < 1) }' || lab_die "(2) the probe was back only $recovery s after the cut: not BFD's 150 ms"

lab_info "(3) restore path 1: BFD Up, OSPF Full and the LANs routed via it again"
topo_restore "$p1"
t0=$SECONDS
path1_back() { topo_tunnel_up "$p1" && bfd_up "$p1" && topo_adjacent "$p1" && routes_via "${T_IFA[$p1]}" "${T_IFB[$p1]}"; }
lab_wait 30 "tunnel 1 up, its BFD session Up, OSPF Full and the LANs routed via it" path1_back
lab_info "(3) path 1 back $((SECONDS - t0)) s after the restore"

lab_info "(4) iperf3 --bidir over both tunnels for 10 s, 200 Mbit/s each way: BFD, OSPF and DPD must hold"
lab_wait 20 "both BFD sessions Up at both sites" both_bfd_up
lab_bg probe-a "${TOPO_LAN_NS[a]}" "$LAB_PYTHON" "$lab/probe.py" run --peer "$(topo_host b)" --log "$LAB_DIR/probe-a.rx"
lab_bg probe-b "${TOPO_LAN_NS[b]}" "$LAB_PYTHON" "$lab/probe.py" run --peer "$(topo_host a)" --log "$LAB_DIR/probe-b.rx"
before=$(topo_bfd_sessions) downs0=$(topo_bfd_downs) adj0=$(topo_ospf_adjacency_losses)
dead0=$(cat "$LAB_DIR"/mesh-site-*.log | grep -c 'peer dead' || true)
while read -r t ab ba; do
    lab_info "(4) tunnel $t: $ab Gbit/s a -> b, $ba Gbit/s back"
done < <(topo_load 10 200M)
after=$(topo_bfd_sessions)
dead1=$(cat "$LAB_DIR"/mesh-site-*.log | grep -c 'peer dead' || true)
lab_kill probe-a
lab_kill probe-b
pretty "${TOPO_NS[a]}" "vtysh -c 'show bfd peers counters'"
vty "${TOPO_NS[a]}" "show bfd peers counters" >&2
# The same sessions (site, peer, interface, ID), Up, FRR's session-down counter 0.
[[ $(awk '{ print $1, $2, $3, $5 }' <<<"$before") == $(awk '{ print $1, $2, $3, $5 }' <<<"$after") ]] ||
    lab_die "(4) BFD sessions re-created under load (a session went down): before
$before
after
$after"
awk '$4 != "up" || $6 != 0 { bad = 1 } END { exit bad }' <<<"$after" ||
    lab_die "(4) a BFD session not Up or with session-down > 0 after the load:
$after"
(($(topo_bfd_downs) == downs0)) || lab_die "(4) bfdd logged $(($(topo_bfd_downs) - downs0)) sessions going down under load"
(($(topo_ospf_adjacency_losses) == adj0)) || lab_die "(4) $(($(topo_ospf_adjacency_losses) - adj0)) OSPF adjacencies left Full under load"
((dead1 == dead0)) || lab_die "(4) 'peer dead' $((dead1 - dead0)) times under load"
lab_info "(4) 4 BFD sessions Up throughout (same IDs, session-down 0), no OSPF adjacency lost, no 'peer dead'"
lab_info "PASS: bfd_failover"
