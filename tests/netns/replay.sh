#!/usr/bin/env bash
# Anti-replay (RFC 4303 3.4.3): ESP packets of a->b captured on site-a's
# underlay and sent again to site-b must be dropped and counted.
#
#   lan-a -- site-a --wan0--[tcpdump: udp 4500 to 192.0.2.2]---- site-b -- lan-b
#               \__ python3: sendto(192.0.2.2:4500, captured payload) __/
#
# The replayed copies come from an ephemeral port: the daemon finds SAs by
# SPI. Sent again: the oldest captured packet (inside the window, already
# seen) and the newest, twice each. site-b's in SA must count 4 more
# replay-drops and no more authenticated packets; traffic still flows.
#
# usage: tests/netns/replay.sh [MESH_SITE_BINARY]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"

lab_init ping tcpdump
lab_find_binary "${1:-}"
lab_two_site_topology
lab_sites_start aes-128-gcm

lab_capture_start esp-a-to-b "$SITE_A" wan0 udp and dst host $UNDERLAY_B and dst port 4500
lab_ping_expect "$LAN_A" $HOST_B 5
lab_capture_stop esp-a-to-b

payloads=$(lab_pcap_udp_payloads "$LAB_DIR/esp-a-to-b.pcap")
# ESP with SPI 0x00002001 (the a->b SA) only: no keepalives or IKE.
esp=$(grep '^00002001' <<<"$payloads") || lab_die "no ESP with SPI 0x00002001 captured: $(head -c 300 <<<"$payloads")"
lab_info "captured $(wc -l <<<"$esp") ESP packets of SA 0x00002001"
oldest=$(head -n1 <<<"$esp") newest=$(tail -n1 <<<"$esp")

lab_counters_settle b
replay_before=$(lab_json b 'sa("in","replay-drops")')
in_before=$(lab_json b 'sa("in","packets")')

sent=$(printf '%s\n' "$oldest" "$newest" "$oldest" "$newest" | lab_udp_send "$SITE_A" $UNDERLAY_B 4500)
[[ $sent == 4 ]] || lab_die "sent $sent replayed datagrams, meant 4"
replays_at_least() { [[ $(lab_json b "sa('in','replay-drops') >= $1") == True ]]; }
lab_wait 5 "site-b to count 4 replay-drops" replays_at_least $((replay_before + 4))
replay_after=$(lab_json b 'sa("in","replay-drops")')
in_after=$(lab_json b 'sa("in","packets")')
lab_info "site-b in SA: replay-drops $replay_before -> $replay_after, packets $in_before -> $in_after"
((replay_after == replay_before + 4)) || lab_die "replay-drops went $replay_before -> $replay_after, expected +4"
((in_after == in_before)) || lab_die "replayed packets were accepted: in SA packets $in_before -> $in_after"
drops=$(lab_json b 'sa("in","auth-drops") + sa("in","malformed-drops")')
[[ $drops == 0 ]] || lab_die "replays counted as auth or malformed drops ($drops) too"

lab_ping_expect "$LAN_A" $HOST_B 5
lab_alive mesh-site-b || lab_die "site-b's mesh-site exited"
lab_info "PASS: replay"
