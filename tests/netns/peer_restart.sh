#!/usr/bin/env bash
# Sites that restart get their tunnel back at once and without duplicates.
# A peer that restarts without a word (kill -9, a crash, a power cut): its
# new IKE_AUTH carries INITIAL_CONTACT and the other site drops the stale IKE
# SA and CHILD SA for it, without waiting for DPD (30 s here). Both sites
# starting at once (after a power cut at both): their IKE_SA_INITs cross, two
# IKE SAs complete, and the nonce rule keeps one.
#   1  both sites start, neither passive, while the underlay drops IKE; when
#      it passes again each one's retransmitted IKE_SA_INIT meets the other's
#      half-open SA: within 5 s one IKE SA and one SA each way at both sites,
#      both counted the duplicate, pings cross
#   2  site b's mesh-site is killed with SIGKILL and started again
#   3  within 2 s of the restart: both tunnels up, pings cross, site a holds
#      exactly one IKE SA and one SA each way on the tunnel, and counted the
#      INITIAL_CONTACT
# usage: tests/netns/peer_restart.sh [MESH_SITE_BINARY]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../netns-lab/lib.sh"
lab_init ping iptables
lab_find_binary "${1:-}"
lab_two_site_topology
lab_write_ike_configs

view() { # view SITE: "IKE SAs, inbound SAs, outbound SAs, initial contacts, duplicates" at the site
    mesh "$1" status --json | "$LAB_PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
sas = [s for t in d["tunnels"] for s in t["sas"]]
c = d["counters"]["ike"]
print(len(d["peers"]), sum(s["direction"] == "in" for s in sas), sum(s["direction"] == "out" for s in sas),
      c["initial-contacts"], c["duplicate-ike-sas"])'
}
a_view() { view a; }

lab_info "(1) both sites start while the underlay drops IKE, then it passes"
# Both ways, so neither site hears of the other before it initiated itself.
ike_filter() { # ike_filter -I|-D
    n "$SITE_A" iptables "$1" INPUT -p udp -m multiport --dports 500,4500 -j DROP
    n "$SITE_A" iptables "$1" OUTPUT -p udp -m multiport --dports 500,4500 -j DROP
}
ike_filter -I
lab_ike_site_start a
lab_ike_site_start b
both_initiated() { lab_log_has mesh-site-a "initiating IKE SA" && lab_log_has mesh-site-b "initiating IKE SA"; }
lab_wait 5 "both sites to send IKE_SA_INIT" both_initiated
ike_filter -D
one_sa_each() { [[ $(view a) == "1 1 1 0 1" && $(view b) == "1 1 1 0 1" ]]; }
lab_wait 5 "one IKE SA and one SA each way at both sites, the duplicate counted" one_sa_each
lab_info "(1) site a: $(view a), site b: $(view b) (IKE SAs, SAs in, out, INITIAL_CONTACTs, duplicates)"
lab_wait_tunnel_up a
lab_wait_tunnel_up b
lab_ping_expect "$LAN_A" 10.2.0.2 5

lab_info "(2) SIGKILL to site b's mesh-site, then start it again"
pretty "$SITE_B" "kill -KILL mesh-site (site-b)"
kill -KILL "${LAB_PID[mesh-site-b]}"
wait "${LAB_PID[mesh-site-b]}" 2>/dev/null || true
unset "LAB_PID[mesh-site-b]"
lab_wait 5 "site b's tunnel interface to go away" _lab_no_link "$SITE_B" "${LAB_IKE_IF[b]}"
mv "$LAB_DIR/mesh-site-b.log" "$LAB_DIR/mesh-site-b-before.log"
start=$(date +%s%N)
lab_ike_site_start b
one_clean_sa() { [[ $(a_view) == "1 1 1 1 1" ]] && lab_tunnel_up b && lab_tunnel_up a; }
lab_wait 5 "site a to hold one fresh IKE SA and site b's tunnel to be up" one_clean_sa
wall_ms=$((($(date +%s%N) - start) / 1000000))
# The daemons' own clocks: from site b's first log line (the process
# started) to the later of site b's tunnel up and site a's INITIAL_CONTACT.
# The wall clock adds check-config and this script's status polling.
took_ms=$("$LAB_PYTHON" - "$LAB_DIR/mesh-site-b.log" "$LAB_DIR/mesh-site-a.log" <<'PY'
import datetime, re, sys
def when(path, pattern, first=True):
    stamps = [l.split()[0] for l in open(path) if re.search(pattern, l)]
    return datetime.datetime.fromisoformat((stamps[0] if first else stamps[-1]))
started = when(sys.argv[1], r"^\d{4}-")
back = max(when(sys.argv[1], r"tunnel .*: up"), when(sys.argv[2], r"INITIAL_CONTACT", first=False))
print(int((back - started).total_seconds() * 1000))
PY
)
lab_info "(3) back ${took_ms} ms after the restart (${wall_ms} ms by this script's clock); site a: $(a_view) (IKE SAs, SAs in, out, INITIAL_CONTACTs, duplicates)"
((took_ms < 2000)) || lab_die "(3) the tunnel took ${took_ms} ms to come back (bound: 2 s)"
lab_ping_expect "$LAN_A" 10.2.0.2 5
lab_log_has mesh-site-a "INITIAL_CONTACT" || lab_die "(3) site a did not log the INITIAL_CONTACT"
lab_info "PASS: peer_restart"
