# shellcheck shell=bash source-path=SCRIPTDIR
# netns-lab/frr.sh: one FRR (zebra + ospfd or bgpd) per namespace, sourced
# after lib.sh. FRR's pathspace (-N NS) keeps each namespace's daemons apart:
# configs in /etc/frr/NS/, pid files, vty sockets and zserv.api in
# /var/run/frr/NS/ (docs/lab.md). Both folders are removed at exit.
# The daemons log to /var/run/frr/NS/<daemon>.log (they run as frr, which
# cannot enter $LAB_DIR); lab_die tails them through symlinks in $LAB_DIR.

FRR_BIN=${FRR_BIN:-/usr/lib/frr}

# frr_require: skips (exit 77) when FRR is not installed.
frr_require() {
    [[ -x $FRR_BIN/zebra && -x $FRR_BIN/ospfd && -x $FRR_BIN/bgpd ]] || lab_skip "needs FRR ($FRR_BIN/zebra, ospfd, bgpd: apt-get install frr)"
    command -v vtysh >/dev/null || lab_skip "needs vtysh (FRR)"
}

frr_conf_dir() { echo "/etc/frr/$1"; }
frr_run_dir() { echo "/var/run/frr/$1"; }
frr_zserv() { echo "/var/run/frr/$1/zserv.api"; }

# frr_prepare NS: the namespace's config folder (vtysh refuses to run without
# a vtysh.conf in it) and run folder, both frr's; removed at exit.
frr_prepare() {
    local ns=$1 conf run
    conf=$(frr_conf_dir "$ns") run=$(frr_run_dir "$ns")
    # The parents, when the frr package has not made them yet (a fresh /run
    # is a tmpfs), must let frr through whatever the lab's umask 077 says.
    install -d -m 0755 -o frr -g frr "$(dirname "$run")"
    install -d -m 0755 "$(dirname "$conf")"
    mkdir -p "$conf" "$run"
    : >"$conf/vtysh.conf"
    lab_defer "frr_stop '$ns'"
}

# frr_write NS DAEMON < CONFIG: /etc/frr/NS/DAEMON.conf, logging to its run
# folder.
frr_write() {
    local ns=$1 daemon=$2 conf
    conf=$(frr_conf_dir "$ns")/$daemon.conf
    {
        echo "log file $(frr_run_dir "$ns")/$daemon.log"
        cat
    } >"$conf"
    ln -sf "$(frr_run_dir "$ns")/$daemon.log" "$LAB_DIR/frr-$ns-$daemon.log"
}

# frr_start NS DAEMON...: zebra first (the others connect to it), then each
# daemon named; waits until each answers on its vty socket.
frr_start() {
    local ns=$1 daemon conf run; shift
    conf=$(frr_conf_dir "$ns") run=$(frr_run_dir "$ns")
    chown -R frr:frr "$conf" "$run"
    chmod 0640 "$conf"/*.conf
    for daemon in zebra "$@"; do
        # bfdd at 50 ms x 3 must run within 150 ms of every packet due: on a
        # shared 2-vCPU machine at a load average of 20-40, equal priority
        # starved it past that and sessions flapped with no traffic at all.
        # SCHED_FIFO 2, above mesh-site's real-time workers (FIFO 1), as
        # docs/frr.md ("Priority") advises a site: at nice -10, the six
        # workers of mesh3 under iperf3 --bidir starved it into 8 session
        # downs in 60 s before their bound counted CPU time.
        local prio=()
        [[ $daemon != bfdd ]] || prio=(chrt -f 2)
        # -P 0: no vty TCP port; vtysh -N uses the Unix socket.
        # Its start-up chatter ("Disabling MPLS support") goes to a log, not the screen.
        n "$ns" "${prio[@]}" "$FRR_BIN/$daemon" -N "$ns" -d -P 0 -f "$conf/$daemon.conf" 2>>"$LAB_DIR/frr-$ns-start.log" ||
            lab_die "$daemon did not start in $ns"
        lab_wait 10 "$daemon in $ns to open its vty socket" test -S "$run/$daemon.vty"
    done
    lab_wait 10 "zebra's zserv socket in $ns" test -S "$run/zserv.api"
}

# frr_stop NS: every FRR daemon of the namespace (by its pid file), then
# both folders.
frr_stop() {
    local ns=$1 run pidfile pid i
    run=$(frr_run_dir "$ns")
    for pidfile in "$run"/*.pid; do
        [[ -f $pidfile ]] || continue
        pid=$(<"$pidfile")
        [[ $pid =~ ^[0-9]+$ ]] && kill "$pid" 2>/dev/null
    done
    for ((i = 0; i < 30; i++)); do
        pgrep -f -- "-N $ns " >/dev/null 2>&1 || break
        sleep 0.1
    done
    # A failed run keeps $LAB_DIR for a post-mortem: the logs go with it.
    if [[ ${LAB_KEEP_DIR:-0} == 1 ]]; then
        local log
        for log in "$run"/*.log; do
            [[ -f $log ]] && cp --remove-destination "$log" "$LAB_DIR/frr-$ns-$(basename "$log")"
        done
    fi
    rm -rf "$(frr_conf_dir "$ns")" "$run"
}

# frr_kill NS: kill -9 to every FRR daemon of the namespace, as a crash
# would; their stale sockets and pid files are removed so that frr_start can
# wait for the new ones. The folders and configs stay.
frr_kill() {
    local ns=$1 run pidfile pid pids=() i
    run=$(frr_run_dir "$ns")
    for pidfile in "$run"/*.pid; do
        [[ -f $pidfile ]] || continue
        pid=$(<"$pidfile")
        [[ $pid =~ ^[0-9]+$ ]] && kill -KILL "$pid" 2>/dev/null && pids+=("$pid")
    done
    for pid in "${pids[@]}"; do
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    done
    rm -f "$run"/*.pid "$run"/*.vty "$run/zserv.api"
}

# vty NS COMMAND...: one vtysh command in that namespace's FRR.
vty() {
    local ns=$1; shift
    vtysh -N "$ns" -c "$*" 2>&1 | grep -v "^% Can't open configuration file"
}

# frr_ospf_full NS IFNAME: an OSPF neighbor in state Full on IFNAME.
frr_ospf_full() {
    vty "$1" "show ip ospf neighbor" | awk -v ifn="$2" '$3 ~ /^Full/ && $0 ~ ifn":" { ok = 1 } END { exit !ok }'
}

# frr_bgp_established NS PEER_ADDRESS
frr_bgp_established() {
    vty "$1" "show bgp ipv4 unicast summary" |
        awk -v p="$2" '$1 == p && $10 ~ /^[0-9]+$/ { ok = 1 } END { exit !ok }'
}

# frr_bgp_paths NS PREFIX: the neighbors whose paths to PREFIX bgpd uses
# (valid, and best or multipath), sorted, comma-separated; empty if none.
frr_bgp_paths() {
    vty "$1" "show bgp ipv4 unicast $2 json" | "$LAB_PYTHON" -c '
import json, sys
try:
    paths = json.load(sys.stdin).get("paths") or []
except ValueError:
    paths = []
used = [p.get("peer", {}).get("peerId", "?") for p in paths
        if p.get("valid") and (p.get("multipath") or p.get("bestpath", {}).get("overall"))]
print(",".join(sorted(used)))'
}

# frr_route_ifaces NS PREFIX: the interfaces of the nexthops zebra installed
# in the kernel for PREFIX (`show ip route PREFIX json`, fib), sorted,
# comma-separated; empty if none.
frr_route_ifaces() {
    vty "$1" "show ip route $2 json" | "$LAB_PYTHON" -c '
import json, sys
try:
    routes = json.load(sys.stdin).get(sys.argv[1]) or []
except ValueError:
    routes = []
ifaces = {h.get("interfaceName", "?") for r in routes if r.get("selected")
          for h in r.get("nexthops", []) if h.get("fib")}
print(",".join(sorted(ifaces)))' "$2"
}

# frr_bfd_sessions NS: one line "PEER INTERFACE STATUS ID DOWNS" per BFD
# session of the namespace's bfdd (`show bfd peers json` and its counters).
# bfdd deletes a session when its last client (an OSPF neighbor, a BGP peer)
# goes, and makes a new one with a new ID: an ID that changed is a session
# that went down, even though its counters start again from 0.
frr_bfd_sessions() {
    "$LAB_PYTHON" - "$(vty "$1" 'show bfd peers json')" "$(vty "$1" 'show bfd peers counters json')" <<'PY'
import json, sys
def load(text):
    try:
        return json.loads(text)
    except ValueError:
        return []
downs = {(c.get("peer"), c.get("interface")): c.get("session-down", 0) for c in load(sys.argv[2])}
for p in load(sys.argv[1]):
    key = (p.get("peer"), p.get("interface"))
    print(key[0], key[1] or "-", p.get("status", "?"), p.get("id", 0), downs.get(key, 0))
PY
}

# frr_bfd_up NS PEER_ADDRESS: bfdd's session to that peer is up.
frr_bfd_up() {
    frr_bfd_sessions "$1" | awk -v p="$2" '$1 == p && $3 == "up" { ok = 1 } END { exit !ok }'
}

# frr_bfd_state_downs NS: how many times a BFD session of the namespace went
# from up to down, from bfdd's log (`debug bfd peer` logs every change).
frr_bfd_state_downs() {
    local count
    count=$(grep -c 'state-change: .* up -> down' "$(frr_run_dir "$1")/bfdd.log" 2>/dev/null) || true
    echo "${count:-0}"
}

# frr_ospf_adjacency_losses NS: how many times an OSPF neighbor of the
# namespace left Full, from ospfd's log (`log-adjacency-changes`).
frr_ospf_adjacency_losses() {
    local count
    count=$(grep -c 'AdjChg: .*: Full -> ' "$(frr_run_dir "$1")/ospfd.log" 2>/dev/null) || true
    echo "${count:-0}"
}
