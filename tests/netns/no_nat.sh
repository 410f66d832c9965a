#!/usr/bin/env bash
# No NAT, no move on a plain link (RFC 7296 section 2.23): two sites joined
# by two veth paths (netns-lab/topology.sh's pair2), each daemon listening on
# any address (no `listen` key) with a local address per path. The NAT_DETECTION
# hashes must be over the addresses the datagrams carry, not 0.0.0.0, and
# a request reaching the address the IKE SA already uses is no move:
#
#   a [198.18.11.1] ---- [198.18.11.2] b      tunnels b, a   (path 1)
#     [198.18.12.1] ---- [198.18.12.2]        tunnels b-2, a-2 (path 2)
#
#   1  all four IKE SAs up, pings across both tunnels
#   2  liveness checks from both ends (DPD 1 s) and ESP both ways
#   3  at both sites: no IKE SA says nat-detected or behind-nat, peers-moved
#      is 0, the logs have no "peer moved" and no "peer behind NAT"
# tests/netns/nat_rebinding.sh is the counterpart through a real NAT.
# usage: tests/netns/no_nat.sh [MESH_SITE_BINARY]
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
lab=$(dirname "$(readlink -f "$0")")/../../netns-lab
# shellcheck source=../../netns-lab/lib.sh
source "$lab/lib.sh"
# shellcheck source=../../netns-lab/topology.sh
source "$lab/topology.sh"

lab_init ping
lab_find_binary "${1:-}"
TOPO_DPD=1s:3
topo_up "pair2 routing=none"
for s in a b; do
    ! grep -q '^listen' "$LAB_DIR/site-$s.toml" || lab_die "site-$s.toml sets listen: this test is about a daemon listening on any address"
done

# counter SITE NAME: an IKE counter of the site.
counter() { tmesh "$1" status --json | "$LAB_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["counters"]["ike"][sys.argv[1]])' "$2"; }
# nat_flags SITE: "peer nat-detected behind-nat" per established IKE SA.
nat_flags() {
    tmesh "$1" status --json | "$LAB_PYTHON" -c '
import json, sys
for p in json.load(sys.stdin)["peers"]:
    if p["state"] == "established":
        print(p["name"], p["nat-detected"], p["behind-nat"])'
}
checked_both() { (($(counter a liveness-checks) >= 3 && $(counter b liveness-checks) >= 3)); }

lab_info "(1) both paths up, pings across each tunnel"
for t in 1 2; do
    lab_ping_expect "${TOPO_NS[a]}" "$(topo_tun_addr "$t" b)" 10
    lab_ping_expect "${TOPO_NS[b]}" "$(topo_tun_addr "$t" a)" 10
done

lab_info "(2) liveness checks from both ends"
lab_wait 60 "3 liveness checks from each site" checked_both
for t in 1 2; do
    lab_ping_expect "${TOPO_NS[a]}" "$(topo_tun_addr "$t" b)" 10
done

lab_info "(3) no NAT and no move at either site"
for s in a b; do
    flags=$(nat_flags "$s")
    while read -r line; do echo "    site $s: $line" >&2; done <<<"$flags"
    (($(wc -l <<<"$flags") == 2)) || lab_die "site $s should hold 2 established IKE SAs, has: $flags"
    ! grep -q True <<<"$flags" || lab_die "site $s reports a NAT on a plain link: $flags"
    moved=$(counter "$s" peers-moved)
    ((moved == 0)) || lab_die "site $s counted $moved peer moves on a plain link"
    if grep -E 'peer moved|peer behind NAT' "$LAB_DIR/mesh-site-$s.log" >&2; then
        lab_die "site $s logged a move or a NAT on a plain link (above)"
    fi
done
lab_info "PASS: no_nat"
