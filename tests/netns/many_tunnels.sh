#!/usr/bin/env bash
# A hub of 1010 tunnels under systemd's soft limit of 1024 open files, and
# its stop. One namespace, no peer answering (static SAs: every tunnel is up
# at once, with its route and leak-guard blackhole):
#
#   hub [u0 192.0.2.1/24] --veth-- [u1]      default via 192.0.2.2 (peers 198.18.x.y)
#       gre-s0 .. gre-s1009: TUNs, 10.100.0.0/24 .. 10.103.241.0/24 routed over them
#
#   a  RLIMIT_NOFILE 1024 hard 1024: with CAP_SYS_RESOURCE the daemon raises
#      both and runs; without it, it refuses with one line naming the need,
#      the limit and the fix (LimitNOFILE=, ulimit -n), exit status 1, and
#      leaves no interface, route or blackhole
#   b  RLIMIT_NOFILE 1024 with a higher hard limit (systemd's default): it
#      raises its soft limit to the hard one (/proc/PID/limits), all 1010
#      interfaces exist and are up, 1010 routes and 1010 blackholes; a
#      second daemon on the same configuration is refused and changes
#      nothing; `ip route flush proto 250` and every route and blackhole is
#      put back
#   c  SIGTERM: exit status 0; no interface, route or blackhole of it left,
#      its interfaces deleted in one batch (logged); the time is printed
#      (closing 1000 TUNs one by one took 21 s: ~20 ms each in the kernel)
#
# Before the fix, (b) exited after 1003 TUNs with "finding interface
# gre-s992: No such file or directory".
#
# usage: tests/netns/many_tunnels.sh [MESH_SITE_BINARY]
#   TUNNELS=N changes the number of tunnels (default 1010).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
lab=$(dirname "$(readlink -f "$0")")/../../netns-lab
# shellcheck source=../../netns-lab/lib.sh
source "$lab/lib.sh"

lab_init prlimit
lab_find_binary "${1:-}"
tunnels=${TUNNELS:-1010}
hub=hub-$$
lab_ns_add "$hub"
lab_veth "$hub" u0 "$hub" u1
n "$hub" ip addr add 192.0.2.1/24 dev u0
n "$hub" ip link set u0 up
n "$hub" ip link set u1 up
n "$hub" ip route add default via 192.0.2.2

# The hub's configuration: a peer and a static-SA tunnel per branch.
# shellcheck disable=SC2034 # the t_* tables are read by lab_toml_table through their names
write_config() {
    local i key
    key=$(lab_hex 20)
    local -A t_site=([name]=hub [listen]=192.0.2.1 [control-socket]=$LAB_DIR/hub.sock)
    {
        lab_toml_table site t_site name listen control-socket
        for ((i = 0; i < tunnels; i++)); do
            local -A t_peer=([address]=198.18.$((i / 250)).$((i % 250 + 1)))
            local -A t_tunnel=([peer]=s$i [interface]=gre-s$i [mode]=gre
                [address]=172.$((16 + i / 16384)).$((i / 64 % 256)).$((i % 64 * 4 + 1))/30
                [routes]=10.$((100 + i / 256)).$((i % 256)).0/24)
            local -A t_sa=([enc-algorithm]=aes-128-gcm [spi-in]=$((0x100000 + i)) [spi-out]=$((0x200000 + i))
                [key-in]=$key [key-out]=$key)
            lab_toml_table "peer.s$i" t_peer address
            lab_toml_table "tunnel.s$i" t_tunnel peer interface address mode routes
            lab_toml_table "tunnel.s$i.static-sa" t_sa enc-algorithm spi-in spi-out key-in key-out
        done
    } >"$LAB_DIR/hub.toml"
}
pretty "" "writing $LAB_DIR/hub.toml: $tunnels peers and static-SA tunnels"
write_config
n "$hub" "$MESH_SITE" check-config -c "$LAB_DIR/hub.toml" >&2 || lab_die "check-config rejected hub.toml"

links() { ip -n "$hub" -o link show | grep -c ': gre-s' || true; }
links_up() { ip -n "$hub" -o link show up | grep -c ': gre-s' || true; }
routes() { ip -n "$hub" -4 route show proto 250 | grep -c ' dev gre-s' || true; }
blackholes() { ip -n "$hub" -4 route show type blackhole | grep -c . || true; }
nothing_left() {
    local what=$1
    (($(links) == 0)) || lab_die "($what) $(links) interfaces gre-s* left"
    (($(routes) == 0)) || lab_die "($what) $(routes) routes over gre-s* left"
    (($(blackholes) == 0)) || lab_die "($what) $(blackholes) blackholes left"
}
# max_open_files PID: the soft and hard "Max open files" of PID.
max_open_files() { awk '/^Max open files/ {print $4, $5}' "/proc/$1/limits"; }
ms_since() { "$LAB_PYTHON" -c "import sys; print(round((float(sys.argv[2]) - float(sys.argv[1])) * 1000))" "$1" "$EPOCHREALTIME"; }

# start NAME SOFT:HARD: the hub daemon under that RLIMIT_NOFILE, in the background.
start() { lab_bg "$1" "$hub" prlimit --nofile="$2" "$MESH_SITE" run -c "$LAB_DIR/hub.toml"; }
running() { lab_log_has "$1" "running with $tunnels tunnel"; }
exited() { ! lab_alive "$1"; }
# stop NAME: SIGTERM, waits (generously: no bound is asserted), prints the time, checks exit status 0.
stop() {
    local name=$1 pid=${LAB_PID[$1]} t0 rc=0
    pretty "$hub" "kill -TERM mesh-site ($name)"
    t0=$EPOCHREALTIME
    kill -TERM "$pid"
    lab_wait 120 "mesh-site ($name) to exit after SIGTERM" exited "$name"
    stop_ms=$(ms_since "$t0")
    wait "$pid" || rc=$?
    unset "LAB_PID[$name]"
    ((rc == 0)) || lab_die "mesh-site ($name) exited with status $rc after SIGTERM"
}

need=$(grep -c '^\[tunnel\.s[0-9]*\]$' "$LAB_DIR/hub.toml")
((need == tunnels)) || lab_die "hub.toml has $need tunnels, not $tunnels"

capeff=$(awk '/^CapEff/ {print $2}' /proc/self/status)
lab_info "(a) RLIMIT_NOFILE 1024, hard 1024 (CAP_SYS_RESOURCE: $(((0x$capeff >> 24) & 1)))"
start hard-limit 1024:1024
lab_wait 120 "mesh-site (hard-limit) to start or refuse" eval 'running hard-limit || exited hard-limit'
if (((0x$capeff >> 24) & 1)); then
    running hard-limit || lab_die "(a) with CAP_SYS_RESOURCE the daemon did not start: $(tail -n 1 "$LAB_DIR/hard-limit.log")"
    read -r soft hard < <(max_open_files "${LAB_PID[hard-limit]}")
    ((soft > tunnels && hard > tunnels)) || lab_die "(a) running with RLIMIT_NOFILE $soft hard $hard"
    stop hard-limit
    lab_info "(a) hard limit raised to $hard; stopped"
else
    rc=0
    wait "${LAB_PID[hard-limit]}" || rc=$?
    unset "LAB_PID[hard-limit]"
    ((rc == 1)) || lab_die "(a) the refused daemon exited with status $rc, not 1"
    line=$(tail -n 1 "$LAB_DIR/hard-limit.log")
    lab_info "(a) refused: $line"
    # Two TUN fds a tunnel: its bulk and priority queues.
    [[ $line =~ ^mesh-site:\ open\ files:\ this\ configuration\ needs\ ([0-9]+)\ \($((2 * tunnels))\ TUN.*RLIMIT_NOFILE\ is\ 1024\ with\ a\ hard\ limit\ of\ 1024.*LimitNOFILE=([0-9]+).*ulimit\ -n\ ([0-9]+) ]] ||
        lab_die "(a) the refusal does not name the need, the limit and the fix: $line"
    ((BASH_REMATCH[1] > tunnels && BASH_REMATCH[2] == BASH_REMATCH[1] && BASH_REMATCH[3] == BASH_REMATCH[1])) ||
        lab_die "(a) the refusal's numbers disagree: $line"
    (($(grep -c 'open files' "$LAB_DIR/hard-limit.log") == 1)) || lab_die "(a) the refusal is not one line"
fi
nothing_left a

host_hard=$(ulimit -Hn)
[[ $host_hard == unlimited ]] && host_hard=1048576
((host_hard > tunnels + 200)) || lab_skip "the hard limit of open files here ($host_hard) is too low for $tunnels tunnels"
lab_info "(b) RLIMIT_NOFILE 1024, hard $host_hard: $tunnels tunnels"
t0=$EPOCHREALTIME
start hub 1024:"$host_hard"
lab_wait 150 "mesh-site to run $tunnels tunnels" eval 'running hub || exited hub'
lab_alive hub || lab_die "(b) mesh-site exited at start: $(tail -n 1 "$LAB_DIR/hub.log")"
start_ms=$(ms_since "$t0")
read -r soft hard < <(max_open_files "${LAB_PID[hub]}")
((soft == host_hard)) || lab_die "(b) the soft limit is $soft, not the hard limit $host_hard"
lab_log_has hub "open files: [0-9]+ \\($((2 * tunnels)) TUN.* needed, limit $host_hard \\(was 1024" ||
    lab_die "(b) the log does not say what was needed and raised"
# shellcheck disable=SC2016 # eval expands it at each poll, not here
lab_wait 30 "$tunnels interfaces up, $tunnels routes, $tunnels blackholes" \
    eval '(($(links_up) == tunnels && $(routes) == tunnels && $(blackholes) == tunnels))'
lab_info "(b) running in $start_ms ms: $(links) interfaces ($(links_up) up), $(routes) routes, $(blackholes) blackholes, RLIMIT_NOFILE $soft"
n "$hub" ip -4 route show 10.100.7.0/24
n "$hub" ip -4 route show type blackhole 10.100.7.0/24

lab_info "(b) a second daemon on the same configuration is refused; the first keeps its $tunnels interfaces"
rc=0
n "$hub" prlimit --nofile=1024:"$host_hard" "$MESH_SITE" run -c "$LAB_DIR/hub.toml" >"$LAB_DIR/second.log" 2>&1 || rc=$?
((rc == 1)) || lab_die "(b) the second daemon exited with status $rc, not 1"
lab_log_has second "192\.0\.2\.1:4500 is already used by another mesh-site \(pid ${LAB_PID[hub]}\)" ||
    lab_die "(b) the second daemon did not name the first: $(tail -n 1 "$LAB_DIR/second.log")"
(($(links_up) == tunnels && $(routes) == tunnels && $(blackholes) == tunnels)) ||
    lab_die "(b) after the refusal: $(links_up) interfaces up, $(routes) routes, $(blackholes) blackholes"

lab_info "(b) every route and blackhole flushed behind its back: all back"
t0=$EPOCHREALTIME
n "$hub" ip route flush proto 250
# shellcheck disable=SC2016 # eval expands it at each poll, not here
lab_wait 60 "$tunnels routes and $tunnels blackholes restored" \
    eval '(($(routes) == tunnels && $(blackholes) == tunnels))'
lab_info "(b) restored in $(ms_since "$t0") ms (polled every 0.1 s)"

lab_info "(c) SIGTERM"
stop hub
nothing_left c
lab_log_has hub "deleted $tunnels interface\\(s\\) \\(groups [0-9]+ and [0-9]+\\) in [0-9]+ ms" ||
    lab_die "(c) the interfaces were not deleted in one batch"
lab_info "(c) stopped in $stop_ms ms ($(grep -Eo "deleted $tunnels interface.*" "$LAB_DIR/hub.log")); nothing left"
lab_info "PASS: many_tunnels ($tunnels tunnels: start $start_ms ms, stop $stop_ms ms)"
