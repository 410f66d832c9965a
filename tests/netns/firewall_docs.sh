#!/usr/bin/env bash
# The nftables ruleset of docs/firewall.md, exactly as written there, loaded
# at both sites of the two-site lab (its REMOTE_LANS set to the other LAN):
#
#   lan-a 10.1.0.2 -- site-a [nft + mesh-site] ==IKE, ESP-in-UDP== [nft + mesh-site] site-b -- lan-b 10.2.0.2
#
#   1  nft accepts the ruleset as the docs print it
#   2  IKE comes up through it and LAN-to-LAN pings cross the tunnel both
#      ways; the input chain's policy is drop, so IKE and ESP-in-UDP were
#      let in by its rules
#   3  never in clear: with both daemons stopped and a route for the far LAN
#      through the underlay (what a default route does), pings from lan-a get
#      no reply and nothing of them reaches site-b's underlay; the same pings
#      without the ruleset do reach it, so the ruleset is what stopped them
#
# usage: tests/netns/firewall_docs.sh [MESH_SITE_BINARY]
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
source "$here/../../netns-lab/lib.sh"

lab_init ping nft tcpdump
lab_find_binary "${1:-}"
lab_two_site_topology

# ruleset LAN: the docs' ```nft block, its REMOTE_LANS the given far LAN
ruleset() {
    awk '/^```nft$/ { on = 1; next } /^```$/ { on = 0 } on' "$here/../../docs/firewall.md" |
        sed "s|^define REMOTE_LANS = .*|define REMOTE_LANS = { $1 }|"
}
ruleset 10.2.0.0/24 >"$LAB_DIR/site-a.nft"
ruleset 10.1.0.0/24 >"$LAB_DIR/site-b.nft"
grep -q 'policy drop' "$LAB_DIR/site-a.nft" || lab_die "no nftables ruleset with a drop policy found in docs/firewall.md"

lab_info "1: loading docs/firewall.md's ruleset at both sites"
n "$SITE_A" nft -f "$LAB_DIR/site-a.nft" || lab_die "nft refused docs/firewall.md's ruleset"
n "$SITE_B" nft -f "$LAB_DIR/site-b.nft" || lab_die "nft refused docs/firewall.md's ruleset"

lab_info "2: IKE and the tunnel through the filter"
lab_write_ike_configs
lab_ike_site_start b
lab_ike_site_start a
lab_wait_tunnel_up a 30
lab_wait_tunnel_up b 10
lab_ping_expect "$LAN_A" $HOST_B 10
lab_ping_expect "$LAN_B" $HOST_A 10

lab_info "3: both daemons stopped, the far LAN routed through the underlay"
lab_ike_sites_stop
n "$SITE_A" ip route replace 10.2.0.0/24 via $UNDERLAY_B dev wan0
n "$SITE_B" ip route replace 10.1.0.0/24 via $UNDERLAY_A dev wan0

# clear_pings N: how many of 5 pings lan-a -> lan-b were seen on site-b's underlay
clear_pings() {
    lab_capture_start "clear$1" "$SITE_B" wan0 icmp and host $HOST_A
    lab_ping "$LAN_A" $HOST_B 5 >/dev/null || true
    lab_capture_stop "clear$1"
    tcpdump -n -r "$LAB_DIR/clear$1.pcap" 2>/dev/null | grep -c "$HOST_A > $HOST_B" || true
}
leaked=$(clear_pings 1)
[[ $leaked == 0 ]] || lab_die "with the ruleset, $leaked ping(s) for the far LAN crossed the underlay in clear"
n "$SITE_A" nft flush ruleset
leaked=$(clear_pings 2)
((leaked > 0)) || lab_die "without the ruleset no ping crossed the underlay either: the test proves nothing"
lab_info "PASS: firewall_docs (tunnel through the docs' ruleset; $leaked clear pings without it, 0 with it)"
