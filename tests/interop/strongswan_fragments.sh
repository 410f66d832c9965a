#!/usr/bin/env bash
# IKE fragmentation (RFC 7383) against strongSwan (charon + kernel-libipsec),
# over an underlay that cannot carry IP fragments:
#
#   lan-a 10.1.0.2 -- site-a [mesh-site, mode ip] ==IKE/ESP-in-UDP 4500== [charon + kernel-libipsec] site-b -- lan-b 10.2.0.2
#                     192.0.2.1  wan0 MTU 576                                 wan0 MTU 576  192.0.2.2
#                     RSA 2048 cert, fqdn:site-a.lab                          RSA 3072 cert, fqdn:site-b.lab
#                     OUTPUT -o wan0 -m length --length 577:65535 -j DROP (both sites)
#
# Netfilter sees a local datagram whole, before IP cuts it, so the length
# match drops whatever would leave in IP fragments: a firewall that drops
# fragments. The PKI (strongSwan's pki, in $LAB_DIR/pki): an ECDSA P-256 CA
# trusted by both; site-a's certificate on an RSA 2048 key, site-b's on an
# RSA 3072 key, so each IKE_AUTH message (certificate, RSA signature, CERTREQ,
# SA, TS) is twice the path MTU or more. IKE_SA_INIT stays small and is never
# fragmented. strongSwan: `fragmentation = yes` and `fragment_size = 576`
# (the largest IP datagram of its fragments; its default, 1280, does not
# fit); its log ($LAB_DIR/strongswan-b.log) has enc at level 1, where charon
# says what it splits and reassembles. mesh-site fragments by the path MTU
# it takes from the route (576).
#
#   control  a 1000-byte ping between the sites' underlay addresses gets no
#            answer either way (IP fragments are dropped); a small one does
#   a        strongSwan initiates (`swanctl --initiate`), mesh-site (passive)
#            responds
#   b        mesh-site initiates (both restarted), strongSwan responds
# In a and b:
#   - `swanctl --list-sas`: the IKE SA ESTABLISHED with site-a.lab at port
#     4500, the CHILD SA INSTALLED; mesh-site: the peer established, the
#     tunnel up, its SAs' SPIs those of strongSwan's CHILD SA mirrored;
#   - LAN-to-LAN pings pass both ways;
#   - mesh-site's status: messages-fragmented >= 1, messages-reassembled >= 1,
#     fragments-refused == 0, and the peer's "fragmentation" true;
#   - strongSwan's log, from this case on: "splitting IKE message (N bytes)
#     into M fragments" (M >= 2), "received fragment #i of M, waiting for
#     complete IKE message" and "received fragment #M of M, reassembled
#     fragmented IKE message (N bytes)";
#   - the drop rule at either site counted nothing during the case: every
#     IKE and ESP datagram of both ends fitted in 576 bytes.
#
# usage: tests/interop/strongswan_fragments.sh [MESH_SITE_BINARY]
#   INTEROP_CASES="a" narrows the list (the control always runs).
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"

lab_init ping pki iptables
lab_require_strongswan
lab_find_binary "${1:-}"
cases=${INTEROP_CASES:-a b}

# The PKI, before the topology (RSA key generation takes a moment).
PKI=$LAB_DIR/pki
lab_pki_ca "$PKI"
lab_pki_issue "$PKI" site-a rsa 2048 site-a.lab
lab_pki_issue "$PKI" site-b rsa 3072 site-b.lab
lab_info "CA (ECDSA P-256), site-a (RSA 2048), site-b (RSA 3072) made in $PKI"

lab_two_site_topology

# charon with what certificates need and fragments of at most 576 bytes.
# shellcheck disable=SC2034 # read by lab_charon_start
LAB_SWAN_PLUGINS="pem pkcs1 x509 pubkey constraints"
# shellcheck disable=SC2034 # read by lab_charon_start
LAB_SWAN_CHARON="    fragment_size = 576"

# The small path: MTU 576 on both underlay ends, and what would leave in IP
# fragments dropped.
for ns in "$SITE_A" "$SITE_B"; do
    n "$ns" ip link set wan0 mtu 576
    n "$ns" iptables -I OUTPUT -o wan0 -m length --length 577:65535 -j DROP
done

# drops NS: packets the fragment-dropping rule of NS has counted.
drops() {
    ns_exec "$1" iptables -L OUTPUT -v -x -n | awk '/DROP/ && /length 577:65535/ { print $1; exit }'
}

lab_info "(control) the path carries 576 bytes but no IP fragments"
lab_ping_expect "$SITE_A" "$UNDERLAY_B" 3
lab_ping_expect "$SITE_B" "$UNDERLAY_A" 3
for from in a b; do
    if [[ $from == a ]]; then ns=$SITE_A dst=$UNDERLAY_B; else ns=$SITE_B dst=$UNDERLAY_A; fi
    got=$(lab_ping "$ns" "$dst" 3 -s 1000)
    ((got == 0)) || lab_die "(control) a 1000-byte ping from site-$from crossed the 576-byte path in IP fragments ($got replies)"
    lab_info "(control) 1000-byte ping from site-$from: $got/3 replies; the drop rule counted $(drops "$ns")"
done

# swan_check: strongSwan's view (site-b) of the established SAs; sets
# SWAN_IN and SWAN_OUT to its CHILD SA's SPIs (hex, no 0x).
swan_check() {
    local sas
    sas=$(lab_swan_sas b)
    # shellcheck disable=SC2001 # a prefix on every line, which ${sas//} cannot anchor
    sed 's/^/    swanctl: /' <<<"$sas" >&2
    grep -q 'ESTABLISHED, IKEv2' <<<"$sas" || lab_die "strongSwan has no ESTABLISHED IKEv2 SA"
    grep -q "remote 'site-a.lab' @ $UNDERLAY_A\[4500\]" <<<"$sas" ||
        lab_die "strongSwan's IKE SA is not with site-a.lab at $UNDERLAY_A port 4500"
    grep -Eq 'lan: #[0-9]+, reqid [0-9]+, INSTALLED, TUNNEL-in-UDP' <<<"$sas" ||
        lab_die "strongSwan's CHILD SA is not INSTALLED, TUNNEL-in-UDP"
    SWAN_IN=$(sed -n 's/^ *in  \([0-9a-f]\{8\}\),.*/\1/p' <<<"$sas" | head -n1)
    SWAN_OUT=$(sed -n 's/^ *out \([0-9a-f]\{8\}\),.*/\1/p' <<<"$sas" | head -n1)
    [[ -n $SWAN_IN && -n $SWAN_OUT ]] || lab_die "no SPIs in strongSwan's CHILD SA"
}

# mesh_check: mesh-site's view (site-a): peer established, tunnel up, its
# SAs' SPIs mirroring strongSwan's, the route to the far LAN on its TUN.
mesh_check() {
    lab_wait_tunnel_up a 10
    local got
    got=$(lab_json a '" ".join([s["spi"] for s in sas("out")] + ["/"] + [s["spi"] for s in sas("in")])')
    lab_info "mesh-site SAs (out / in): $got; strongSwan in $SWAN_IN out $SWAN_OUT"
    "$LAB_PYTHON" - "$got" "$SWAN_IN" "$SWAN_OUT" <<'PY' ||
import sys
out, inn = (p.split() for p in sys.argv[1].split("/"))
sys.exit(0 if [int(x, 16) for x in out] == [int(sys.argv[2], 16)] and [int(x, 16) for x in inn] == [int(sys.argv[3], 16)] else 1)
PY
        lab_die "mesh-site's SAs ($got) do not mirror strongSwan's (in $SWAN_IN, out $SWAN_OUT)"
    lab_wait 5 "mesh-site's route to 10.2.0.0/24 via tun-b" _lab_route_via "$SITE_A" 10.2.0.0/24 tun-b
}

# swan_fragments_check CASE FIRST_LINE: strongSwan's log from FIRST_LINE on
# says it split a message into fragments and reassembled one it received.
swan_fragments_check() {
    local c=$1 log
    log=$(tail -n +"$2" "$LAB_DIR/strongswan-b.log")
    lab_info "($c) strongSwan's fragment log lines:"
    grep -E 'fragment' <<<"$log" | sed 's/^/    /' >&2
    grep -Eq 'splitting IKE message \([0-9]+ bytes\) into ([2-9]|[1-9][0-9]+) fragments' <<<"$log" ||
        lab_die "($c) strongSwan did not log splitting an IKE message into fragments"
    # charon's threads take the fragments in any order (CI once logged #3,
    # #2, then #1): one of several waits, the last to come completes the message.
    grep -Eq 'received fragment #[0-9]+ of ([2-9]|[1-9][0-9]+), waiting for complete IKE message' <<<"$log" ||
        lab_die "($c) strongSwan did not log receiving one fragment of several"
    grep -Eq 'received fragment #[0-9]+ of [0-9]+, reassembled fragmented IKE message \([0-9]+ bytes\)' <<<"$log" ||
        lab_die "($c) strongSwan did not log reassembling a fragmented IKE message"
}

# traffic_check: pings both ways over the tunnel.
traffic_check() {
    lab_ping_expect "$LAN_A" "$HOST_B" 10
    lab_ping_expect "$LAN_B" "$HOST_A" 10
}

for c in $cases; do
    [[ $c == a || $c == b ]] || lab_die "unknown case '$c' in INTEROP_CASES"
    lab_write_ike_configs mode=ip "a.passive=$([[ $c == a ]] && echo true || echo false)"
    lab_ike_use_certificates a certificate=pki/site-a.pem private-key=pki/site-a.key ca=pki/ca.pem
    first_line=$(($({ wc -l <"$LAB_DIR/strongswan-b.log"; } 2>/dev/null || echo 0) + 1))
    drops_before="$(drops "$SITE_A") $(drops "$SITE_B")"
    t0=$SECONDS
    case $c in
        a)
            lab_info "(a) strongSwan initiates, mesh-site (passive) responds"
            lab_ike_site_start a
            lab_charon_start b
            lab_swanctl_cert_conf b "$PKI"
            lab_swanctl b --initiate --child lan --timeout 20 >"$LAB_DIR/swanctl-initiate.out" 2>&1 ||
                lab_die "(a) swanctl --initiate failed: $(tail -n 5 "$LAB_DIR/swanctl-initiate.out")"
            ;;
        b)
            lab_info "(b) mesh-site initiates, strongSwan responds"
            lab_charon_start b
            lab_swanctl_cert_conf b "$PKI"
            lab_ike_site_start a
            lab_wait_tunnel_up a 20
            lab_wait 5 "strongSwan to show the SAs ESTABLISHED and INSTALLED" lab_swan_established b
            ;;
    esac
    lab_info "($c) established in $((SECONDS - t0)) s"
    swan_check
    mesh_check
    traffic_check
    lab_expect_ike_fragments "$c" a
    swan_fragments_check "$c" "$first_line"
    drops_after="$(drops "$SITE_A") $(drops "$SITE_B")"
    lab_info "($c) datagrams over 576 bytes dropped (site-a site-b): $drops_before before the case, $drops_after after"
    [[ $drops_after == "$drops_before" ]] ||
        lab_die "($c) the fragment-dropping rule dropped IKE or ESP datagrams over 576 bytes (site-a site-b: $drops_before -> $drops_after)"
    lab_ike_site_stop a
    lab_charon_stop b
    lab_wait 5 "tun-b in site-a to go away" _lab_no_link "$SITE_A" tun-b
    lab_info "($c) ok"
done
lab_info "PASS: strongswan_fragments (control; $cases)"
