#!/usr/bin/env bash
# NAT rebinding (RFC 7296 section 2.23): site b sits behind a NAT router
# namespace (iptables MASQUERADE) and opens the tunnel to site a. Under
# traffic, the NAT's mapping is replaced: its rule becomes SNAT to other
# ports and its conntrack table is flushed, so b's ESP and IKE suddenly come
# from another port. Site a must follow b there without a new IKE_SA_INIT:
#
#   lan-a -- a [198.18.11.1] ---- [198.18.11.2 pub] NAT [priv] ---- [10.200.11.2] b -- lan-b
#
#   1  the tunnel is up; a sees b at 198.18.11.2:<masqueraded port>, pings cross;
#      a detects the NAT in front of b, b knows it is behind it (keepalives)
#   2  the mapping changes under a ping from lan-b (ESP from the new port
#      moves a at once) and then again under a ping from lan-a only (a's ESP
#      goes to the dead mapping until b's DPD check, an IKE request, arrives
#      from the new one)
#   3  each time the pings recover, a's IKE SA keeps its SPIs (no new
#      IKE_SA_INIT), a counts the move and sees b at the new port
# usage: tests/netns/nat_rebinding.sh [MESH_SITE_BINARY]
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
lab=$(dirname "$(readlink -f "$0")")/../../netns-lab
# shellcheck source=../../netns-lab/lib.sh
source "$lab/lib.sh"
# shellcheck source=../../netns-lab/topology.sh
source "$lab/topology.sh"

lab_init ping conntrack iptables
lab_find_binary "${1:-}"
TOPO_DPD=1s:3
topo_up "pair links=a-b:nat routing=none"
t=$(topo_find a-b)
nat=${T_NATNS[$t]} lan_a=${TOPO_LAN_NS[a]} lan_b=${TOPO_LAN_NS[b]}

# peer_of_b FIELD: site a's view of its IKE SA with b ("remote-port", "ike-spi-i", ...).
peer_of_b() {
    tmesh a status --json | "$LAB_PYTHON" -c '
import json, sys
peers = [p for p in json.load(sys.stdin)["peers"] if p["state"] == "established"]
print(" ".join(str(p[sys.argv[1]]) for p in peers))' "$1"
}
moved() { tmesh a status --json | "$LAB_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["counters"]["ike"]["peers-moved"])'; }

# remap FIRST_PORT: the NAT now maps b to FIRST_PORT..+99, and forgets the old mapping.
remap() {
    n "$nat" iptables -t nat -F POSTROUTING
    n "$nat" iptables -t nat -A POSTROUTING -o pub -p udp -j SNAT --to-source "${T_UB_PUB[$t]}:$1-$(($1 + 99))"
    n "$nat" iptables -t nat -A POSTROUTING -o pub -j MASQUERADE
    n "$nat" conntrack -F
}

lab_info "(1) tunnel up through the NAT"
lab_ping_expect "$lan_b" "$(topo_host a)" 10
spis=$(peer_of_b ike-spi-i)
port=$(peer_of_b remote-port)
[[ $spis != *" "* && -n $spis ]] || lab_die "site a should hold one IKE SA with b, has: '$spis'"
lab_info "(1) site a sees b at ${T_UB_PUB[$t]}:$port, IKE SA $spis"
# nat_of SITE: "nat-detected behind-nat" of its established IKE SA.
nat_of() {
    tmesh "$1" status --json | "$LAB_PYTHON" -c '
import json, sys
for p in json.load(sys.stdin)["peers"]:
    if p["state"] == "established":
        print(p["nat-detected"], p["behind-nat"])'
}
[[ $(nat_of a) == "True False" ]] || lab_die "(1) site a should see a NAT in front of b (nat-detected, not behind-nat), has: $(nat_of a)"
[[ $(nat_of b) == "True True" ]] || lab_die "(1) site b should know it is behind a NAT, has: $(nat_of b)"
lab_info "(1) NAT detected: in front of b at a, behind-nat at b"

round() { # FIRST_PORT PINGER_NS TARGET WHAT
    local first=$1 pinger=$2 target=$3 what=$4 before got now_port
    before=$(moved)
    lab_bg "ping-$first" "$pinger" ping -n -q -i 0.05 -c 200 -W 1 "$target"
    sleep 1
    remap "$first"
    lab_wait 10 "$what: pings from $pinger to recover" lab_ping_ok "$pinger" "$target"
    lab_kill "ping-$first"
    got=$(lab_ping "$pinger" "$target" 20)
    ((got >= 19)) || lab_die "$what: $got of 20 pings after the move"
    now_port=$(peer_of_b remote-port)
    ((now_port >= first && now_port < first + 100)) || lab_die "$what: site a still sends to port $now_port"
    [[ $(peer_of_b ike-spi-i) == "$spis" ]] || lab_die "$what: the IKE SA changed ($spis -> $(peer_of_b ike-spi-i)): b had to start over"
    (($(moved) > before)) || lab_die "$what: site a did not count the move"
    lab_info "$what: site a follows b to port $now_port, same IKE SA; $got/20 pings after"
}
lab_ping_ok() { [[ $(lab_ping "$1" "$2" 3) -ge 2 ]]; }

lab_info "(2) the NAT's mapping changes while lan-b pings lan-a"
round 40000 "$lan_b" "$(topo_host a)" "(2) b-side traffic"
lab_info "(3) and again while only lan-a pings lan-b"
round 41000 "$lan_a" "$(topo_host b)" "(3) a-side traffic"
tmesh a status | sed -n '/active peers/,/tunnels/p' >&2
lab_info "PASS: nat_rebinding"
