#!/usr/bin/env bash
# Rekeying against strongSwan (charon + kernel-libipsec, tunnel mode, the lab
# of strongswan_psk.sh), under a ping of 100 packets a second:
#   a  strongSwan rekeys the CHILD SA every 4 s (swanctl rekey_time);
#      mesh-site answers
#   b  mesh-site rekeys it every ~4 s (proposal lifetime 5 s); strongSwan
#      answers
#   c  strongSwan's CHILD SA expires before it is rekeyed (life_time =
#      rekey_time): strongSwan deletes it and asks for a new one with a
#      CREATE_CHILD_SA without REKEY_SA, which mesh-site grants (break before
#      make on strongSwan's side: at most 10 pings lost)
#   d  strongSwan rekeys the IKE SA every 4 s (rekey_time); mesh-site answers
#   e  mesh-site rekeys the IKE SA (profile lifetime 5 s); strongSwan answers
#      (d, e: at least two IKE SA rekeys, one IKE SA at each end afterwards,
#      the CHILD SA carried over, no ping lost)
# Each case: at least two rekeys happen (counted by mesh-site, and
# strongSwan's CHILD SA ends with other SPIs than it started with), the SPIs
# of the two ends still mirror each other, one IKE SA and one CHILD SA
# remain at strongSwan, and pings keep crossing (at most 2 of 1000 lost:
# kernel-libipsec's own switch to the new SA is not make-before-break).
# usage: tests/interop/strongswan_rekey.sh [MESH_SITE_BINARY]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"

lab_init ping
lab_require_strongswan
lab_find_binary "${1:-}"
lab_two_site_topology
secret=$(lab_hex 16)

# swan_spis: the SPIs of strongSwan's INSTALLED CHILD SA (not one being rekeyed away), sorted.
swan_spis() {
    lab_swan_sas b | awk '/INSTALLED, TUNNEL/ { on = 1; next } /^ *lan: #/ { on = 0 } on && /^ *(in|out) +[0-9a-f]+,/ { sub(",", "", $2); print $2 }' |
        sort | paste -sd' '
}
mesh_counter() { mesh a status --json | "$LAB_PYTHON" -c "import json,sys; print(json.load(sys.stdin)['counters']['ike']['$1'])"; }
mesh_spis() { lab_json a '" ".join(sorted(s["spi"][2:] for s in sas("in") + sas("out")))'; }
# The rekeys go on while we look: the two ends agree at some moment between them.
spis_agree() { [[ $(swan_spis) == "$(mesh_spis)" ]]; }

# establish: charon in site b, mesh-site in site a (it initiates), both up.
establish() {
    lab_charon_start b
    lab_swanctl_psk_conf b "$secret"
    lab_ike_site_start a
    lab_wait_tunnel_up a 20
    lab_wait 5 "strongSwan to show the SAs ESTABLISHED and INSTALLED" lab_swan_established b
}
# ping_1000: how many of 1000 pings at 100/s from lan-a to lan-b came back.
ping_1000() {
    pretty "$LAN_A" "ping -c 1000 -i 0.01 $HOST_B"
    ip netns exec "$LAN_A" ping -n -q -c 1000 -i 0.01 -W 1 "$HOST_B" | sed -n 's/.* \([0-9]\+\) received.*/\1/p'
    sleep 1
}
stop_both() {
    lab_ike_site_stop a
    lab_charon_stop b
    lab_wait 5 "tun-b in site-a to go away" _lab_no_link "$SITE_A" tun-b
}

# run CASE COUNTER [MIN_PINGS]: establish (mesh-site initiates), ping 1000 at 100/s, check.
run() {
    local c=$1 counter=$2 min_pings=${3:-998} before_swan got rekeys after_swan
    establish
    before_swan=$(swan_spis)
    got=$(ping_1000)
    rekeys=$(mesh_counter "$counter")
    after_swan=$(swan_spis)
    lab_info "($c) $counter $rekeys; strongSwan SPIs $before_swan -> $after_swan; mesh-site $(mesh_spis); ping $got/1000"
    ((rekeys >= 2)) || lab_die "($c) only $rekeys rekeys in 10 s"
    [[ $before_swan != "$after_swan" ]] || lab_die "($c) strongSwan's CHILD SA kept its SPIs"
    (($(lab_swan_sas b | grep -c 'INSTALLED, TUNNEL') == 1)) || lab_die "($c) strongSwan holds more than one CHILD SA: $(lab_swan_sas b)"
    (($(lab_swan_sas b | grep -c 'ESTABLISHED, IKEv2') == 1)) || lab_die "($c) strongSwan holds more than one IKE SA"
    lab_wait 5 "the SPIs of strongSwan's CHILD SA and mesh-site's to agree ($(swan_spis) / $(mesh_spis))" spis_agree
    ((got >= min_pings)) || lab_die "($c) $((1000 - got)) of 1000 pings lost during the rekeys"
    stop_both
}

lab_info "(a) strongSwan rekeys the CHILD SA every 4 s, mesh-site answers"
lab_write_ike_configs mode=ip secret="$secret"
LAB_SWAN_CHILD_REKEY=4s LAB_SWAN_CHILD_LIFE=60s run a child-rekeys-answered
lab_info "(b) mesh-site rekeys the CHILD SA (lifetime 5 s), strongSwan answers"
lab_write_ike_configs mode=ip secret="$secret"
sed -i 's/^\[proposal.default\]/[proposal.default]\nlifetime = "5s"/' "$LAB_DIR/site-a.toml"
run b child-rekeys
lab_info "(c) strongSwan lets its CHILD SA expire (life_time = rekey_time = 4 s) and asks for a new one"
lab_write_ike_configs mode=ip secret="$secret"
LAB_SWAN_CHILD_REKEY=4s LAB_SWAN_CHILD_LIFE=4s run c child-sas-created 990

# ike_run CASE COUNTER: like run, for IKE SA rekeys: strongSwan ends with one
# IKE SA, other SPIs than it started with, and the CHILD SA carried over.
ike_spis() { lab_swan_sas b | grep -o '[0-9a-f]\{16\}_i\*\? [0-9a-f]\{16\}_r\*\?' | head -n1; }
ike_run() {
    local c=$1 counter=$2 before got rekeys after
    establish
    before=$(ike_spis)
    got=$(ping_1000)
    rekeys=$(mesh_counter "$counter")
    after=$(ike_spis)
    lab_info "($c) $counter $rekeys; strongSwan IKE SA $before -> $after; mesh-site peers $(lab_json a 'len(peers())'); ping $got/1000"
    ((rekeys >= 2)) || lab_die "($c) only $rekeys IKE SA rekeys in 10 s"
    [[ -n $after && $before != "$after" ]] || lab_die "($c) strongSwan's IKE SA kept its SPIs ($before)"
    (($(lab_swan_sas b | grep -c 'ESTABLISHED, IKEv2') == 1)) || lab_die "($c) strongSwan holds more than one IKE SA: $(lab_swan_sas b)"
    [[ $(lab_json a 'len(peers())') == 1 ]] || lab_die "($c) mesh-site holds $(lab_json a 'len(peers())') IKE SAs"
    lab_wait 5 "the SPIs of strongSwan's CHILD SA and mesh-site's to agree ($(swan_spis) / $(mesh_spis))" spis_agree
    ((got >= 998)) || lab_die "($c) $((1000 - got)) of 1000 pings lost during the IKE SA rekeys"
    stop_both
}

lab_info "(d) strongSwan rekeys the IKE SA every 4 s, mesh-site answers"
lab_write_ike_configs mode=ip secret="$secret"
LAB_SWAN_IKE_REKEY=4s ike_run d ike-rekeys
lab_info "(e) mesh-site rekeys the IKE SA (profile lifetime 5 s), strongSwan answers"
lab_write_ike_configs mode=ip secret="$secret"
sed -i 's/^\[profile.default\]/[profile.default]\nlifetime = "5s"/' "$LAB_DIR/site-a.toml"
ike_run e ike-rekeys
lab_info "PASS: strongswan_rekey (a b c d e)"
