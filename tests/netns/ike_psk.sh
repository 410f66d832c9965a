#!/usr/bin/env bash
# Two sites keyed by mesh-site's own IKEv2 with a pre-shared key:
#
#   lan-a 10.1.0.2 -- site-a [mesh-site] ==IKE 500->4500, ESP-in-UDP 4500== [mesh-site] site-b -- lan-b 10.2.0.2
#                     192.0.2.1  fqdn:site-a.lab          fqdn:site-b.lab  192.0.2.2
#
# (the full diagram is at the top of netns-lab/lib.sh). Cases, each with
# both daemons started afresh:
#   a  mode gre (transport-mode ESP, GRE between the gateways): both sides
#      show the peer established and the tunnel up, SAs each way with SPIs
#      that IKE chose (not lib.sh's static 0x00001001/0x00002001) and that
#      mirror each other; LAN-to-LAN pings both ways; 3 s of iperf3;
#      the pre-shared key in neither log
#   b  mode ip (tunnel-mode ESP, TS = the two LANs): up, pings both ways
#   c  site-b passive: site-a initiates, the tunnel comes up, pings pass
#   d  a wrong pre-shared key at site-b: no tunnel, "authentication failed"
#      logged, both daemons alive and answering status
#   e  ESP proposals that do not meet (site-a aes-256-gcm, site-b only
#      aes-128-cbc; site-b passive so site-a initiates): no tunnel, both
#      daemons log "no suitable proposal found" (docs/ike.md)
#   f  SIGTERM to site-a: site-b's tunnel leaves "up" (or its peer goes)
#      within 5 s, because site-a sends a Delete
#
# usage: tests/netns/ike_psk.sh [MESH_SITE_BINARY]
#   IKE_CASES="a d" runs only those cases.
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"

lab_init iperf3 ping
lab_find_binary "${1:-}"
lab_two_site_topology
lab_iperf_server "$LAN_B"
cases=${IKE_CASES:-a b c d e f}

# both_up: both daemons started, both tunnels up, the route to the far LAN
# over each tunnel interface.
both_up() {
    lab_ike_site_start b
    lab_ike_site_start a
    lab_wait_tunnel_up a 20
    lab_wait_tunnel_up b 10
    lab_wait 5 "the route to 10.2.0.0/24 via ${LAB_IKE_IF[a]} in site-a" _lab_route_via "$SITE_A" 10.2.0.0/24 "${LAB_IKE_IF[a]}"
    lab_wait 5 "the route to 10.1.0.0/24 via ${LAB_IKE_IF[b]} in site-b" _lab_route_via "$SITE_B" 10.1.0.0/24 "${LAB_IKE_IF[b]}"
}

# check_sas ALGORITHM: at least one SA each way at each site, all of the
# algorithm given, with SPIs that IKE chose (not lib.sh's static ones, not 0)
# and that mirror each other: each of a's out SPIs is one of b's in SPIs and
# back. (Both sides may initiate at once; more than one SA or IKE SA per
# direction is reported, not failed.)
check_sas() {
    local alg=$1
    lab_ike_sas_mirror
    local site algs n
    for site in a b; do
        algs=$(lab_ike_json $site 'sorted({s.get("enc-algorithm") for s in sas("in") + sas("out")})')
        [[ $algs == "['$alg']" ]] || lab_die "site-$site's SAs use $algs, expected ['$alg']"
        n=$(lab_ike_json $site '"%d IKE SA(s), %s CHILD SA(s), %d in / %d out SA(s)" % (len(peers()), "+".join(str(p.get("children")) for p in peers()), len(sas("in")), len(sas("out")))')
        [[ $n == "1 IKE SA(s), 1 CHILD SA(s), 1 in / 1 out SA(s)" ]] || lab_info "note: site-$site has $n"
        [[ $(lab_ike_json $site 'sum(int(p.get("children") or 0) for p in peers() if p.get("state") == "established") >= 1') == True ]] ||
            lab_die "site-$site: no established peer reports a CHILD SA (\"children\")"
    done
}

pings_both_ways() {
    lab_ping_expect "$LAN_A" $HOST_B 10
    lab_ping_expect "$LAN_B" $HOST_A 10
}

both_alive() {
    local site
    for site in a b; do
        lab_alive mesh-site-$site || lab_die "site-$site's mesh-site exited"
        mesh $site status --json >/dev/null || lab_die "site-$site's status no longer answers"
    done
}

for c in $cases; do
    case $c in
        a)
            lab_info "(a) mode gre, both sides active: up, IKE SPIs, pings both ways, iperf3"
            secret=$(lab_hex 16)
            lab_write_ike_configs mode=gre secret="$secret"
            both_up
            check_sas aes-128-gcm
            pings_both_ways
            ! grep -q "$secret" "$LAB_DIR"/mesh-site-*.log || lab_die "(a) the pre-shared key appears in a daemon log"
            gbps=$(lab_iperf "$LAN_A" $HOST_B 3)
            lab_info "(a) iperf3 $gbps Gbit/s"
            awk -v g="$gbps" 'BEGIN { exit !(g > 0.001) }' || lab_die "(a) iperf3 moved nothing ($gbps Gbit/s)"
            lab_tunnel_up a && lab_tunnel_up b || lab_die "(a) a tunnel went down during iperf3 (a $(lab_tunnel_state a), b $(lab_tunnel_state b))"
            ;;
        b)
            lab_info "(b) mode ip (tunnel mode, 10.1.0.0/24 <-> 10.2.0.0/24): up, pings both ways"
            lab_write_ike_configs mode=ip
            both_up
            check_sas aes-128-gcm
            pings_both_ways
            ;;
        c)
            lab_info "(c) site-b passive: site-a initiates"
            lab_write_ike_configs mode=gre b.passive=true
            both_up
            check_sas aes-128-gcm
            pings_both_ways
            ;;
        d)
            lab_info "(d) wrong pre-shared key at site-b: no tunnel, \"authentication failed\" logged"
            lab_write_ike_configs mode=gre b.secret=not-the-right-secret
            lab_ike_site_start b
            lab_ike_site_start a
            who=$(lab_wait_log 20 'authentication failed' mesh-site-a mesh-site-b) ||
                lab_die "(d) no daemon logged \"authentication failed\" within 20 s"
            lab_info "(d) \"authentication failed\" in: $who"
            lab_not_up 3
            both_alive
            ;;
        e)
            lab_info "(e) ESP proposals that do not meet (a: aes-256-gcm, b: aes-128-cbc, b passive)"
            lab_write_ike_configs mode=gre a.esp=aes-256-gcm b.esp=aes-128-cbc b.passive=true
            lab_ike_site_start b
            lab_ike_site_start a
            lab_wait_log 20 'no suitable proposal found' mesh-site-b >/dev/null ||
                lab_die "(e) the responder (site-b) did not log \"no suitable proposal found\" within 20 s"
            lab_wait_log 5 'no suitable proposal found' mesh-site-a >/dev/null ||
                lab_die "(e) the initiator (site-a) did not log \"no suitable proposal found\" (told NO_PROPOSAL_CHOSEN)"
            lab_info "(e) both logged \"no suitable proposal found\":"
            grep -hi 'no suitable proposal found' "$LAB_DIR/mesh-site-a.log" "$LAB_DIR/mesh-site-b.log" | head -n 4 | sed 's/^/    /' >&2
            lab_not_up 3
            both_alive
            ;;
        f)
            lab_info "(f) SIGTERM to site-a: site-b's tunnel goes down (Delete)"
            lab_write_ike_configs mode=gre
            both_up
            pretty "$SITE_A" "kill -TERM mesh-site (site-a)"
            kill -TERM "${LAB_PID[mesh-site-a]}"
            t0=$SECONDS
            down_at_b() { ! lab_tunnel_up b; }
            lab_wait 5 "site-b's tunnel to leave \"up\" after site-a's SIGTERM" down_at_b
            lab_info "(f) site-b: $(lab_tunnel_state b) within $((SECONDS - t0)) s"
            lab_log_has mesh-site-b 'delet' ||
                lab_die "(f) site-b's tunnel went down but its log does not mention the Delete it received"
            lab_ike_site_stop a
            lab_alive mesh-site-b || lab_die "(f) site-b's mesh-site exited"
            mesh b status --json >/dev/null || lab_die "(f) site-b's status no longer answers"
            ;;
        *) lab_die "unknown case '$c' in IKE_CASES" ;;
    esac
    lab_ike_sites_stop
    lab_info "($c) ok"
done
lab_info "PASS: ike_psk ($cases)"
