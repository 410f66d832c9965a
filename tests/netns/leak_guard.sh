#!/usr/bin/env bash
# A tunnel that is down leaks nothing: with one path and no FRR
# (netns-lab/topology.sh "pair routing=none": each tunnel routes the far LAN
# with its static `routes`), site a also has a default route out of its
# underlay, straight at site b:
#
#   lan-a 10.1.0.2 -- a [u-b 198.18.11.1] ---- [198.18.11.2 u-a] b -- lan-b 10.2.0.2
#                       gre-b (routes = ["10.2.0.0/24"])
#                       default via 198.18.11.2 dev u-b   <- where a leak would go
#
#   1  the tunnel is up and lan-a reaches lan-b through it
#   2  site b's mesh-site is killed (SIGKILL: no Delete); with dpd-interval
#      "1s" x 3, site a declares the peer dead within 8 s and reports its
#      tunnel not "up"
#   3  lan-a pings lan-b for 3 s: no answer, and a capture of what leaves
#      site a's underlay (tcpdump -Q out on u-b, from before the kill)
#      holds nothing addressed to 10.2.0.0/24: only IKE (UDP 500/4500),
#      ESP-in-UDP and ARP
#   4  control: a host route 10.2.0.99/32 via the underlay, one ping to it,
#      and the same capture does show that clear packet, so it would have
#      seen a leak
#
# usage: tests/netns/leak_guard.sh [MESH_SITE_BINARY]
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
lab=$(dirname "$(readlink -f "$0")")/../../netns-lab
# shellcheck source=../../netns-lab/lib.sh
source "$lab/lib.sh"
# shellcheck source=../../netns-lab/topology.sh
source "$lab/topology.sh"

lab_init ping tcpdump
lab_find_binary "${1:-}"
TOPO_DPD=1s:3
topo_up pair routing=none
t=$(topo_find a-b) ns_a=${TOPO_NS[a]} lan_a=${TOPO_LAN_NS[a]} host_b=$(topo_host b)
n "$ns_a" ip route add default via "${T_UB[$t]}" dev "${T_IFUA[$t]}"

lab_info "(1) tunnel up, lan-a -> lan-b through it"
lab_ping_expect "$lan_a" "$host_b" 10
n "$ns_a" ip -4 route show

lab_info "(2) SIGKILL to site b's mesh-site; site a's DPD must declare it dead"
lab_capture_start capture "$ns_a" "${T_IFUA[$t]}" -Q out
pretty "${TOPO_NS[b]}" "kill -KILL mesh-site (site b)"
kill -KILL "${LAB_PID[mesh-site-b]}"
t0=$SECONDS
a_down() { [[ $(topo_tunnel_state a "${T_NAMEA[$t]}") != up ]]; }
lab_wait 8 "site a's tunnel to leave \"up\" (DPD 1s x 3) after site b's daemon was killed" a_down
lab_info "(2) site a: tunnel $(topo_tunnel_state a "${T_NAMEA[$t]}") $((SECONDS - t0)) s after the kill"
n "$ns_a" ip -4 route show
n "$ns_a" ip route get "$host_b" from "$(topo_host a)" iif lan0 || true

lab_info "(3) lan-a pings lan-b while the tunnel is down"
got=$(lab_ping "$lan_a" "$host_b" 60)
((got == 0)) || lab_die "(3) $got replies from $host_b with the tunnel down: they went around it"

lab_info "(4) control: a clear packet to 10.2.0.99 over the underlay is seen by the capture"
n "$ns_a" ip route add 10.2.0.99/32 via "${T_UB[$t]}" dev "${T_IFUA[$t]}"
lab_ping "$lan_a" 10.2.0.99 3 >/dev/null
lab_capture_stop capture

count() { tcpdump -n -r "$LAB_DIR/capture.pcap" "$@" 2>/dev/null | wc -l; }
leaked=$(count "ip and dst net 10.2.0.0/24 and not dst host 10.2.0.99")
control=$(count "ip and dst host 10.2.0.99")
other=$(count "not arp and not (udp port 500 or udp port 4500 or ip proto 50) and not dst host 10.2.0.99")
lab_info "capture of what left u-b: $(count "") packets; $(count "udp port 4500 or udp port 500") IKE/ESP-in-UDP, $leaked clear to the remote LAN, $control of the control, $other else"
if ((leaked > 0)); then
    tcpdump -n -r "$LAB_DIR/capture.pcap" "ip and dst net 10.2.0.0/24 and not dst host 10.2.0.99" 2>/dev/null | head -n 5 >&2
    lab_die "(3) $leaked packets for the remote LAN left the underlay in clear while the tunnel was down"
fi
((other == 0)) || lab_die "(3) $other packets left the underlay that are neither IKE, ESP nor ARP"
((control > 0)) || lab_die "(4) the capture did not see the control packet: it proves nothing"
lab_info "PASS: leak_guard"
