#!/usr/bin/env bash
# mesh-site against libreswan 4.10's pluto (netns-lab/libreswan.sh: pluto in
# site b, PSK, tunnel mode, CHILD SAs through the XFRM shim, so no packet
# crosses: every check reads pluto's --showstates/--trafficstatus and
# mesh-site's status --json):
#   a  pluto initiates (mesh-site passive); then, on that IKE SA:
#        pluto rekeys the CHILD SA, then the IKE SA (RFC 7296 sections 2.8, 1.3.3);
#        mesh-site rekeys the CHILD SA, then the IKE SA;
#        pluto deletes the IKE SA (whack --terminate): mesh-site drops its
#        peer and tunnel
#   b  mesh-site initiates; the same four rekeys; mesh-site deletes
#      (SIGTERM sends its Delete): pluto drops its IKE and CHILD SA
#   c  certificates (mesh-site ECDSA P-256, pluto RSA 2048, one CA, RFC 7427
#      signatures): mesh-site initiates, then pluto initiates
# After each step both ends hold one IKE SA and one CHILD SA, mesh-site's
# outbound SPI is the one pluto receives on and the reverse, and each rekey
# changed the SPIs it should.
# usage: tests/interop/libreswan.sh [MESH_SITE_BINARY]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"
source "$LAB_ROOT/netns-lab/libreswan.sh"

lab_init
lab_require_libreswan
lab_find_binary "${1:-}"
lab_two_site_topology
secret=$(lab_hex 16)

mesh_ike_spis() { lab_json a '"%s/%s" % (peer()["ike-spi-i"], peer()["ike-spi-r"])'; }
pluto_ike() { lab_pluto_ike_sas | paste -sd' '; }
# changed WHAT OLD CMD...: CMD's output differs from OLD (and is not empty).
changed() { local old=$2 now; shift 2; now=$("$@" 2>/dev/null) && [[ -n $now && $now != "$old" ]]; }

# rekeys CASE: the CHILD SA and the IKE SA rekeyed by pluto, then by
# mesh-site; each leaves one IKE SA and one CHILD SA with new SPIs.
rekeys() {
    local c=$1 child ike pike
    child=$(lab_pluto_spis) ike=$(mesh_ike_spis) pike=$(pluto_ike)
    lab_whack_do --name lan --rekey-ipsec >/dev/null
    lab_wait 15 "($c) pluto's CHILD SA rekey (SPIs $child)" changed child "$child" lab_pluto_spis
    lab_wait_pluto_mesh_agree 15 "$c: CHILD SA rekeyed by pluto"
    [[ $(mesh_ike_spis) == "$ike" ]] || lab_die "($c) the IKE SA changed in a CHILD SA rekey"

    child=$(lab_pluto_spis)
    lab_whack_do --name lan --rekey-ike >/dev/null
    lab_wait 15 "($c) pluto's IKE SA rekey (mesh-site's IKE SA $ike)" changed ike "$ike" mesh_ike_spis
    lab_wait 15 "($c) pluto to have replaced IKE SA $pike" changed pike "$pike" pluto_ike
    lab_wait_pluto_mesh_agree 15 "$c: IKE SA rekeyed by pluto"
    [[ $(lab_pluto_spis) == "$child" ]] || lab_die "($c) the CHILD SA changed in an IKE SA rekey"

    ike=$(mesh_ike_spis) pike=$(pluto_ike)
    n "$SITE_A" "$MESH_SITE" rekey --child -c "$LAB_DIR/site-a.toml" site-b
    lab_wait 15 "($c) mesh-site's CHILD SA rekey (SPIs $child)" changed child "$child" lab_pluto_spis
    lab_wait_pluto_mesh_agree 15 "$c: CHILD SA rekeyed by mesh-site"
    [[ $(mesh_ike_spis) == "$ike" ]] || lab_die "($c) the IKE SA changed in a CHILD SA rekey"

    child=$(lab_pluto_spis)
    n "$SITE_A" "$MESH_SITE" rekey -c "$LAB_DIR/site-a.toml" site-b
    lab_wait 15 "($c) mesh-site's IKE SA rekey ($ike)" changed ike "$ike" mesh_ike_spis
    lab_wait 15 "($c) pluto to have replaced IKE SA $pike" changed pike "$pike" pluto_ike
    lab_wait_pluto_mesh_agree 15 "$c: IKE SA rekeyed by mesh-site"
    [[ $(lab_pluto_spis) == "$child" ]] || lab_die "($c) the CHILD SA changed in an IKE SA rekey"
    lab_info "($c) pluto: $(lab_whack --trafficstatus 2>/dev/null | grep '"lan"' | cut -c5-)"
}
mesh_has_no_peer() { [[ $(lab_json a 'len(peers())') == 0 ]] && ! lab_tunnel_up a; }
pluto_has_no_sa() { [[ -z $(lab_pluto_ike_sas) && -z $(lab_pluto_child_sas) ]]; }

lab_info "(a) pluto initiates, mesh-site (passive) answers"
lab_write_ike_configs mode=ip secret="$secret" pfs=ecp256 a.passive=true
lab_pluto_conf "$secret"
lab_pluto_start
lab_ike_site_start a
lab_whack_do --name lan --initiate --asynchronous >/dev/null
lab_wait_pluto_mesh_agree 20 "a: pluto initiated"
[[ $(lab_json a 'peer()["initiator"]') == False ]] || lab_die "(a) mesh-site took the initiator's role"
rekeys a
lab_whack_do --name lan --terminate >/dev/null
lab_wait 10 "(a) mesh-site to drop the peer pluto deleted ($(lab_tunnel_state a))" mesh_has_no_peer
lab_wait 5 "(a) pluto to hold no SA" pluto_has_no_sa
lab_info "(a) pluto's Delete: mesh-site holds no IKE SA and its tunnel is down"
lab_ike_site_stop a
lab_pluto_stop

lab_info "(b) mesh-site initiates, pluto answers"
lab_write_ike_configs mode=ip secret="$secret" pfs=ecp256
lab_pluto_start
lab_ike_site_start a
lab_wait_pluto_mesh_agree 20 "b: mesh-site initiated"
[[ $(lab_json a 'peer()["initiator"]') == True ]] || lab_die "(b) mesh-site is not the initiator"
rekeys b
pike=$(pluto_ike)
lab_ike_site_stop a
lab_wait 10 "(b) pluto to drop the SAs mesh-site deleted" pluto_has_no_sa
grep -q "\"lan\" $pike: deleting state (STATE_V2_ESTABLISHED_IKE_SA) .* NOT sending notification" "$LAB_DIR/pluto.log" ||
    lab_die "(b) pluto did not log the deletion of IKE SA $pike that mesh-site's Delete asked for"
lab_info "(b) mesh-site's Delete: pluto holds no SA"
lab_pluto_stop

lab_info "(c) certificates: mesh-site (ECDSA) initiates, then pluto (RSA) initiates"
PKI=$LAB_DIR/pki
lab_pki_ca "$PKI"
lab_pki_issue "$PKI" site-a ecdsa 256 site-a.lab
lab_pki_issue "$PKI" site-b rsa 2048 site-b.lab
lab_write_ike_configs mode=ip pfs=ecp256
lab_ike_use_certificates a certificate=pki/site-a.pem private-key=pki/site-a.key ca=pki/ca.pem
lab_pluto_conf unused
lab_pluto_use_certificates "$PKI" rsasig ecdsa
lab_pluto_start
lab_ike_site_start a
lab_wait_pluto_mesh_agree 20 "c: mesh-site initiated, certificates"
grep -q "authenticated peer .* using peer certificate '@site-a.lab' issued by CA 'C=CH, O=mesh-site lab, CN=lab CA'" "$LAB_DIR/pluto.log" ||
    lab_die "(c) pluto did not log mesh-site's certificate as the proof of its identity"
lab_ike_site_stop a
lab_wait 10 "(c) pluto to drop the SAs mesh-site deleted" pluto_has_no_sa
sed -i 's/^passive = false$/passive = true/' "$LAB_DIR/site-a.toml"
lab_ike_site_start a
lab_whack_do --name lan --initiate --asynchronous >/dev/null
lab_wait_pluto_mesh_agree 20 "c: pluto initiated, certificates"
lab_ike_site_stop a
lab_pluto_stop
lab_info "PASS: libreswan (a b c)"
