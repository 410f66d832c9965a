#!/usr/bin/env bash
# mesh-site against strongSwan, IKEv2 with a pre-shared key:
#
#   lan-a 10.1.0.2 -- site-a [mesh-site, mode ip] ==IKE/ESP-in-UDP 4500== [charon + kernel-libipsec] site-b -- lan-b 10.2.0.2
#                     192.0.2.1  fqdn:site-a.lab                              fqdn:site-b.lab   192.0.2.2
#                     TUN tun-b                                               TUN ipsec0, routes in table 220
#
# strongSwan's kernel-libipsec has no transport mode and strongSwan no GRE,
# so mesh-site runs its tunnel-mode form (mode ip, TS 10.1.0.0/24 <->
# 10.2.0.0/24). IKE: aes256gcm16-prfsha256-ecp256; ESP: aes128gcm16 without
# PFS. charon runs in site-b's namespace with its own config dir and a
# private /run (docs/lab.md); its log ($LAB_DIR/strongswan-b.log) has
# ike and cfg at level 2.
#
#   ref  strongSwan on both sites (no mesh-site): proves the lab and the
#        charon config; skip with INTEROP_NO_REFERENCE=1
#   a    strongSwan initiates (`swanctl --initiate`), mesh-site passive
#   b    mesh-site initiates (both restarted), strongSwan responds
#   c    SIGTERM to mesh-site: strongSwan drops the IKE SA (Delete) in 5 s
# In a and b: `swanctl --list-sas` shows the IKE SA ESTABLISHED with
# AES_GCM_16-256/PRF_HMAC_SHA2_256/ECP_256 and the CHILD SA INSTALLED with
# ESP:AES_GCM_16-128; mesh-site shows the peer established and the tunnel
# up; the SPIs agree across; LAN-to-LAN pings pass both ways and strongSwan's
# CHILD SA counted them.
#
# usage: tests/interop/strongswan_psk.sh [MESH_SITE_BINARY]
#   INTEROP_CASES="a b c" narrows the list (ref runs unless INTEROP_NO_REFERENCE=1).
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"

lab_init ping
lab_require_strongswan
lab_find_binary "${1:-}"
lab_two_site_topology
secret=$(lab_hex 16)
cases=${INTEROP_CASES:-a b c}

# swan_check: strongSwan's view (site-b) of the established SAs; sets
# SWAN_IN and SWAN_OUT to its CHILD SA's SPIs (hex, no 0x).
swan_check() {
    local sas
    sas=$(lab_swan_sas b)
    sed 's/^/    swanctl: /' <<<"$sas" >&2
    grep -q 'ESTABLISHED, IKEv2' <<<"$sas" || lab_die "strongSwan has no ESTABLISHED IKEv2 SA"
    grep -q "remote 'site-a.lab' @ $UNDERLAY_A\[4500\]" <<<"$sas" ||
        lab_die "strongSwan's IKE SA is not with site-a.lab at $UNDERLAY_A port 4500"
    grep -q 'AES_GCM_16-256/PRF_HMAC_SHA2_256/ECP_256' <<<"$sas" ||
        lab_die "strongSwan's IKE SA is not AES_GCM_16-256/PRF_HMAC_SHA2_256/ECP_256"
    grep -Eq 'lan: #[0-9]+, reqid [0-9]+, INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-128' <<<"$sas" ||
        lab_die "strongSwan's CHILD SA is not INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-128"
    SWAN_IN=$(sed -n 's/^ *in  \([0-9a-f]\{8\}\),.*/\1/p' <<<"$sas" | head -n1)
    SWAN_OUT=$(sed -n 's/^ *out \([0-9a-f]\{8\}\),.*/\1/p' <<<"$sas" | head -n1)
    [[ -n $SWAN_IN && -n $SWAN_OUT ]] || lab_die "no SPIs in strongSwan's CHILD SA"
}

# mesh_check: mesh-site's view (site-a): peer established, tunnel up, one SA
# each way, AES-128-GCM, the SPIs mirroring strongSwan's.
mesh_check() {
    lab_wait_tunnel_up a 10
    local got
    got=$(lab_ike_json a '" ".join([s["spi"] for s in sas("out")] + ["/"] + [s["spi"] for s in sas("in")] + ["/"] + sorted({s.get("enc-algorithm", "?") for s in sas("in") + sas("out")}))')
    lab_info "mesh-site SAs (out / in / algorithm): $got; strongSwan in $SWAN_IN out $SWAN_OUT"
    "$LAB_PYTHON" - "$got" "$SWAN_IN" "$SWAN_OUT" <<'PY' ||
import sys
out, inn, alg = (p.split() for p in sys.argv[1].split("/"))
ok = [int(x, 16) for x in out] == [int(sys.argv[2], 16)] and [int(x, 16) for x in inn] == [int(sys.argv[3], 16)]
sys.exit(0 if ok and alg == ["aes-128-gcm"] else 1)
PY
        lab_die "mesh-site's SAs ($got) do not mirror strongSwan's (in $SWAN_IN, out $SWAN_OUT) with aes-128-gcm"
    lab_wait 5 "mesh-site's route to 10.2.0.0/24 via tun-b" _lab_route_via "$SITE_A" 10.2.0.0/24 tun-b
}

# swan_packets: "in out" packets of strongSwan's CHILD SA.
swan_packets() {
    lab_swan_sas b | "$LAB_PYTHON" -c '
import re, sys
t = sys.stdin.read()
i = re.search(r"^\s*in\s+[0-9a-f]{8},\s+\d+ bytes,\s+(\d+) packets", t, re.M)
o = re.search(r"^\s*out\s+[0-9a-f]{8},\s+\d+ bytes,\s+(\d+) packets", t, re.M)
print(i.group(1) if i else 0, o.group(1) if o else 0)'
}

# traffic_check: pings both ways; strongSwan's CHILD SA counted them.
traffic_check() {
    local before after
    before=$(swan_packets)
    lab_ping_expect "$LAN_A" $HOST_B 10
    lab_ping_expect "$LAN_B" $HOST_A 10
    after=$(swan_packets)
    lab_info "strongSwan CHILD SA packets (in out): $before -> $after"
    read -r in0 out0 <<<"$before"
    read -r in1 out1 <<<"$after"
    ((in1 - in0 >= 18 && out1 - out0 >= 18)) ||
        lab_die "strongSwan's CHILD SA did not carry the pings (in $in0 -> $in1, out $out0 -> $out1)"
}

if [[ ${INTEROP_NO_REFERENCE:-0} != 1 ]]; then
    lab_info "(ref) strongSwan on both sites: the lab and the charon config"
    lab_charon_start a
    lab_charon_start b
    lab_swanctl_psk_conf a "$secret"
    lab_swanctl_psk_conf b "$secret"
    lab_swanctl b --initiate --child lan --timeout 15 >"$LAB_DIR/swanctl-initiate.out" 2>&1 ||
        lab_die "(ref) strongSwan to strongSwan did not establish: $(tail -n 5 "$LAB_DIR/swanctl-initiate.out")"
    swan_check
    traffic_check
    lab_charon_stop a
    lab_charon_stop b
    lab_info "(ref) ok"
fi

for c in $cases; do
    case $c in
        a)
            lab_info "(a) strongSwan initiates, mesh-site (passive) responds"
            lab_write_ike_configs mode=ip secret="$secret" a.passive=true
            lab_ike_site_start a
            lab_charon_start b
            lab_swanctl_psk_conf b "$secret"
            lab_swanctl b --initiate --child lan --timeout 20 >"$LAB_DIR/swanctl-initiate.out" 2>&1 ||
                lab_die "(a) swanctl --initiate failed: $(tail -n 5 "$LAB_DIR/swanctl-initiate.out")"
            swan_check
            mesh_check
            traffic_check
            ;;
        b)
            lab_info "(b) mesh-site initiates, strongSwan responds"
            lab_write_ike_configs mode=ip secret="$secret"
            lab_charon_start b
            lab_swanctl_psk_conf b "$secret"
            lab_ike_site_start a
            lab_wait_tunnel_up a 20
            lab_wait 5 "strongSwan to show the SAs ESTABLISHED and INSTALLED" lab_swan_established b
            swan_check
            mesh_check
            traffic_check
            ;;
        c)
            lab_info "(c) SIGTERM to mesh-site: strongSwan drops the IKE SA (Delete)"
            lab_write_ike_configs mode=ip secret="$secret"
            lab_charon_start b
            lab_swanctl_psk_conf b "$secret"
            lab_ike_site_start a
            lab_wait_tunnel_up a 20
            lab_wait 5 "strongSwan to show the SAs ESTABLISHED and INSTALLED" lab_swan_established b
            pretty "$SITE_A" "kill -TERM mesh-site (site-a)"
            kill -TERM "${LAB_PID[mesh-site-a]}"
            t0=$SECONDS
            no_ike_sa() { ! lab_swan_sas b | grep -q ESTABLISHED; }
            lab_wait 5 "strongSwan to drop the IKE SA after mesh-site's SIGTERM" no_ike_sa
            lab_log_has strongswan-b 'received DELETE for IKE_SA' ||
                lab_die "(c) strongSwan dropped the SA but did not log receiving a Delete for it"
            lab_info "(c) strongSwan received the Delete and dropped the IKE SA within $((SECONDS - t0)) s"
            lab_ike_site_stop a
            ;;
        *) lab_die "unknown case '$c' in INTEROP_CASES" ;;
    esac
    lab_ike_site_stop a
    lab_charon_stop b
    lab_wait 5 "tun-b in site-a to go away" _lab_no_link "$SITE_A" tun-b
    lab_info "($c) ok"
done
lab_info "PASS: strongswan_psk (ref: $([[ ${INTEROP_NO_REFERENCE:-0} == 1 ]] && echo skipped || echo ok); $cases)"
