#!/usr/bin/env bash
# IKE SA rekeys, and rekeys both ends start at the same moment, lose
# nothing and leave one SA of each (RFC 7296 sections 2.8, 2.8.1, 2.18).
# Two sites, IKEv2 PSK, PFS ecp256; a TCP iperf3 flow and a 1000-packet
# ping at 100/s cross during each phase:
#   1  site a's IKE SA lifetime is 4 s: it rekeys the IKE SA several times,
#      the CHILD SA carried over each time;
#   2  both sites are asked to rekey their CHILD SA at once (`mesh-site
#      rekey --child`), then their IKE SA (`mesh-site rekey`), while IKE is
#      held at site a for a moment, so the two requests cross for certain;
#      both ends count the collision and the nonce rule keeps one SA.
# After each phase: every ping answered, at each site one IKE SA and one
# CHILD SA (one SA in, one out), and no ESP packet dropped as failed
# authentication or replay.
# usage: tests/netns/ike_rekey.sh [MESH_SITE_BINARY]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../netns-lab/lib.sh"
lab_init ping iperf3 iptables
lab_find_binary "${1:-}"
lab_two_site_topology
lab_iperf_server "$LAN_B"

# counter SITE NAME: an IKE counter of the site.
counter() { mesh "$1" status --json | "$LAB_PYTHON" -c "import json, sys; print(json.load(sys.stdin)['counters']['ike']['$2'])"; }

# one_of_each: at both sites one IKE SA, one SA in and one out, none dropping as auth or replay failure.
one_of_each() {
    local s view
    for s in a b; do
        view=$(mesh "$s" status --json | "$LAB_PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
sas = [s for t in d["tunnels"] for s in t["sas"]]
print(len(d["peers"]), sum(s["direction"] == "in" for s in sas), sum(s["direction"] == "out" for s in sas),
      sum(s["auth-drops"] + s["replay-drops"] for s in sas))')
        [[ $view == "1 1 1 0" ]] || { echo "site $s: $view (IKE SAs, SAs in, out, auth+replay drops)"; return 1; }
    done
}

# start_load SECONDS: iperf3 and 100 pings a second in the background,
# SECONDS long; end_load waits for them and sets PINGS_GOT.
start_load() {
    lab_bg iperf "$LAN_A" iperf3 -c "$HOST_B" -t "$1" -J
    pretty "$LAN_A" "ping -c $(($1 * 100)) -i 0.01 $HOST_B &"
    ip netns exec "$LAN_A" ping -n -q -c $(($1 * 100)) -i 0.01 -W 1 "$HOST_B" >"$LAB_DIR/ping.log" 2>&1 &
    PING_PID=$!
}
end_load() {
    wait "$PING_PID" || true
    PINGS_GOT=$(sed -n 's/.* \([0-9]\+\) received.*/\1/p' "$LAB_DIR/ping.log")
    lab_wait 15 "iperf3 to finish" bash -c "! kill -0 ${LAB_PID[iperf]} 2>/dev/null"
    unset "LAB_PID[iperf]"
}

# hold_ike -I|-D all|responses: IKE at site a dropped both ways (UDP 4500
# with the non-ESP marker; ESP passes), or only IKE responses (the R flag of
# the IKE header, byte 19 after the marker).
hold_ike() {
    local chain match='0>>22&0x3C@8=0'
    [[ $2 == responses ]] && match+=' && 0>>22&0x3C@28&0x20=0x20'
    for chain in INPUT OUTPUT; do
        n "$SITE_A" iptables "$1" "$chain" -p udp -m multiport --ports 4500 -m u32 --u32 "$match" -j DROP
    done
}

lab_info "(1) site a's IKE SA lifetime 4 s, under iperf3 and 1000 pings"
lab_write_ike_configs pfs=ecp256
sed -i 's/^\[profile.default\]/[profile.default]\nlifetime = "4s"/' "$LAB_DIR/site-a.toml"
lab_ike_site_start a
lab_ike_site_start b
lab_wait_settled
start_load 10
end_load
rekeys=$(grep -c "rekeying IKE SA" "$LAB_DIR/mesh-site-a.log" || true)
lab_info "(1) site a rekeyed the IKE SA $rekeys times; ping $PINGS_GOT/1000; IKE rekeys counted: a $(counter a ike-rekeys), b $(counter b ike-rekeys)"
((PINGS_GOT == 1000)) || { lab_drops a; lab_drops b; lab_die "(1) $((1000 - PINGS_GOT)) of 1000 pings lost while the IKE SA was rekeyed"; }
((rekeys >= 2)) || lab_die "(1) site a rekeyed its IKE SA $rekeys times in 10 s with a 4 s lifetime"
lab_wait 5 "one IKE SA and one CHILD SA at each site" one_of_each
lab_ike_sites_stop

lab_info "(2) both sites rekey at the same moment, the CHILD SA and then the IKE SA"
lab_write_ike_configs pfs=ecp256
lab_ike_site_start a
lab_ike_site_start b
lab_wait_settled
start_load 10
# Both requests are lost first, so each end has its own outstanding; then
# only answers are: each end's retransmitted request reaches the other while
# that one still waits for the answer to its own, which is a collision at
# both ends (section 2.8.1). Then the answers pass.
for what in --child ""; do
    sleep 2
    hold_ike -I all
    mesh a rekey $what site-b >&2 &
    rekey_a=$!
    mesh b rekey $what site-a >&2
    wait "$rekey_a"
    sleep 0.3
    hold_ike -I responses
    hold_ike -D all
    sleep 0.9
    hold_ike -D responses
done
end_load
# When the hold loses the answer to one end, the other deletes that end's
# redundant new IKE SA, which it never made: that Delete goes unanswered
# and is given up after its retransmissions (0.5 + 1 + 2 + 4 + 8 s).
lab_wait 30 "one IKE SA and one CHILD SA at each site" one_of_each
child=$(($(counter a rekey-collisions) + $(counter b rekey-collisions)))
ike=$(($(counter a ike-rekey-collisions) + $(counter b ike-rekey-collisions)))
lab_info "(2) collisions counted: CHILD SA $child, IKE SA $ike; ping $PINGS_GOT/1000"
((PINGS_GOT == 1000)) || { lab_drops a; lab_drops b; lab_die "(2) $((1000 - PINGS_GOT)) of 1000 pings lost in the simultaneous rekeys"; }
((child >= 1)) || lab_die "(2) the CHILD SA rekeys did not collide (or the collision was not counted)"
((ike >= 1)) || lab_die "(2) the IKE SA rekeys did not collide (or the collision was not counted)"
lab_info "PASS: ike_rekey"
