#!/usr/bin/env bash
# A peer that restarts without INITIAL_CONTACT (libreswan's default): pluto
# in site b (netns-lab/libreswan.sh) is killed with SIGKILL, so mesh-site
# keeps its IKE SA, then restarted, and pluto initiates again. A new IKE SA
# that authenticates the same identity replaces the older one at once (as
# strongSwan's unique = replace; RFC 7296 section 2.4 leaves the stale SA's
# detection to liveness checks, which take minutes):
#   a  mesh-site passive (pluto initiated the first IKE SA too)
#   b  mesh-site the initiator of the first IKE SA, pluto restarting once
#      that SA is past the window in which a peer's IKE_SA_INIT may still be
#      a crossing start (docs/ike.md)
# Each case, from pluto's restart on:
#   - within 3 s mesh-site holds one IKE SA, and its tunnel sends on the SPI
#     pluto's new CHILD SA receives on (pluto's --showstates)
#   - over the next 5 s no churn: one IKE SA established at each end, none
#     deleted but the stale one (mesh-site's and pluto's logs), and a passive
#     mesh-site never logs "both ends started at once"
# usage: tests/interop/libreswan_restart.sh [MESH_SITE_BINARY]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"
source "$LAB_ROOT/netns-lab/libreswan.sh"

lab_init
lab_require_libreswan
lab_find_binary "${1:-}"
lab_two_site_topology
secret=$(lab_hex 16)

# since NAME LINE REGEX: how many lines of $LAB_DIR/NAME.log after LINE match.
since() { tail -n +$(($2 + 1)) "$LAB_DIR/$1.log" | grep -Ec -- "$3" || true; }
lines() { wc -l <"$LAB_DIR/$1.log"; }
ike_sa_older_than() { [[ $(lab_json a 'min(p["uptime-s"] for p in peers())') -ge $1 ]]; }
pluto_has_ike_sa() { [[ -n $(lab_pluto_ike_sas) ]]; }
mesh_ike_spis() { lab_json a '" ".join("%s/%s" % (p["ike-spi-i"], p["ike-spi-r"]) for p in peers())'; }

# restart CASE: kill -9 pluto, start it again, let it initiate; check.
restart() {
    local c=$1 old mesh_mark pluto_mark started took
    old=$(mesh_ike_spis)
    lab_pluto_kill9
    mesh_mark=$(lines mesh-site-a) pluto_mark=$(lines pluto)
    lab_pluto_start
    started=$SECONDS
    lab_whack_do --name lan --initiate --asynchronous >/dev/null
    lab_wait 10 "($c) pluto's new IKE SA" pluto_has_ike_sa
    lab_wait_pluto_mesh_agree 3 "$c: after pluto's restart"
    took=$((SECONDS - started))
    [[ $(mesh_ike_spis) != "$old" ]] || lab_die "($c) mesh-site kept the stale IKE SA $old"
    lab_info "($c) mesh-site replaced IKE SA $old with $(mesh_ike_spis) within ${took}s of pluto's restart"
    sleep 5
    local mesh_up mesh_down pluto_up pluto_down crossing
    mesh_up=$(since mesh-site-a "$mesh_mark" 'IKE SA [0-9a-f/]+ established with')
    # The stale IKE SA goes (that is the replacement); no other may.
    local stale=${old//0x/}
    mesh_down=$(tail -n +$((mesh_mark + 1)) "$LAB_DIR/mesh-site-a.log" | grep -v -- "$stale" |
        grep -Ec 'deleting IKE SA|deleted the IKE SA|holds the lowest nonce' || true)
    pluto_up=$(since pluto "$pluto_mark" 'established IKE SA')
    pluto_down=$(since pluto "$pluto_mark" 'deleting state \(STATE_V2_ESTABLISHED_IKE_SA\)')
    crossing=$(since mesh-site-a "$mesh_mark" 'both ends started at once')
    lab_info "($c) in the 5 s after: mesh-site established $mesh_up IKE SA(s) and deleted $mesh_down besides the stale one; pluto established $pluto_up and deleted $pluto_down; 'both ends started at once' $crossing time(s)"
    ((mesh_up == 1 && pluto_up == 1 && mesh_down == 0 && pluto_down == 0)) ||
        lab_die "($c) IKE SAs churned after pluto's restart"
    [[ $c != a ]] || ((crossing == 0)) || lab_die "($c) a passive mesh-site logged 'both ends started at once'"
    lab_wait_pluto_mesh_agree 3 "$c: 5 s later"
}

lab_info "(a) mesh-site passive: pluto initiates, is killed, restarts, initiates"
lab_write_ike_configs mode=ip secret="$secret" pfs=ecp256 a.passive=true
lab_pluto_conf "$secret"
lab_pluto_start
lab_ike_site_start a
lab_whack_do --name lan --initiate --asynchronous >/dev/null
lab_wait_pluto_mesh_agree 20 "a: first IKE SA"
restart a
lab_ike_site_stop a
lab_pluto_stop

lab_info "(b) mesh-site initiates; pluto is killed, restarts, initiates"
lab_write_ike_configs mode=ip secret="$secret" pfs=ecp256
lab_pluto_start
lab_ike_site_start a
lab_wait_pluto_mesh_agree 20 "b: first IKE SA"
# The peer's IKE_SA_INIT within 32 s of our IKE SA's establishment may be a
# start crossing ours (it retransmits for 15.5 s): docs/ike.md, simultaneous
# start. A restart comes later.
lab_wait 45 "(b) the first IKE SA to be 34 s old" ike_sa_older_than 34
restart b
lab_ike_site_stop a
lab_pluto_stop
lab_info "PASS: libreswan_restart (a b)"
