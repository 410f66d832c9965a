#!/usr/bin/env bash
# A peer that restarts without a word (kill -9, a crash, a power cut) gets
# its tunnel back at once: its new IKE_AUTH carries INITIAL_CONTACT and the
# other site drops the stale IKE SA and CHILD SA for it, without waiting for
# DPD (30 s here) and without keeping duplicates.
#   1  two sites up, IKEv2 PSK, site a passive
#   2  site b's mesh-site is killed with SIGKILL and started again
#   3  within 2 s of the restart: both tunnels up, pings cross, site a holds
#      exactly one IKE SA and one SA each way on the tunnel, and counted the
#      INITIAL_CONTACT
# usage: tests/netns/peer_restart.sh [MESH_SITE_BINARY]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../netns-lab/lib.sh"
lab_init ping
lab_find_binary "${1:-}"
lab_two_site_topology
# Site a is a passive hub: only b initiates, so no simultaneous initiation
# (two IKE SAs at start, a known gap) blurs the count.
lab_write_ike_configs a.passive=true

a_view() { # "IKE SAs, inbound SAs, outbound SAs, initial contacts" at site a
    mesh a status --json | "$LAB_PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
sas = [s for t in d["tunnels"] for s in t["sas"]]
print(len(d["peers"]), sum(s["direction"] == "in" for s in sas), sum(s["direction"] == "out" for s in sas),
      d["counters"]["ike"]["initial-contacts"])'
}

lab_info "(1) both sites up"
lab_ike_site_start a
lab_ike_site_start b
lab_wait_tunnel_up a
lab_wait_tunnel_up b
lab_ping_expect "$LAN_A" 10.2.0.2 5
[[ $(a_view) == "1 1 1 0" ]] || lab_die "(1) site a should hold 1 IKE SA, 1 SA each way: $(a_view)"

lab_info "(2) SIGKILL to site b's mesh-site, then start it again"
pretty "$SITE_B" "kill -KILL mesh-site (site-b)"
kill -KILL "${LAB_PID[mesh-site-b]}"
wait "${LAB_PID[mesh-site-b]}" 2>/dev/null || true
unset "LAB_PID[mesh-site-b]"
lab_wait 5 "site b's tunnel interface to go away" _lab_no_link "$SITE_B" "${LAB_IKE_IF[b]}"
start=$(date +%s%N)
lab_ike_site_start b
one_clean_sa() { [[ $(a_view) == "1 1 1 1" ]] && lab_tunnel_up b && lab_tunnel_up a; }
lab_wait 5 "site a to hold one fresh IKE SA and site b's tunnel to be up" one_clean_sa
took_ms=$((($(date +%s%N) - start) / 1000000))
lab_info "(3) back ${took_ms} ms after the restart; site a: $(a_view) (IKE SAs, SAs in, out, INITIAL_CONTACTs)"
((took_ms < 2000)) || lab_die "(3) the tunnel took ${took_ms} ms to come back (bound: 2 s)"
lab_ping_expect "$LAN_A" 10.2.0.2 5
lab_log_has mesh-site-a "INITIAL_CONTACT" || lab_die "(3) site a did not log the INITIAL_CONTACT"
lab_info "PASS: peer_restart"
