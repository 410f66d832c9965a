#!/usr/bin/env bash
# The speed benchmark: iperf3 from lan-a to lan-b, one stream and four
# (-P 4), over each path in the same run, so the figures share the machine's
# mood:
#
#   bare veth      site-a routes to site-b over the underlay, no tunnel
#   wireguard-go   userspace WireGuard between the two site namespaces
#   strongswan     charon with kernel-libipsec (userspace ESP, AES-128-GCM,
#                  tunnel mode) between the same namespaces
#   mesh-site      GRE in ESP in UDP 4500, static SAs, one run per algorithm
#
#   lan-a (10.1.0.2) -- site-a ====== underlay 192.0.2.0/24 ====== site-b -- lan-b (10.2.0.2)
#                       (the full diagram is at the top of netns-lab/lib.sh)
#
# Only one path carries the LAN routes at a time. Ends with a table, per path:
#   Gbit/s        received by iperf3's server, 1 and 4 streams
#   CPU s/GB      CPU seconds per 10^9 bytes received: "lab" counts every
#                 process in the lab's namespaces (VPN daemons, iperf3 both
#                 ends, charon) and ksoftirqd, which with this kernel's tick
#                 accounting includes the softirq work of veth and TUN;
#                 "host" is the whole machine's busy time from /proc/stat,
#                 equal to "lab" on a quiet machine (netns-lab/bench_run.py)
#   RTT           average ping lan-a -> lan-b in ms, idle and during the
#                 single-stream run (5 pings a second)
#   loss          with --udp: datagrams lost, %
#   x wg, x swan  throughput over wireguard-go's and strongSwan's
#   x base        mesh-site's over the --baseline binary's, same algorithm
# and, unless --udp or --no-latency, a latency table: the pings' average RTT
# (and the slowest) idle, during the single-stream run, during iperf3
# --bidir and during a UDP flood (iperf3 -u -b RATE -l BYTES, RATE above
# what the path carries, so it runs at capacity), each loaded figure also as
# a ratio to idle; "flood loss" is the flood's datagrams lost, "ping loss"
# the pings that got no reply within 1 s.
#
# usage: netns-lab/bench-throughput.sh [--time SECONDS] [--binary PATH]
#            [--baseline PATH] [--algorithms aes-128-gcm,chacha20-poly1305,...]
#            [--no-mesh-site] [--no-wireguard] [--no-strongswan] [--no-latency]
#            [--ipv6] [--udp] [--udp-rate RATE] [--udp-length BYTES]
#            [--gateway-nice N]
#   --baseline     a second mesh-site binary (another build, main's), run
#                  right before --binary for each algorithm: an A/B in one run
#   --ipv6         inner traffic over IPv6 (fd00:1::2 -> fd00:2::2); the
#                  underlay stays IPv4
#   --gateway-nice every path's VPN daemons (mesh-site, wireguard-go,
#                  charon) run at nice N (default -10; 0 for the hosts'
#                  priority): iperf3 and ping stand in for the LANs' hosts,
#                  which on a real network do not share the gateway's cores
#   --udp          UDP instead of TCP: iperf3 -u -b RATE (default 10G per
#                  stream) -l BYTES (default 1300, under every path's MTU)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$(readlink -f "$0")")/lib.sh"

seconds=10 binary='' baseline='' algorithms=aes-128-gcm mesh_site=1 wireguard=1 strongswan=1 latency=1
ipv6=0 udp=0 udp_rate=10G udp_length=1300 gateway_nice=-10
while (($#)); do
    case $1 in
        --time | -t) seconds=$2; shift 2 ;;
        --binary | -b) binary=$2; shift 2 ;;
        --baseline) baseline=$2; shift 2 ;;
        --algorithms | -a) algorithms=$2; shift 2 ;;
        --no-mesh-site) mesh_site=0; shift ;;
        --no-wireguard) wireguard=0; shift ;;
        --no-strongswan) strongswan=0; shift ;;
        --no-latency) latency=0; shift ;;
        --ipv6) ipv6=1; shift ;;
        --udp) udp=1; shift ;;
        --udp-rate) udp_rate=$2; shift 2 ;;
        --udp-length) udp_length=$2; shift 2 ;;
        --gateway-nice) gateway_nice=$2; shift 2 ;;
        -h | --help) sed -n '2,46s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done
[[ $gateway_nice =~ ^-?[0-9]+$ ]] || { echo "--gateway-nice takes a number (-20 to 19)" >&2; exit 2; }
LAB_GATEWAY_NICE=$gateway_nice
((seconds >= 4)) || { echo "--time must be at least 4 s (the loaded pings skip the first and last second)" >&2; exit 2; }

lab_init iperf3 ping wg wireguard-go
if ((mesh_site)); then
    lab_find_binary "$binary"
    if [[ -n $baseline ]]; then
        binary=$MESH_SITE
        lab_find_binary "$baseline"
        baseline=$MESH_SITE MESH_SITE=$binary
    fi
fi
((udp)) && latency=0

LAB_IPV6=$ipv6
lab_info "building the two-site topology (namespaces end in -$$)"
lab_two_site_topology
if ((ipv6)); then
    target=$HOST6_B
    lab_iperf_server "$LAN_B" ::
else
    target=$HOST_B
    lab_iperf_server "$LAN_B"
fi
iperf_args=()
((udp)) && iperf_args=(-u -b "$udp_rate" -l "$udp_length")
traffic="$( ((udp)) && echo UDP || echo TCP) over IPv$( ((ipv6)) && echo 6 || echo 4)"

bench_run() { "$LAB_PYTHON" "$LAB_ROOT/netns-lab/bench_run.py" "$@"; }
# field JSON NAME: one number out of bench_run.py's output.
field() { "$LAB_PYTHON" -c 'import json,sys; print("%.3f" % json.loads(sys.argv[1]).get(sys.argv[2], 0))' "$1" "$2"; }

rows=()
# measure NAME: idle RTT, a single-stream run with pings, a 4-stream run,
# and (latency) a --bidir run and a UDP flood with pings; appends one row of
# JSON to rows.
measure() {
    local name=$1 idle one four bidir='null' flood='null' lab
    lab=$SITE_A,$SITE_B,$LAN_A,$LAN_B
    lab_ping_expect "$LAN_A" "$target" 5
    idle=$(bench_run rtt --ns "$LAN_A" --dest "$target")
    pretty "$LAN_A" "iperf3 -c $target -t $seconds ${iperf_args[*]}    (CPU sampled, pings under load)"
    one=$(bench_run iperf --ns "$LAN_A" --dest "$target" --seconds "$seconds" --lab "$lab" --ping-load -- \
        "${iperf_args[@]}") || lab_die "iperf3 over $name failed"
    pretty "$LAN_A" "iperf3 -c $target -t $seconds -P 4 ${iperf_args[*]}    (CPU sampled)"
    four=$(bench_run iperf --ns "$LAN_A" --dest "$target" --seconds "$seconds" --lab "$lab" -- \
        -P 4 "${iperf_args[@]}") || lab_die "iperf3 -P 4 over $name failed"
    lab_info "$name: $(field "$one" gbps) Gbit/s (1 stream), $(field "$four" gbps) Gbit/s (4 streams)," \
        "RTT $idle ms idle, $(field "$one" rtt_load_ms) ms loaded"
    if ((latency)); then
        pretty "$LAN_A" "iperf3 -c $target -t $seconds --bidir    (pings under load)"
        bidir=$(bench_run iperf --ns "$LAN_A" --dest "$target" --seconds "$seconds" --lab "$lab" --ping-load -- \
            --bidir) || lab_die "iperf3 --bidir over $name failed"
        pretty "$LAN_A" "iperf3 -c $target -t $seconds -u -b $udp_rate -l $udp_length    (pings under load)"
        flood=$(bench_run iperf --ns "$LAN_A" --dest "$target" --seconds "$seconds" --lab "$lab" --ping-load -- \
            -u -b "$udp_rate" -l "$udp_length") || lab_die "iperf3 UDP flood over $name failed"
        lab_info "$name: RTT $(field "$bidir" rtt_load_ms) ms under --bidir, $(field "$flood" rtt_load_ms) ms under" \
            "a UDP flood ($(field "$flood" lost_percent)% of it lost)"
    fi
    rows+=("{\"name\": \"$name\", \"idle_ms\": $idle, \"one\": $one, \"four\": $four, \"bidir\": $bidir, \"flood\": $flood}")
}

lab_info "path: bare veth"
lab_underlay_routes add
measure "bare-veth"
lab_underlay_routes del

if ((wireguard)); then
    lab_info "path: wireguard-go"
    lab_wireguard_up
    measure "wireguard-go"
    lab_wireguard_down
fi

if ((strongswan)); then
    if [[ -x /usr/lib/ipsec/charon ]] && command -v swanctl >/dev/null; then
        lab_info "path: strongSwan kernel-libipsec"
        lab_strongswan_up aes128gcm16
        measure "strongswan-libipsec/aes128gcm"
        lab_strongswan_down
    else
        lab_info "strongSwan (charon, swanctl) not installed: skipping that path"
    fi
fi

if ((mesh_site)); then
    IFS=, read -ra algs <<<"$algorithms"
    binaries=("$MESH_SITE")
    [[ -n $baseline ]] && binaries=("$baseline" "$MESH_SITE")
    for alg in "${algs[@]}"; do
        for MESH_SITE in "${binaries[@]}"; do
            name=mesh-site/$alg
            [[ $MESH_SITE == "$baseline" ]] && name=baseline/$alg
            lab_info "path: $name ($MESH_SITE)"
            lab_sites_start "$alg"
            measure "$name"
            lab_sites_stop
        done
    done
fi

echo
echo "iperf3 $traffic lan-a -> lan-b${iperf_args[*]:+ (${iperf_args[*]})}, ${seconds}s per run, gateways at nice $gateway_nice, $(nproc) CPUs, $(uname -r)"
printf '%s\n' "${rows[@]}" | "$LAB_PYTHON" -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
udp = "lost_percent" in rows[0]["one"]
def ref(prefix):
    return next((r for r in rows if r["name"].startswith(prefix)), None)
def ratio(r, base, key):
    if base is None or base[key]["gbps"] <= 0:
        return "-"
    return "%.2f" % (r[key]["gbps"] / base[key]["gbps"])
def per_gb(run, key):
    gb = run["bytes"] / 1e9
    return "%.2f" % (run[key] / gb) if gb > 0 else "-"
wg, swan = ref("wireguard-go"), ref("strongswan")
base = {r["name"].split("/", 1)[1]: r for r in rows if r["name"].startswith("baseline/")}
head = [("path", "", 30), ("1 stream", "Gbit/s", 9), ("4 streams", "Gbit/s", 9),
        ("CPU s/GB", "lab 1", 9), ("CPU s/GB", "lab 4", 9), ("CPU s/GB", "host 1", 9),
        ("RTT ms", "idle", 7), ("RTT ms", "loaded", 7)]
if udp:
    head += [("loss %", "1", 7), ("loss %", "4", 7)]
head += [("x wg", "1", 6), ("x wg", "4", 6), ("x swan", "1", 6), ("x swan", "4", 6)]
if base:
    head += [("x base", "1", 6), ("x base", "4", 6)]
def line(cells):
    return " ".join(("%-*s" if i == 0 else "%*s") % (w, c) for i, (c, (_, _, w)) in enumerate(zip(cells, head)))
print(line([h[0] for h in head]))
print(line([h[1] for h in head]))
for r in rows:
    one, four = r["one"], r["four"]
    cells = [r["name"], "%.3f" % one["gbps"], "%.3f" % four["gbps"],
             per_gb(one, "lab_cpu_s"), per_gb(four, "lab_cpu_s"), per_gb(one, "host_cpu_s"),
             "%.3f" % r["idle_ms"], "%.3f" % one["rtt_load_ms"]]
    if udp:
        cells += ["%.2f" % one["lost_percent"], "%.2f" % four["lost_percent"]]
    cells += [ratio(r, wg, "one"), ratio(r, wg, "four"), ratio(r, swan, "one"), ratio(r, swan, "four")]
    if base:
        b = base.get(r["name"].split("/", 1)[-1]) if r["name"].startswith("mesh-site/") else None
        cells += [ratio(r, b, "one"), ratio(r, b, "four")]
    print(line(cells))
if rows[0].get("bidir") is None:
    sys.exit(0)
print()
print("RTT ms, pings lan-a -> lan-b 5/s during each run: average (slowest), and average / idle")
head = [("path", "", 30), ("idle", "", 7), ("1 TCP stream", "", 15), ("", "x idle", 6),
        ("iperf3 --bidir", "", 15), ("", "x idle", 6), ("UDP flood", "", 15), ("", "x idle", 6),
        ("flood", "loss %", 6), ("ping loss %", "1/bidir/flood", 14)]
print(line([h[0] for h in head]))
print(line([h[1] for h in head]))
for r in rows:
    runs = [r["one"], r["bidir"], r["flood"]]
    cells = [r["name"], "%.3f" % r["idle_ms"]]
    for run in runs:
        cells += ["%.3f (%.1f)" % (run["rtt_load_ms"], run["rtt_load_max_ms"]),
                  "%.1f" % (run["rtt_load_ms"] / r["idle_ms"]) if r["idle_ms"] > 0 else "-"]
    cells += ["%.1f" % r["flood"]["lost_percent"], "/".join("%.0f" % run["ping_lost_percent"] for run in runs)]
    print(line(cells))
'
