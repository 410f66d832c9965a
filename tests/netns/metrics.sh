#!/usr/bin/env bash
# GET /metrics ([site] metrics-listen), scraped like Prometheus would:
#
#   lan-a 10.1.0.2 -- site-a ==[gre-b | IKEv2 + ESP-in-UDP | gre-a]== site-b -- lan-b 10.2.0.2
#                     127.0.0.1:9721                                    [::1]:9721
#
# With the tunnel up: both scrapes pass `promtool check metrics` without a
# word, the tunnel's up gauge is 1, and after N pings its packet counters
# (both ways, at both sites) grew by at least N. A CHILD SA rekey is
# counted at both ends and takes nothing off the counters. Then garbage, a wrong
# method and path, an oversized header and idle connections beyond the cap
# at site-a's port: each refused or closed, the tunnel still carries pings
# and a second scrape answers at once. Site-b restarted without the key
# listens on no TCP port at all.
#
# usage: tests/netns/metrics.sh [MESH_SITE_BINARY]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"

lab_init ping promtool
lab_find_binary "${1:-}"
lab_two_site_topology
# Site-b's listener is on IPv6 loopback; the lab turns IPv6 off elsewhere.
n "$SITE_B" sysctl -qw net.ipv6.conf.lo.disable_ipv6=0

declare -A listen=([a]="127.0.0.1:9721" [b]="[::1]:9721")
count=50

# scrape a|b [PATH]: the body of GET http://LISTEN/PATH, from inside the site's namespace.
scrape() {
    ns_exec "$(lab_site_ns "$1")" "$LAB_PYTHON" - "http://${listen[$1]}/${2:-metrics}" <<'PY'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=5) as answer:
    assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4"), answer.headers["Content-Type"]
    sys.stdout.write(answer.read().decode())
PY
}

# check_scrape a|b FILE: promtool has nothing to say about it.
check_scrape() {
    local problems
    problems=$(promtool check metrics <"$2" 2>&1) || lab_die "site-$1: promtool check metrics failed: $problems"
    [[ -z $problems ]] || lab_die "site-$1: promtool check metrics: $problems"
    lab_info "site-$1: promtool check metrics: no problems ($(grep -c '^mesh_site' "$2") samples)"
}

# value FILE METRIC: the value of the one sample of METRIC (name and labels, as written) in FILE.
value() {
    local got
    got=$(awk -v m="$2" 'index($0, m " ") == 1 { print $NF }' "$1")
    [[ $(wc -l <<<"$got") == 1 && -n $got ]] || lab_die "$1: not exactly one sample of $2: '$got'"
    echo "$got"
}

tunnel_labels() { # a|b: the labels of the site's one tunnel
    if [[ $1 == a ]]; then
        echo 'tunnel="site-b",peer="site-b",interface="gre-b"'
    else
        echo 'tunnel="site-a",peer="site-a",interface="gre-a"'
    fi
}

lab_write_ike_configs
for site in a b; do
    sed -i "/^\[site\]\$/a metrics-listen = \"${listen[$site]}\"" "$LAB_DIR/site-$site.toml"
done
lab_ike_site_start a
lab_ike_site_start b
lab_wait_settled
lab_ping_expect "$LAN_A" $HOST_B 5

for site in a b; do
    scrape $site >"$LAB_DIR/before-$site.prom" || lab_die "site-$site: GET /metrics failed"
    check_scrape $site "$LAB_DIR/before-$site.prom"
    labels=$(tunnel_labels $site)
    up=$(value "$LAB_DIR/before-$site.prom" "mesh_site_tunnel_up{$labels}")
    [[ $up == 1 ]] || lab_die "site-$site: mesh_site_tunnel_up is $up, expected 1"
    [[ $(value "$LAB_DIR/before-$site.prom" 'mesh_site_ike_sas{state="established"}') == 1 ]] ||
        lab_die "site-$site: not one established IKE SA in the scrape"
    # Each socket's drops in its own family: a sample written after the next
    # family's header would be that family's under promtool too.
    value "$LAB_DIR/before-$site.prom" 'mesh_site_socket_kernel_drops_total{socket="ike"}' >/dev/null
    stray=$(grep 'socket="' "$LAB_DIR/before-$site.prom" | grep -v '^mesh_site_socket_kernel_drops_total{' || true)
    [[ -z $stray ]] || lab_die "site-$site: socket samples outside mesh_site_socket_kernel_drops_total: $stray"
done

got=$(lab_ping "$LAN_A" $HOST_B $count)
((got == count)) || lab_die "ping: $got of $count replies"
lab_counters_settle a
lab_counters_settle b
for site in a b; do
    scrape $site >"$LAB_DIR/after-$site.prom" || lab_die "site-$site: GET /metrics failed"
    check_scrape $site "$LAB_DIR/after-$site.prom"
    labels=$(tunnel_labels $site)
    for direction in receive transmit; do
        metric="mesh_site_tunnel_${direction}_packets_total{$labels}"
        before=$(value "$LAB_DIR/before-$site.prom" "$metric")
        after=$(value "$LAB_DIR/after-$site.prom" "$metric")
        lab_info "site-$site: $metric $before -> $after after $count pings"
        ((after - before >= count)) || lab_die "site-$site: $metric grew by $((after - before)), fewer than $count pings"
    done
    metric="mesh_site_tunnel_transmit_bytes_total{$labels}"
    before=$(value "$LAB_DIR/before-$site.prom" "$metric")
    after=$(value "$LAB_DIR/after-$site.prom" "$metric")
    ((after - before >= count * 84)) || lab_die "site-$site: $metric grew by $((after - before)) for $count pings of 84 bytes"
done

# rekeyed: both sites counted one CHILD SA rekey and hold one SA again (the old one deleted).
rekeyed() {
    local site labels
    for site in a b; do
        labels=$(tunnel_labels $site)
        scrape $site >"$LAB_DIR/rekeyed-$site.prom" || return 1
        [[ $(value "$LAB_DIR/rekeyed-$site.prom" "mesh_site_tunnel_rekeys_total{$labels}") == 1 &&
            $(value "$LAB_DIR/rekeyed-$site.prom" "mesh_site_tunnel_sas{$labels}") == 1 ]] || return 1
    done
}
lab_info "site-a rekeys the CHILD SA: one rekey at each end, and no counter goes back with the old SA"
mesh a rekey --child site-b >&2
lab_wait 30 "the CHILD SA rekey counted at both sites, the old SA deleted" rekeyed
lab_ping_expect "$LAN_A" $HOST_B 10
lab_counters_settle a
for site in a b; do
    scrape $site >"$LAB_DIR/rekeyed-$site.prom" || lab_die "site-$site: GET /metrics failed"
    check_scrape $site "$LAB_DIR/rekeyed-$site.prom"
    labels=$(tunnel_labels $site)
    for direction in receive transmit; do
        metric="mesh_site_tunnel_${direction}_packets_total{$labels}"
        before=$(value "$LAB_DIR/after-$site.prom" "$metric")
        after=$(value "$LAB_DIR/rekeyed-$site.prom" "$metric")
        lab_info "site-$site: $metric $before -> $after across the rekey"
        ((after - before >= 9)) || lab_die "site-$site: $metric went from $before to $after across a rekey and 10 pings"
    done
done

# Misbehaving clients at site-a's port; the answers each gets (or the close).
lab_info "site-a: garbage, wrong method and path, an oversized header, 20 idle connections"
ns_exec "$SITE_A" "$LAB_PYTHON" - 127.0.0.1 9721 <<'PY' || lab_die "site-a: the metrics port mishandled a bad client"
import os, socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])

def ask(data, expect):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(data)
    answer = b""
    while chunk := s.recv(65536):
        answer += chunk
    s.close()
    status = answer.split(b"\r\n", 1)[0]
    if expect not in status:
        sys.exit(f"sent {data[:40]!r}...: answered {status!r}, expected {expect!r}")
    print(f"{data[:30]!r}: {status.decode()}", file=sys.stderr)

ask(os.urandom(3000).replace(b"\n", b"x") + b"\r\n\r\n", b" 400 ")
ask(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", b" 405 ")
ask(b"GET /admin HTTP/1.1\r\nHost: x\r\n\r\n", b" 404 ")
ask(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n", b" 431 ")
# Idle connections beyond the cap: the oldest idle ones are closed for the newest.
idle = [socket.create_connection((host, port), timeout=10) for _ in range(20)]
time.sleep(0.5)
ask(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", b" 200 ")
for s in idle:
    s.close()
# A connection that never sends its request is closed by the daemon at its 5 s deadline.
s = socket.create_connection((host, port), timeout=15)
start = time.monotonic()
if s.recv(1) != b"" or not 4 < time.monotonic() - start < 12:
    sys.exit(f"an idle connection was not closed at its deadline ({time.monotonic() - start:.1f} s)")
print(f"idle connection closed after {time.monotonic() - start:.1f} s", file=sys.stderr)
PY
lab_alive mesh-site-a || lab_die "mesh-site (site-a) exited"
lab_ping_expect "$LAN_A" $HOST_B 10
scrape a >"$LAB_DIR/third-a.prom" || lab_die "site-a: GET /metrics after the bad clients failed"
check_scrape a "$LAB_DIR/third-a.prom"
refused=$(value "$LAB_DIR/third-a.prom" mesh_site_metrics_requests_refused_total)
over=$(value "$LAB_DIR/third-a.prom" 'mesh_site_metrics_connections_closed_total{reason="over_limit"}')
timed_out=$(value "$LAB_DIR/third-a.prom" 'mesh_site_metrics_connections_closed_total{reason="timed_out"}')
lab_info "site-a: $refused requests refused, $over idle connections closed over the limit, $timed_out timed out"
((refused == 4 && over >= 16 && timed_out >= 1)) ||
    lab_die "site-a: refused $refused (expected 4), closed over the limit $over (expected >= 16), timed out $timed_out (expected >= 1)"
! lab_log_has mesh-site-a 'metrics: answered|GET /admin' || lab_die "site-a logged a request at info level"

lab_info "site-b: restarted without metrics-listen"
lab_ike_site_stop b
sed -i '/^metrics-listen = /d' "$LAB_DIR/site-b.toml"
lab_ike_site_start b
lab_wait_tunnel_up b 30
if tcp=$(ns_exec "$SITE_B" ss -Htln | grep .); then
    lab_die "site-b listens on TCP without metrics-listen: $tcp"
fi
lab_ping_expect "$LAN_A" $HOST_B 5
lab_info "PASS: metrics"
