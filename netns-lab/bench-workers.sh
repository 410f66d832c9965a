#!/usr/bin/env bash
# The workers benchmark: two sites joined by 1, 10 and 100 tunnels (static
# SAs, AES-128-GCM, mode gre), one iperf3 TCP flow through each tunnel, all
# at once, with `[site] workers = 1` and `workers = 2`, each beside the bare
# underlay carrying the same number of flows in the same run:
#
#   lan-a 10.10.X.Y (one source per flow) -- site-a ==N tunnels== site-b -- lan-b 10.20.X.Y
#                       (the two-site topology at the top of netns-lab/lib.sh)
#
# Flow t goes from 10.10.X.Y to 10.20.X.Y (t = 250 X + Y - 1), routed over
# tunnel t both ways; its iperf3 server listens on port 5201 + t. Ends with a
# table, per number of tunnels: aggregate Gbit/s received (iperf3's servers)
# over the bare underlay and over mesh-site with each number of workers,
# each as a fraction of the bare figure and of 1 tunnel with the same workers
# (goal: >= 0.9 at 100); the slowest and the fastest flow's share (its
# Gbit/s over the aggregate / N: 1-1 is fair); the datagrams the workers'
# sockets dropped at site-a (ACKs) and site-b (data); both daemons' CPU
# seconds per GB carried (what the machine's other load moves least);
# workers 2 over workers 1; and the aggregate and the flows' shares again
# over the seconds all flows ran at once ("all running": the clients start
# one by one, over a second or more, and the first ones run alone for a
# while, which flatters their share and, unevenly, the aggregate). --base PATH measures another build (main's) the same way in
# the same run, beside each of this one's. The daemons run at nice -10 (docs/lab.md,
# "Gateway priority"): the iperf3 processes stand in for the LANs' hosts.
#
# usage: netns-lab/bench-workers.sh [--time SECONDS] [--binary PATH]
#            [--base PATH] [--tunnels 1,10,100] [--workers 1,2]
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$(readlink -f "$0")")/lib.sh"

seconds=8 binary='' base='' tunnel_counts=1,10,100 worker_counts=1,2
# The 200 iperf3 processes stand in for hosts of the LANs, which are other
# machines on a real network: at equal priority they outnumber the gateways'
# threads on this machine's cores and starve them (100 tunnels fell to a
# quarter of one tunnel's figure).
LAB_GATEWAY_NICE=-10
while (($#)); do
    case $1 in
        --time | -t) seconds=$2; shift 2 ;;
        --binary | -b) binary=$2; shift 2 ;;
        --base) base=$(readlink -f "$2"); shift 2 ;;
        --tunnels) tunnel_counts=$2; shift 2 ;;
        --workers) worker_counts=$2; shift 2 ;;
        -h | --help) sed -n '2,27s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done
IFS=, read -ra tunnel_list <<<"$tunnel_counts"
IFS=, read -ra worker_list <<<"$worker_counts"
most=0
for n in "${tunnel_list[@]}"; do ((n > most)) && most=$n; done
((most <= 1000)) || { echo "at most 1000 tunnels" >&2; exit 2; }

lab_init iperf3
lab_find_binary "$binary"
lab_info "building the two-site topology (namespaces end in -$$)"
lab_two_site_topology

# host_of PREFIX T: flow T's address, 10.10.X.Y or 10.20.X.Y.
host_of() { echo "$1.$(($2 / 250)).$(($2 % 250 + 1))"; }

for ((t = 0; t < most; t++)); do
    echo "address add $(host_of 10.10 "$t")/32 dev lo"
done | ip -n "$LAN_A" -batch -
for ((t = 0; t < most; t++)); do
    echo "address add $(host_of 10.20 "$t")/32 dev lo"
done | ip -n "$LAN_B" -batch -
n "$SITE_A" ip route add 10.10.0.0/16 via 10.1.0.2 dev lan0
n "$SITE_B" ip route add 10.20.0.0/16 via 10.2.0.2 dev lan0
for ((t = 0; t < most; t++)); do
    lab_bg "iperf3-server-$t" "$LAN_B" iperf3 -s -B "$(host_of 10.20 "$t")" -p $((5201 + t))
done
lab_wait 30 "$most iperf3 servers in $LAN_B" \
    bash -c "(( \$(ip netns exec $LAN_B ss -Htln 'sport >= :5201' | wc -l) >= $most ))"

# write_configs N WORKERS: site-a.toml and site-b.toml, N tunnels each.
# shellcheck disable=SC2034 # the t_* tables are read by lab_toml_table through their names
write_configs() {
    local count=$1 workers=$2 me other t key_ab key_ba
    for me in a b; do
        other=$([[ $me == a ]] && echo b || echo a)
        local -A t_site=([name]=site-$me [listen]=$([[ $me == a ]] && echo "$UNDERLAY_A" || echo "$UNDERLAY_B")
            [control-socket]=$LAB_DIR/site-$me.sock [workers]=$workers)
        local -A t_peer=([address]=$([[ $me == a ]] && echo "$UNDERLAY_B" || echo "$UNDERLAY_A"))
        {
            echo "# mesh-site lab: site-$me of netns-lab/bench-workers.sh, $count tunnel(s)"
            lab_toml_table site t_site name listen control-socket workers
            lab_toml_table "peer.site-$other" t_peer address
        } >"$LAB_DIR/site-$me.toml"
    done
    for ((t = 0; t < count; t++)); do
        key_ab=$(lab_hex 20) key_ba=$(lab_hex 20)
        # A /30 each out of 172.16.0.0/16 for the GRE interfaces.
        local net=$((4 * t))
        local -A t_a=([peer]=site-b [interface]=gb$t [mode]=gre [address]=172.16.$((net / 256)).$((net % 256 + 1))/30
            [routes]=$(host_of 10.20 "$t")/32)
        local -A t_b=([peer]=site-a [interface]=ga$t [mode]=gre [address]=172.16.$((net / 256)).$((net % 256 + 2))/30
            [routes]=$(host_of 10.10 "$t")/32)
        # Consecutive SPIs: the tunnels' inbound SAs alternate between the workers.
        local -A sa_a=([enc-algorithm]=aes-128-gcm [spi-in]=$((0x10000 + t)) [spi-out]=$((0x20000 + t))
            [key-in]=$key_ba [key-out]=$key_ab)
        local -A sa_b=([enc-algorithm]=aes-128-gcm [spi-in]=$((0x20000 + t)) [spi-out]=$((0x10000 + t))
            [key-in]=$key_ab [key-out]=$key_ba)
        {
            lab_toml_table "tunnel.t$t" t_a peer interface address mode routes
            lab_toml_table "tunnel.t$t.static-sa" sa_a enc-algorithm spi-in spi-out key-in key-out
        } >>"$LAB_DIR/site-a.toml"
        {
            lab_toml_table "tunnel.t$t" t_b peer interface address mode routes
            lab_toml_table "tunnel.t$t.static-sa" sa_b enc-algorithm spi-in spi-out key-in key-out
        } >>"$LAB_DIR/site-b.toml"
    done
}

# sites_start N WORKERS: both daemons up with N tunnels each, every route in place.
sites_start() {
    local count=$1 workers=$2 site ns
    write_configs "$count" "$workers"
    for site in a b; do
        ns=$(lab_site_ns "$site")
        n "$ns" "$MESH_SITE" check-config -c "$LAB_DIR/site-$site.toml" >/dev/null ||
            lab_die "check-config rejected site-$site.toml"
        lab_gateway_bg "mesh-site-$site" "$ns" "$MESH_SITE" run -c "$LAB_DIR/site-$site.toml"
    done
    lab_wait 60 "the $count routes of site-a" bash -c "(( \$(ip -n $SITE_A -4 route show | grep -c '^10\.20\..* dev gb') == $count ))"
    lab_wait 60 "the $count routes of site-b" bash -c "(( \$(ip -n $SITE_B -4 route show | grep -c '^10\.10\..* dev ga') == $count ))"
    if ! lab_alive mesh-site-a || ! lab_alive mesh-site-b; then
        lab_die "a mesh-site exited"
    fi
}

sites_stop() {
    lab_kill mesh-site-a
    lab_kill mesh-site-b
    lab_wait 60 "gb0 to go away" _lab_no_link "$SITE_A" gb0
    lab_wait 60 "ga0 to go away" _lab_no_link "$SITE_B" ga0
}

# flows N: the first N flows, as bench_run.py iperf-many takes them.
flows() {
    local t out=''
    for ((t = 0; t < $1; t++)); do out+="${out:+,}$(host_of 10.10 "$t")/$(host_of 10.20 "$t")/$((5201 + t))"; done
    echo "$out"
}

# kernel_drops a|b: datagrams the site's workers' sockets had no room for.
kernel_drops() { lab_json "$1" 'sum(w["kernel-drops"] for w in d["workers"])'; }
# scheduling_counts a|b: the site's workers' real-time demotions and deferred
# TUN wake-ups so far (docs/data-plane.md, "Worker priority" and "TUN
# wake-up moderation"; a --base build without them counts 0).
scheduling_counts() { lab_json "$1" '"%d/%d" % (sum(w.get("realtime-demotions", 0) for w in d["workers"]), sum(w.get("deferred-wakeups", 0) for w in d["workers"]))'; }
# daemon_ticks: CPU ticks of both daemons so far, every thread (utime + stime).
daemon_ticks() {
    local pid total=0 fields
    for pid in "${LAB_PID[mesh-site-a]}" "${LAB_PID[mesh-site-b]}"; do
        read -ra fields <"/proc/$pid/stat"
        total=$((total + fields[13] + fields[14]))
    done
    echo "$total"
}

# measure NAME N: N flows at once; appends a row of JSON to rows.
rows=()
measure() {
    local name=$1 count=$2 result drops_a=0 drops_b=0 ticks=0
    [[ $name == bare ]] || { drops_a=$(kernel_drops a) drops_b=$(kernel_drops b) ticks=$(daemon_ticks); }
    pretty "$LAN_A" "$count x iperf3 -c 10.20.X.Y -t $seconds, at once"
    result=$("$LAB_PYTHON" "$LAB_ROOT/netns-lab/bench_run.py" iperf-many --ns "$LAN_A" --flows "$(flows "$count")" \
        --seconds "$seconds" --lab "$SITE_A,$SITE_B,$LAN_A,$LAN_B") || lab_die "iperf3 over $name failed"
    if [[ $name != bare ]]; then
        drops_a=$(($(kernel_drops a) - drops_a)) drops_b=$(($(kernel_drops b) - drops_b))
        ticks=$(($(daemon_ticks) - ticks))
        result=${result%\}}", \"drops_a\": $drops_a, \"drops_b\": $drops_b, \"daemon_cpu_s\": $(awk "BEGIN { print $ticks / $(getconf CLK_TCK) }")}"
        lab_info "$name: the workers' sockets dropped $drops_a (site-a, ACKs) and $drops_b (site-b, data); real-time demotions and deferred wake-ups a $(scheduling_counts a), b $(scheduling_counts b)"
    fi
    lab_info "$name, $count flow(s): $("$LAB_PYTHON" -c 'import json,sys; r=json.loads(sys.argv[1]); print("%.3f Gbit/s, slowest flow %.4f" % (r["gbps"], r["min_gbps"]))' "$result")"
    rows+=("{\"name\": \"$name\", \"tunnels\": $count, \"run\": $result}")
}

for count in "${tunnel_list[@]}"; do
    lab_info "$count tunnel(s): the bare underlay"
    n "$SITE_A" ip route add 10.20.0.0/16 via "$UNDERLAY_B" dev wan0
    n "$SITE_B" ip route add 10.10.0.0/16 via "$UNDERLAY_A" dev wan0
    measure bare "$count"
    n "$SITE_A" ip route del 10.20.0.0/16 via "$UNDERLAY_B" dev wan0
    n "$SITE_B" ip route del 10.10.0.0/16 via "$UNDERLAY_A" dev wan0
    for workers in "${worker_list[@]}"; do
        lab_info "$count tunnel(s): mesh-site, workers = $workers"
        sites_start "$count" "$workers"
        measure "workers=$workers" "$count"
        sites_stop
        [[ -n $base ]] || continue
        lab_info "$count tunnel(s): $base, workers = $workers"
        this=$MESH_SITE MESH_SITE=$base
        sites_start "$count" "$workers"
        measure "base:workers=$workers" "$count"
        sites_stop
        MESH_SITE=$this
    done
done

echo
echo "iperf3 TCP, one flow per tunnel, all at once, lan-a -> lan-b, ${seconds}s per run, AES-128-GCM mode gre," \
    "$(nproc) CPUs, $(uname -r)"
printf '%s\n' "${rows[@]}" | "$LAB_PYTHON" -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
get = {(r["name"], r["tunnels"]): r["run"] for r in rows}
first = min(r["tunnels"] for r in rows)
print("%-8s %-15s %8s %7s %8s %11s %12s %9s %8s %11s %11s" % ("tunnels", "", "Gbit/s", "x bare", "x 1 tun", "flow share",
      "socket drops", "CPU s/GB", "w2 / w1", "all running", "flow share"))
for r in rows:
    c, n, run = r["tunnels"], r["name"], r["run"]
    one = get.get((n, first))
    # The share of a flow: its Gbit/s over the fair share, the aggregate over N flows.
    fair = run["gbps"] / c
    w1 = get.get((n.replace("workers=2", "workers=1"), c)) if n.endswith("workers=2") else None
    print("%-8d %-15s %8.3f %7.2f %8s %11s %12s %9s %8s %11s %11s" % (
        c, n, run["gbps"], run["gbps"] / get[("bare", c)]["gbps"], "%.2f" % (run["gbps"] / one["gbps"]) if one else "-",
        "%.2f-%.2f" % (run["min_gbps"] / fair, run["max_gbps"] / fair),
        "%d/%d" % (run["drops_a"], run["drops_b"]) if "drops_a" in run else "-",
        "%.2f" % (run["daemon_cpu_s"] / (run["bytes"] / 1e9)) if "daemon_cpu_s" in run else "-",
        "%.2f" % (run["gbps"] / w1["gbps"]) if w1 else "",
        "%.3f" % run["window_gbps"] if "window_gbps" in run else "-",
        "%.2f-%.2f" % (run["window_min_gbps"] * c / run["window_gbps"], run["window_max_gbps"] * c / run["window_gbps"])
        if "window_gbps" in run else "-"))
'
