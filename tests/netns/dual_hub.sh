#!/usr/bin/env bash
# Two hubs and BGP (netns-lab/topology.sh "dualhub"): every branch has a
# tunnel to each hub, both hubs are FRR iBGP route reflectors, and a hub
# killed under a 100 packets/s probe between two branches costs less than a
# second of traffic. Neither hub names a branch: one template peer
# (fqdn:*.branch.lab, a key per branch) whose mode gre instances take a /31
# of the hub's pool each, the branch's end handed out by mode config, and
# bgpd's `bgp listen range` on the pool:
#
#              h1 ========== h2            (hubs: passive, route reflectors,
#             // \\        // \\            next-hop-self, iBGP between them;
#     b1 ===//== b2 ====//== b3 ...         instances br<N>, BRANCHES peer-group)
#                                          (each branch: gre-h1 and gre-h2 with
#                                           mode-config = "request",
#                                           maximum-paths ibgp 2, DPD 100ms x 3)
#
#   0  each hub has one [peer] and one [tunnel] and no BGP neighbor per
#      branch; every branch's gre-h1 and gre-h2 have the /31 end the hub's
#      instance for it names (topo_learn_templates), and each hub lists the
#      branches as dynamic BGP neighbors
#   1  FRR's vtysh on every branch: each other branch's LAN learned from both
#      hubs (two multipath BGP paths) and installed over gre-h1 and gre-h2,
#      in zebra and in the kernel
#   2  the probe b1 <-> b2 at 100 packets/s each way; the hub carrying it is
#      killed (kill -9 to its mesh-site, zebra and bgpd: no IKE Delete, no
#      BGP Notification). The branches' DPD (dead after 400 ms of silence)
#      takes their tunnel to it down, the kernel drops that nexthop:
#      the probe's own counting shows a gap under 1 s in both directions;
#      afterwards b1 and b2 route each other over the healthy hub alone
#      (vtysh), the probe keeps flowing through it (its tunnel counters),
#      and no site said "peer dead" of anything but the killed hub: on the
#      healthy hub the peers-dead counter is its one tunnel to the dead hub
#   3  the killed hub restarted: every branch uses both hubs again, each on
#      the same instance interface and /31 as before (stable per identity)
#
# usage: tests/netns/dual_hub.sh [MESH_SITE_BINARY]
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
lab=$(dirname "$(readlink -f "$0")")/../../netns-lab
# shellcheck source=../../netns-lab/lib.sh
source "$lab/lib.sh"
# shellcheck source=../../netns-lab/topology.sh
source "$lab/topology.sh"

lab_init iptables
frr_require
lab_find_binary "${1:-}"
TOPO_DPD=100ms:3 # read by topology.sh
topo_up dualhub
branches=(b1 b2 b3)

# hub_addr BRANCH HUB: the hub's address on its tunnel to the branch (the BGP neighbor).
hub_addr() {
    local t
    t=$(topo_find "$2-$1")
    if [[ ${T_A[$t]} == "$2" ]]; then topo_tun_addr "$t" a; else topo_tun_addr "$t" b; fi
}

# routed_via BRANCH OTHER HUBS...: the branch learns OTHER's LAN from exactly
# these hubs (bgpd) and forwards it over their tunnels only (zebra and kernel).
routed_via() {
    local s=$1 o=$2 h peers=() ifaces=() want_peers want_ifaces prefix
    shift 2
    prefix=$(topo_lan "$o")
    for h in "$@"; do
        peers+=("$(hub_addr "$s" "$h")") ifaces+=("gre-$h")
    done
    want_peers=$(printf '%s\n' "${peers[@]}" | sort | paste -sd,)
    want_ifaces=$(printf '%s\n' "${ifaces[@]}" | sort | paste -sd,)
    [[ $(frr_bgp_paths "${TOPO_NS[$s]}" "$prefix") == "$want_peers" &&
        $(frr_route_ifaces "${TOPO_NS[$s]}" "$prefix") == "$want_ifaces" &&
        $(topo_route_dev "$s" "$o") == "$want_ifaces" ]]
}

# all_via HUBS...: every branch routes every other branch's LAN via these hubs.
all_via() {
    local s o
    for s in "${branches[@]}"; do
        for o in "${branches[@]}"; do
            [[ $s == "$o" ]] || routed_via "$s" "$o" "$@" || return 1
        done
    done
}

# why_not BRANCH OTHER: what bgpd, zebra and the kernel say about the route.
why_not() {
    local ns=${TOPO_NS[$1]} prefix
    prefix=$(topo_lan "$2")
    echo "$1 -> $2: bgp paths from '$(frr_bgp_paths "$ns" "$prefix")', zebra fib '$(frr_route_ifaces "$ns" "$prefix")', kernel '$(topo_route_dev "$1" "$2")'"
}

lab_info "(0) one template per hub: no [peer], [tunnel] or BGP neighbor per branch"
for h in h1 h2; do
    counted=$(tmesh "$h" status --json | "$LAB_PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
t = next(t for t in d["templates"] if t["name"] == "branches")
print(len(d["templates"]), t["instances-up"], sorted(i["branch"] for i in t["instances"]))')
    [[ $counted == "1 3 ['fqdn:b1.branch.lab', 'fqdn:b2.branch.lab', 'fqdn:b3.branch.lab']" ]] ||
        lab_die "(0) $h: templates, instances up, branches: $counted"
    npeers=$(grep -cE '^\[peer\.[^.]+\]$' "$LAB_DIR/site-$h.toml")
    ntunnels=$(grep -cE '^\[tunnel\.[^.]+\]$' "$LAB_DIR/site-$h.toml")
    ((npeers == 2 && ntunnels == 2)) || lab_die "(0) $h has $npeers [peer] and $ntunnels [tunnel], expected 2 each (the other hub and the template)"
    named=$(grep -cE '^ neighbor [0-9.]+ remote-as' "$(frr_conf_dir "${TOPO_NS[$h]}")/bgpd.conf")
    ((named == 1)) || lab_die "(0) $h's bgpd.conf names $named neighbors, expected 1 (the other hub)"
    dynamic=$(vty "${TOPO_NS[$h]}" "show bgp ipv4 unicast summary" | grep -c '^\*172\.' || true)
    ((dynamic == 3)) || lab_die "(0) $h lists $dynamic dynamic BGP neighbors, expected the 3 branches"
done
for s in "${branches[@]}"; do
    for h in h1 h2; do
        pretty "${TOPO_NS[$s]}" "ip -4 addr show dev gre-$h (by mode config)"
        ip -n "${TOPO_NS[$s]}" -4 -o addr show dev "gre-$h" | awk '{ print "    " $4 }' >&2
    done
done
pretty "${TOPO_NS[h1]}" "vtysh -c 'show bgp ipv4 unicast summary'"
vty "${TOPO_NS[h1]}" "show bgp ipv4 unicast summary" | sed -n '/^Neighbor/,$p' >&2

lab_info "(1) every branch learns every other branch's LAN through both hubs"
# topo_up saw every LAN routed; the second hub's paths may come a moment later.
deadline=$((SECONDS + 20))
until all_via h1 h2 || ((SECONDS > deadline)); do sleep 0.2; done
all_via h1 h2 || lab_die "(1) not every LAN via both hubs: $(why_not b1 b2); $(why_not b2 b1); $(why_not b3 b1)"
for s in b1 b2; do
    pretty "${TOPO_NS[$s]}" "vtysh -c 'show bgp ipv4 unicast $(topo_lan b3)'"
    vty "${TOPO_NS[$s]}" "show bgp ipv4 unicast $(topo_lan b3)" >&2
    pretty "${TOPO_NS[$s]}" "vtysh -c 'show ip route $(topo_lan b3)'"
    vty "${TOPO_NS[$s]}" "show ip route $(topo_lan b3)" >&2
done

lab_info "(2) probe b1 <-> b2 at 100 packets/s; kill the hub that carries it"
lab_bg probe-b1 "${TOPO_LAN_NS[b1]}" "$LAB_PYTHON" "$lab/probe.py" run --peer "$(topo_host b2)" --log "$LAB_DIR/probe-b1.rx"
lab_bg probe-b2 "${TOPO_LAN_NS[b2]}" "$LAB_PYTHON" "$lab/probe.py" run --peer "$(topo_host b1)" --log "$LAB_DIR/probe-b2.rx"
lab_wait 10 "the probe flowing b1 -> b2" test -s "$LAB_DIR/probe-b2.rx"
lab_wait 10 "the probe flowing b2 -> b1" test -s "$LAB_DIR/probe-b1.rx"

# tx HUB: packets the hub has sent into its instance for b2 (the kernel's count).
tx() { ip -n "${TOPO_NS[$1]}" -s -j link show dev "${T_IFA[$(topo_find "$1-b2")]}" | "$LAB_PYTHON" -c 'import json, sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["packets"])'; }
# rx_recent FILE: the probe received something in the last 1.5 s (it
# flushes its log every 0.5 s, later when the machine is loaded).
rx_recent() { "$LAB_PYTHON" -c 'import sys, time; print(float(open(sys.argv[1]).readlines()[-1].split()[2]) > time.time() - 1.5)' "$1" | grep -q True; }
h1_0=$(tx h1) h2_0=$(tx h2)
sleep 1
h1_1=$(tx h1) h2_1=$(tx h2)
if ((h1_1 - h1_0 >= h2_1 - h2_0)); then dead=h1 alive=h2; else dead=h2 alive=h1; fi
lab_info "(2) b1 -> b2 crosses $dead ($((h1_1 - h1_0)) packets a second through h1, $((h2_1 - h2_0)) through h2): killing $dead"
peers_dead() { tmesh "$1" status --json | "$LAB_PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["counters"]["ike"]["peers-dead"])'; }
dead_before=$(peers_dead "$alive")
echo "$(date +%s.%N) cut kill-$dead" >"$LAB_DIR/events"
topo_kill "$dead"
t0=$SECONDS
on_alive() { all_via "$alive"; }
lab_wait 10 "every branch to route the other branches over $alive alone" on_alive
lab_info "(2) every branch routes via $alive alone $((SECONDS - t0)) s after the kill"
# BGP's hold timer (3 s) ends the sessions to the dead hub; the probe goes on.
sessions_gone() {
    local s
    for s in "${branches[@]}"; do
        ! frr_bgp_established "${TOPO_NS[$s]}" "$(hub_addr "$s" "$dead")" || return 1
    done
}
lab_wait 10 "the branches' BGP sessions to $dead to end (hold 3 s)" sessions_gone
a0=$(tx "$alive")
sleep 1
through=$(($(tx "$alive") - a0))
((through >= 50)) || lab_die "(2) only $through probe packets a second through $alive towards b2 after the kill"
for f in probe-b1.rx probe-b2.rx; do
    rx_recent "$LAB_DIR/$f" || lab_die "(2) the probe is not flowing both ways after the kill ($f)"
done
pretty "${TOPO_NS[b1]}" "vtysh -c 'show ip route $(topo_lan b2)'"
vty "${TOPO_NS[b1]}" "show ip route $(topo_lan b2)" >&2

result=$("$LAB_PYTHON" "$lab/probe.py" analyze --events "$LAB_DIR/events" \
    --flow "b1->b2=$LAB_DIR/probe-b2.rx" --flow "b2->b1=$LAB_DIR/probe-b1.rx")
echo "$result" >&2
IFS=, read -r _ _ gap _ lost < <("$LAB_PYTHON" "$lab/probe.py" analyze --csv --events "$LAB_DIR/events" \
    --flow "b1->b2=$LAB_DIR/probe-b2.rx" --flow "b2->b1=$LAB_DIR/probe-b1.rx")
lab_info "(2) the probe's gap: $gap s, $lost packets lost (worse direction)"
awk -v g="$gap" 'BEGIN { exit !(g < 1.0) }' || lab_die "(2) traffic stopped for $gap s when $dead died: 1 s at most"

# No site may call anything but the dead hub dead; the healthy hub's counter
# holds its own tunnel to the dead hub and nothing else.
false_dead() {
    "$LAB_PYTHON" - "$1" "$dead" <<'PY'
import re, sys
print(sum(1 for line in open(sys.argv[1], errors="replace")
          if "peer dead" in line and sys.argv[2] not in re.split(r"[^A-Za-z0-9_.-]+", line)))
PY
}
for s in "${TOPO_SITES[@]}"; do
    [[ $s != "$dead" ]] || continue
    bad=$(false_dead "$LAB_DIR/mesh-site-$s.log")
    ((bad == 0)) || lab_die "(2) site $s logged $bad 'peer dead' for a peer other than $dead: $(grep 'peer dead' "$LAB_DIR/mesh-site-$s.log" | grep -v "$dead" | head -3)"
done
dead_logged=$(grep -c "peer dead" "$LAB_DIR/mesh-site-$alive.log" || true)
dead_after=$(peers_dead "$alive")
((dead_after - dead_before == dead_logged && dead_logged <= 1)) ||
    lab_die "(2) healthy hub $alive: peers-dead went from $dead_before to $dead_after, $dead_logged 'peer dead' logged (only its tunnel to $dead may die)"
lab_info "(2) healthy hub $alive: peers-dead $dead_before -> $dead_after (its tunnel to $dead), no false 'peer dead' anywhere"

lab_info "(3) restart $dead: every branch uses both hubs again"
echo "$(date +%s.%N) restore restart-$dead" >>"$LAB_DIR/events"
t0=$(date +%s.%N)
topo_restart "$dead"
both() { all_via h1 h2; }
lab_wait 60 "every branch to route via both hubs again" both
lab_info "(3) both hubs used again $(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }') s after the restart"
topo_learn_templates 10
lab_info "(3) the restarted $dead gave every branch the same instance and /31 as before"
sleep 1
lab_kill probe-b1
lab_kill probe-b2
"$LAB_PYTHON" "$lab/probe.py" analyze --events "$LAB_DIR/events" \
    --flow "b1->b2=$LAB_DIR/probe-b2.rx" --flow "b2->b1=$LAB_DIR/probe-b1.rx" >&2
lab_info "PASS: dual_hub"
