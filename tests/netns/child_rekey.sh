#!/usr/bin/env bash
# CHILD SA rekeying under load loses nothing (RFC 7296 section 2.8,
# make-before-break). Two sites, IKEv2 PSK, PFS ecp256, a CHILD SA lifetime
# of a few seconds; for each direction of rekeying (the side with the
# shorter lifetime always starts it), and once more with a byte lifetime
# (site a's: what the tunnel carried in 3 s of phase 2, the time lifetimes
# long; a byte lifetime much shorter than that, at these speeds, runs out
# before its rekey completes), a TCP iperf3 flow and a 1000-packet ping at
# 100/s run across while the SAs are replaced several times:
#   - every ping is answered (none lost, none duplicated);
#   - the side meant to rekey did, several times, and the other answered;
#   - iperf3 moved data the whole time, and no SA dropped a packet as
#     failed authentication or replay.
# usage: tests/netns/child_rekey.sh [MESH_SITE_BINARY]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../netns-lab/lib.sh"
lab_init ping iperf3
lab_find_binary "${1:-}"
lab_two_site_topology
lab_iperf_server "$LAN_B"

# rekeys SITE: how often SITE started a CHILD SA rekey (its log says so).
rekeys() { grep -c "rekeying CHILD SA" "$LAB_DIR/mesh-site-$1.log" || true; }

# phase FAST SLOW [LIFETIME]: FAST's CHILD SA lifetime LIFETIME (4 s; or
# "NNMB": lifetime-bytes), SLOW's 9 s (60 s with a byte lifetime); FAST
# starts every rekey.
phase() {
    local fast=$1 slow=$2 lifetime=${3:-4s} got bps
    lab_write_ike_configs pfs=ecp256
    if [[ $lifetime == *B ]]; then
        sed -i 's/^\[proposal.default\]/[proposal.default]\nlifetime-bytes = "'"$lifetime"'"/' "$LAB_DIR/site-$fast.toml"
        sed -i 's/^\[proposal.default\]/[proposal.default]\nlifetime = "60s"/' "$LAB_DIR/site-$slow.toml"
    else
        sed -i 's/^\[proposal.default\]/[proposal.default]\nlifetime = "'"$lifetime"'"/' "$LAB_DIR/site-$fast.toml"
        sed -i 's/^\[proposal.default\]/[proposal.default]\nlifetime = "9s"/' "$LAB_DIR/site-$slow.toml"
    fi
    lab_ike_site_start a
    lab_ike_site_start b
    lab_wait_settled
    lab_bg "iperf-$fast" "$LAN_A" iperf3 -c 10.2.0.2 -t 12 -J
    pretty "$LAN_A" "ping -c 1000 -i 0.01 10.2.0.2"
    got=$(ip netns exec "$LAN_A" ping -n -q -c 1000 -i 0.01 -W 1 10.2.0.2 | sed -n 's/.* \([0-9]\+\) received.*/\1/p')
    lab_wait 15 "iperf3 to finish" bash -c "! kill -0 ${LAB_PID[iperf-$fast]} 2>/dev/null"
    bps=$("$LAB_PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.3f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))' \
        "$LAB_DIR/iperf-$fast.log" 2>/dev/null || echo 0)
    lab_info "site $fast rekeys: $(rekeys "$fast") started by $fast, $(rekeys "$slow") by $slow; ping $got/1000; iperf3 $bps Gbit/s"
    ((got == 1000)) || { lab_drops a; lab_drops b; lab_die "site $fast rekeying: $((1000 - got)) of 1000 pings lost"; }
    (($(rekeys "$fast") >= 2)) || lab_die "site $fast started $(rekeys "$fast") rekeys in 12 s with a $lifetime lifetime"
    (($(rekeys "$slow") == 0)) || lab_die "site $slow, with the longer lifetime, started a rekey"
    [[ $bps != 0 && $bps != 0.000 ]] || lab_die "iperf3 moved nothing during the rekeys"
    LAST_GBPS=$bps
    local s drops
    for s in a b; do
        drops=$(mesh "$s" status --json | "$LAB_PYTHON" -c '
import json, sys
print(sum(sa["auth-drops"] + sa["replay-drops"] for t in json.load(sys.stdin)["tunnels"] for sa in t["sas"]))')
        ((drops == 0)) || lab_die "site $s: $drops ESP packets dropped as failed authentication or replay"
    done
    lab_ike_sites_stop
}

lab_info "(1) site a starts every rekey"
phase a b
lab_info "(2) site b starts every rekey"
phase b a
bytes=$("$LAB_PYTHON" -c "print(max(50, int($LAST_GBPS * 1000 / 8 * 3)))")MB
lab_info "(3) site a's byte lifetime $bytes ($LAST_GBPS Gbit/s for 3 s): it starts every rekey"
phase a b "$bytes"
lab_info "PASS: child_rekey"
