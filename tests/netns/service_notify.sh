#!/usr/bin/env bash
# What systemd hears from mesh-site@.service (Type=notify, WatchdogSec=), with
# a datagram socket standing in for systemd's NOTIFY_SOCKET, in the two-site
# IKEv2 lab (netns-lab/lib.sh):
#   1  site-a alone: READY=1 with STATUS=0 of 1 tunnels up, once its control
#      socket answers; WATCHDOG=1 every half WATCHDOG_USEC (2 s: every 1 s)
#   2  site-b started: STATUS=1 of 1 tunnels up
#   3  site-b stopped (it sends its Delete): STATUS=0 of 1 tunnels up
#   4  SIGTERM to site-a: STOPPING=1, then it exits 0
#
# usage: tests/netns/service_notify.sh [MESH_SITE_BINARY]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"

lab_init
lab_find_binary "${1:-}"
lab_two_site_topology
lab_write_ike_configs

ns_a=$(lab_site_ns a)
notify=$LAB_DIR/notify.sock
heard=$LAB_DIR/notify-heard.log
# The fake systemd: one line per datagram, its newlines as '|'. A socket
# named by a path reaches across network namespaces.
lab_bg systemd "$ns_a" "$LAB_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode().replace("\n", "|") + "\n")
' "$notify" "$heard"
lab_wait 10 "the fake NOTIFY_SOCKET" test -S "$notify"

heard_line() { grep -qxF -- "$1" "$heard"; }
watchdogs() { grep -cxF WATCHDOG=1 "$heard" || true; }
watchdogs_at_least() { (($(watchdogs) >= $1)); }

lab_info "1: site-a alone: READY with 0 of 1 tunnels up, the watchdog fed every second"
# WATCHDOG_PID names the daemon: the bash that execs it keeps its pid.
# shellcheck disable=SC2016 # expanded by that bash
lab_bg mesh-site-a "$ns_a" env NOTIFY_SOCKET="$notify" WATCHDOG_USEC=2000000 \
    bash -c 'WATCHDOG_PID=$$ exec "$0" "$@"' "$MESH_SITE" run -c "$LAB_DIR/site-a.toml"
lab_wait 20 "READY=1" heard_line "READY=1|STATUS=0 of 1 tunnels up"
mesh a status --json >/dev/null || lab_die "READY=1 came, but the control socket does not answer"
before=$(watchdogs)
lab_wait 10 "three more WATCHDOG=1" watchdogs_at_least $((before + 3))

lab_info "2: site-b started: 1 of 1 tunnels up"
lab_ike_site_start b
lab_wait_tunnel_up a 20
lab_wait 10 "STATUS=1 of 1" heard_line "STATUS=1 of 1 tunnels up"

lab_info "3: site-b stopped: 0 of 1 tunnels up"
lab_ike_site_stop b
lab_wait 10 "STATUS=0 of 1" heard_line "STATUS=0 of 1 tunnels up"

lab_info "4: SIGTERM to site-a: STOPPING=1"
lab_ike_site_stop a
heard_line "STOPPING=1|STATUS=stopping: deleting the SAs with every peer" || lab_die "no STOPPING=1 heard"
grep -vxF WATCHDOG=1 "$heard" >&2
echo "ok: READY, STATUS on each change, $(watchdogs) WATCHDOG=1 and STOPPING heard"
