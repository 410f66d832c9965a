#!/usr/bin/env bash
# A flood of spoofed IKE_SA_INIT requests does not keep a legitimate peer
# out nor the daemon's memory growing (RFC 7296 section 2.6, cookies).
# Site a is a passive hub that accepts any address (a template peer with
# address 0.0.0.0/0 beside its host peer for b), so every well-formed
# IKE_SA_INIT could cost it a DH and a half-open IKE SA.
# From site b's namespace, 10,000 such requests (tests/netns/ike_flood.py)
# come from random spoofed addresses in 198.51.100.0/24, and while they do,
# site b's own mesh-site establishes its tunnel:
#   - the tunnel comes up, b having answered the COOKIE it was given;
#   - site a sent cookies, and holds at most its ike-cookie-threshold (set
#     to 10 here) half-open IKE SAs plus the legitimate one;
#   - site a's resident memory grew by less than 16 MiB over the flood.
# usage: tests/netns/cookie_flood.sh [MESH_SITE_BINARY]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../netns-lab/lib.sh"
lab_init ping
lab_find_binary "${1:-}"
lab_two_site_topology
lab_write_ike_configs a.passive=true
# The hub takes any address: spoofed sources all look like possible peers.
cat >>"$LAB_DIR/site-a.toml" <<EOF

[peer.any]
address = "0.0.0.0/0"
passive = true
secrets = { "fqdn:nobody.example.net" = "$(lab_hex 16)" }

[tunnel.any]
peer = "any"
interface = "any"
address-pool = "172.16.128.0/24"
EOF
sed -i '/^\[site\]/a ike-cookie-threshold = 10' "$LAB_DIR/site-a.toml"
# Answers to the spoofed sources go to b, which drops them (no forwarding).
n "$SITE_A" ip route add 198.51.100.0/24 via 192.0.2.2

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/${LAB_PID[mesh-site-a]}/status"; }
a_json() { mesh a status --json; }
count_of() { "$LAB_PYTHON" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

lab_ike_site_start a
rss_before=$(rss_kib)
lab_info "site a up, resident memory ${rss_before} KiB; flooding it with 10,000 spoofed IKE_SA_INIT"
lab_bg flood "$SITE_B" "$LAB_PYTHON" "$here/ike_flood.py" 192.0.2.1 10000 198.51.100
# Site b starts once the flood has filled site a's half-open budget.
flooding() { [[ $(lab_json a 'd["counters"]["ike"]["cookies-sent"] > 0') == True ]]; }
lab_wait 20 "site a to answer the flood with cookies" flooding
lab_ike_site_start b
lab_wait_tunnel_up b
lab_wait_tunnel_up a
lab_log_has mesh-site-b "asks for a COOKIE" || lab_die "site b established without being asked for a cookie"
lab_info "site b's tunnel is up during the flood, after answering a COOKIE"
lab_wait 60 "the flood to end" bash -c "! kill -0 ${LAB_PID[flood]} 2>/dev/null"
grep -q "sent 10000" "$LAB_DIR/flood.log" || lab_die "the flood did not send its 10,000 requests: $(cat "$LAB_DIR/flood.log")"
lab_counters_settle a 'd["counters"]["ike"]'
rss_after=$(rss_kib)
cookies=$(a_json | count_of 'd["counters"]["ike"]["cookies-sent"]')
half_open=$(a_json | count_of 'sum(1 for p in d["peers"] if p["state"] == "init-done")')
established=$(a_json | count_of 'sum(1 for p in d["peers"] if p["state"] == "established")')
grown=$((rss_after - rss_before))
lab_info "site a: $cookies cookies sent, $half_open half-open and $established established IKE SA(s), memory ${rss_before} -> ${rss_after} KiB (+${grown})"
((cookies > 1000)) || lab_die "site a sent only $cookies cookies for 10,000 requests"
((half_open <= 10)) || lab_die "site a holds $half_open half-open IKE SAs (cookie threshold 10)"
((established == 1)) || lab_die "site a holds $established established IKE SAs, expected b's one"
((grown < 16384)) || lab_die "site a's memory grew by ${grown} KiB over the flood (bound: 16 MiB)"
lab_ping_expect "$LAN_A" 10.2.0.2 5
lab_info "PASS: cookie_flood"
