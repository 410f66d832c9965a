#!/usr/bin/env bash
# One mesh-site per address: a second daemon cannot take a running one's
# traffic or routes, routes removed behind a daemon's back come back, and
# stray signals do not kill it. Two sites keyed by IKEv2 (PSK, mode gre),
# with a default route at site-a straight out of its underlay, where a
# leak would go:
#
#   lan-a 10.1.0.2 -- site-a [mesh-site] ==IKE, ESP-in-UDP 4500== [mesh-site] site-b -- lan-b 10.2.0.2
#                     192.0.2.1, gre-b                                  192.0.2.2
#                     default via 192.0.2.2 dev wan0   <- where a leak would go
#
#   a  a second daemon at site-a, with another site name, control socket and
#      interface but the same listen address: refused with "192.0.2.1:4500 is
#      already used by another mesh-site (pid N)", exit status 1; the
#      first still up, pings cross the tunnel, its routes and blackholes are
#      as before, and a capture of site-a's underlay holds no clear packet
#      for the remote LAN
#   b  site-a's own configuration started a second time: the same refusal;
#      the first daemon's control socket still answers
#   c  `ip route del` of site-a's tunnel route, then of its leak-guard
#      blackhole: each back within 2 s, and logged
#   d  SIGHUP, SIGUSR1, SIGUSR2, SIGALRM to site-a: it stays up, pings pass,
#      each signal logged (SIGHUP: a reload with no change); then SIGTERM: site-b receives the Delete, site-a
#      exits with 0 and leaves neither control socket, routes nor blackholes
#
# usage: tests/netns/second_instance.sh [MESH_SITE_BINARY]
#   CASES="c d" runs only those cases.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
lab=$(dirname "$(readlink -f "$0")")/../../netns-lab
# shellcheck source=../../netns-lab/lib.sh
source "$lab/lib.sh"

lab_init ping tcpdump
lab_find_binary "${1:-}"
lab_two_site_topology
lab_write_ike_configs mode=gre
cases=${CASES:-a b c d}
lab_ike_site_start b
lab_ike_site_start a
lab_wait_settled
n "$SITE_A" ip route add default via "$UNDERLAY_B" dev wan0
lab_wait 5 "the route to 10.2.0.0/24 via gre-b in site-a" _lab_route_via "$SITE_A" 10.2.0.0/24 gre-b
lab_ping_expect "$LAN_A" "$HOST_B" 10
pid_a=${LAB_PID[mesh-site-a]}

# Site-a's routes to the far LAN, unicast and blackhole, as `ip route` prints them.
far_routes() { ip -n "$SITE_A" -4 route show 10.2.0.0/24; ip -n "$SITE_A" -4 route show type blackhole 10.2.0.0/24; }
routes_before=$(far_routes)
n "$SITE_A" ip -4 route show
grep -q "dev gre-b" <<<"$routes_before" || lab_die "no route to 10.2.0.0/24 via gre-b at site-a: $routes_before"
grep -q "^blackhole" <<<"$routes_before" || lab_die "no leak-guard blackhole for 10.2.0.0/24 at site-a: $routes_before"

# second NAME CONFIG: runs mesh-site on CONFIG in site-a (bounded: a daemon
# that starts is stopped after 10 s); its output lands in $LAB_DIR/NAME.log
# and its exit status in $rc.
second() {
    local name=$1 config=$2
    pretty "$SITE_A" "timeout 10 $MESH_SITE run -c $config"
    rc=0
    ip netns exec "$SITE_A" timeout 10 "$MESH_SITE" run -c "$config" >"$LAB_DIR/$name.log" 2>&1 || rc=$?
    lab_info "$name: exit status $rc, last line: $(tail -n 1 "$LAB_DIR/$name.log")"
}
refused_line="192\.0\.2\.1:4500 is already used by another mesh-site \(pid $pid_a\)"

first_intact() {
    local label=$1 now
    lab_alive mesh-site-a || lab_die "($label) site-a's first mesh-site exited"
    lab_tunnel_up a || lab_die "($label) site-a's tunnel is not up: $(lab_tunnel_state a)"
    lab_ping_expect "$LAN_A" "$HOST_B" 10
    now=$(far_routes)
    [[ $now == "$routes_before" ]] || lab_die "($label) site-a's routes changed: before
$routes_before
now
$now"
}

# elapsed_ms T0: milliseconds since T0 (an $EPOCHREALTIME).
elapsed_ms() { "$LAB_PYTHON" -c "import sys; print(round((float(sys.argv[2]) - float(sys.argv[1])) * 1000))" "$1" "$EPOCHREALTIME"; }

# has_guard METRIC: site-a has its blackhole for 10.2.0.0/24 at METRIC.
has_guard() { ip -n "$SITE_A" -4 route show type blackhole 10.2.0.0/24 | grep -q "metric $1"; }

# deletes: site-b has logged more IKE SA Deletes from its peer than $deletes_before.
deletes() { (($(grep -Ec "peer [0-9.:]+ deleted the IKE SA" "$LAB_DIR/mesh-site-b.log") > deletes_before)); }

case_a() {
    lab_info "(a) a second daemon with another name, socket and interface on site-a's listen address"
    lab_capture_start capture "$SITE_A" wan0 -Q out
    sed -e 's/^name = "site-a"/name = "site-a2"/' -e 's/site-a\.sock/site-a2.sock/' -e 's/^interface = "gre-b"/interface = "gre-c"/' \
        "$LAB_DIR/site-a.toml" >"$LAB_DIR/site-a2.toml"
    grep -q 'interface = "gre-c"' "$LAB_DIR/site-a2.toml" || lab_die "(a) could not write site-a2.toml"
    second second-a "$LAB_DIR/site-a2.toml"
    ((rc == 1)) || lab_die "(a) the second daemon exited with status $rc, not 1 (a refusal)"
    lab_log_has second-a "$refused_line" || lab_die "(a) the second daemon did not say that 192.0.2.1:4500 is used by pid $pid_a"
    [[ $(wc -l <"$LAB_DIR/second-a.log") -le 2 ]] || lab_die "(a) the refusal is not one clear line: $(cat "$LAB_DIR/second-a.log")"
    ! ip -n "$SITE_A" link show gre-c >/dev/null 2>&1 || lab_die "(a) the refused daemon left interface gre-c"
    first_intact a
    lab_ping "$LAN_A" "$HOST_B" 20 >/dev/null
    lab_capture_stop capture
    leaked=$(tcpdump -n -r "$LAB_DIR/capture.pcap" "ip and dst net 10.2.0.0/24" 2>/dev/null | wc -l)
    ((leaked == 0)) || lab_die "(a) $leaked packets for the remote LAN left site-a's underlay in clear"
    lab_info "(a) refused; site-a intact, nothing in clear"
}

case_b() {
    lab_info "(b) site-a's own configuration started a second time"
    second second-b "$LAB_DIR/site-a.toml"
    ((rc == 1)) || lab_die "(b) the second daemon exited with status $rc, not 1 (a refusal)"
    lab_log_has second-b "$refused_line" || lab_die "(b) the second daemon did not say that 192.0.2.1:4500 is used by pid $pid_a"
    mesh a status --json >/dev/null || lab_die "(b) site-a's control socket no longer answers"
    first_intact b
    lab_info "(b) refused; site-a's control socket answers"
}

case_c() {
    lab_info "(c) site-a's routes removed behind its back"
    metric=$(ip -n "$SITE_A" -4 route show 10.2.0.0/24 dev gre-b | sed -n 's/.* metric \([0-9]*\).*/\1/p')
    t0=$EPOCHREALTIME
    n "$SITE_A" ip route del 10.2.0.0/24 dev gre-b metric "$metric"
    lab_wait 2 "the route to 10.2.0.0/24 via gre-b to come back" _lab_route_via "$SITE_A" 10.2.0.0/24 gre-b
    lab_info "(c) route back after $(elapsed_ms "$t0") ms (polled every 0.1 s)"
    lab_wait_log 2 "route 10\.2\.0\.0/24 .*was removed by someone else: restored" mesh-site-a >/dev/null ||
        lab_die "(c) site-a did not log that it restored the route"
    guard=$(ip -n "$SITE_A" -4 route show type blackhole 10.2.0.0/24 | sed -n 's/.* metric \([0-9]*\).*/\1/p')
    t0=$EPOCHREALTIME
    n "$SITE_A" ip route del blackhole 10.2.0.0/24 metric "$guard"
    lab_wait 2 "the leak-guard blackhole for 10.2.0.0/24 to come back" has_guard "$guard"
    lab_info "(c) blackhole back after $(elapsed_ms "$t0") ms (polled every 0.1 s)"
    lab_wait_log 2 "blackhole 10\.2\.0\.0/24 was removed by someone else: restored" mesh-site-a >/dev/null ||
        lab_die "(c) site-a did not log that it restored the blackhole"
    first_intact c
    lab_info "(c) both restored and logged"
}

case_d() {
    lab_info "(d) SIGHUP, SIGUSR1, SIGUSR2, SIGALRM to site-a"
    for signal in HUP USR1 USR2 ALRM; do
        pretty "$SITE_A" "kill -$signal mesh-site (site-a)"
        kill -"$signal" "$pid_a"
        lab_wait_log 5 "SIG$signal" mesh-site-a >/dev/null || lab_die "(d) site-a did not log SIG$signal"
        first_intact "d, SIG$signal"
    done
    # The file did not change: SIGHUP reloads it and finds nothing to do (tests/netns/reload.sh does more).
    lab_wait 5 "site-a's reload on SIGHUP" lab_log_has mesh-site-a "SIGHUP: reloaded .*: no change"
    deletes_before=$(grep -Ec "peer [0-9.:]+ deleted the IKE SA" "$LAB_DIR/mesh-site-b.log" || true)
    lab_ike_site_stop a
    lab_wait 5 "site-b to log site-a's Delete" deletes
    [[ ! -e $LAB_DIR/site-a.sock ]] || lab_die "(d) site-a left its control socket $LAB_DIR/site-a.sock"
    left=$(ip -n "$SITE_A" -4 route show proto 250)
    [[ -z $left ]] || lab_die "(d) site-a left routes behind: $left"
    left=$(ip -n "$SITE_A" -4 route show type blackhole)
    [[ -z $left ]] || lab_die "(d) site-a left blackholes behind: $left"
    lab_info "(d) signals logged; SIGTERM: Delete sent, socket, routes and blackholes gone"
}

for c in $cases; do
    case $c in
        a | b | c | d) "case_$c" ;;
        *) lab_die "unknown case '$c' in CASES" ;;
    esac
done
lab_info "PASS: second_instance ($cases)"
