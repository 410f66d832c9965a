#!/usr/bin/env bash
# Failover benchmark: netns-lab/failover.sh over the matrix
#   topology   pair2 (two sites, two paths) and mesh3 (three sites, full mesh)
#   DPD        1s x 3 and 200ms x 3
#   link-down  admin (the tunnel's interface set down: seen at once) and
#              carrier (carrier off: Linux's link-watch reports it up to 1 s late)
#   BFD        FRR's bfdd 50ms x 3 on every tunnel (ip ospf bfd), DPD 1s x 3
#              beside it, link-down admin
# each with a 100 packets/s probe each way and several silent cuts of the
# busiest path, and prints one table: the time from the cut to the first
# packet through the other path and the packets lost (median and worst over
# the cuts, the worse direction of each cut), and how many times a tunnel
# that was not cut was declared dead. Below it, what RouterOS's defaults
# give on paper. The goal: under 1 s with DPD, under 200 ms (worst 300 ms)
# with BFD, and no false "peer dead".
# Then, with no cut, iperf3 --bidir saturating every tunnel for --load
# seconds under the probe, once with each BFD setting and once without BFD
# (DPD 200ms x 3): BFD session downs, OSPF adjacencies lost, "peer dead" and
# probe packets lost (goal 0/0/0: a loaded tunnel must not look dead).
# OSPF runs hello 1 s and, by default, dead 10 s: longer than DPD takes with
# either setting, so what is measured is DPD taking the tunnel's interface
# down and OSPF reacting to that (with dead 3 s, OSPF alone would win
# against 1s x 3, which needs 4 s), or BFD telling OSPF.
#
# usage: netns-lab/bench-failover.sh [--binary PATH] [--cuts N] [--ospf-dead S]
#        [--topologies "pair2 mesh3"] [--dpd "1s:3 200ms:3"] [--link-down "admin carrier"]
#        [--bfd "50ms:3"] [--bfd-dpd 1s:3] [--load SECONDS (default 60; 0: none)]
#        (an empty list, --dpd "" or --bfd "", leaves those rows out)
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")

binary='' cuts=5 ospf_dead=10 topologies="pair2 mesh3" dpds="1s:3 200ms:3" modes="admin carrier"
bfds="50ms:3" bfd_dpd=1s:3 load=60
while (($#)); do
    case $1 in
        --binary | -b) binary=$2; shift 2 ;;
        --cuts) cuts=$2; shift 2 ;;
        --ospf-dead) ospf_dead=$2; shift 2 ;;
        --topologies) topologies=$2; shift 2 ;;
        --dpd) dpds=$2; shift 2 ;;
        --link-down) modes=$2; shift 2 ;;
        --bfd) bfds=$2; shift 2 ;;
        --bfd-dpd) bfd_dpd=$2; shift 2 ;;
        --load) load=$2; shift 2 ;;
        -h | --help) sed -n '2,28s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done
binary=${binary:-${MESH_SITE:-$here/../build/tools/mesh-site}}
[[ -x $binary ]] || { echo "no mesh-site at $binary (build it, or pass --binary)" >&2; exit 1; }

csv=$(mktemp /tmp/bench-failover.XXXXXX.csv)
load_csv=$(mktemp /tmp/bench-failover-load.XXXXXX.csv)
logs=$(mktemp -d /tmp/bench-failover.XXXXXX)
trap 'rm -f "$csv" "$load_csv"' EXIT

# run CSV LOG ROW_PREFIX FAILOVER_ARGS...: one cell; a run that fails leaves
# a row saying so and its output in $logs, and the matrix goes on.
run() {
    local out=$1 log=$2 prefix=$3; shift 3
    echo "==> $prefix (output in $log)" >&2
    if ! LAB_QUIET=1 bash "$here/failover.sh" --binary "$binary" --ospf-dead "$ospf_dead" --csv "$out" "$@" >"$log" 2>&1; then
        echo "$prefix,FAILED (see $log)" >>"$out"
        tail -n 3 "$log" >&2
    fi
}

for topology in $topologies; do
    for dpd in $dpds; do
        for mode in $modes; do
            run "$csv" "$logs/$topology-${dpd/:/x}-$mode.log" "$topology,$dpd,off,$mode" \
                --topology "$topology" --dpd "$dpd" --link-down "$mode" --cuts "$cuts"
        done
    done
    for bfd in $bfds; do
        run "$csv" "$logs/$topology-bfd${bfd/:/x}.log" "$topology,$bfd_dpd,$bfd,admin" \
            --topology "$topology" --dpd "$bfd_dpd" --bfd "$bfd" --link-down admin --cuts "$cuts"
    done
    ((load > 0)) || continue
    run "$load_csv" "$logs/$topology-load-dpd.log" "$topology,200ms:3,off" \
        --topology "$topology" --dpd 200ms:3 --load "$load"
    for bfd in $bfds; do
        run "$load_csv" "$logs/$topology-load-bfd${bfd/:/x}.log" "$topology,$bfd_dpd,$bfd" \
            --topology "$topology" --dpd "$bfd_dpd" --bfd "$bfd" --load "$load"
    done
done

echo
echo "Failover under a 100 packets/s probe each way, path cut silently; OSPF hello 1 s, dead ${ospf_dead} s"
printf '%-8s %-10s %-9s %-9s %5s %16s %9s %12s %7s %11s\n' topology DPD BFD link-down cuts "recovery median" worst "lost median" worst "false dead"
while IFS=, read -r topo dpd bfd mode n rmed rmax lmed lmax fd; do
    if [[ $n == FAILED* ]]; then
        printf '%-8s %-10s %-9s %-9s %s\n' "$topo" "${dpd/:/ x }" "${bfd/:/ x }" "$mode" "$n"
        continue
    fi
    printf '%-8s %-10s %-9s %-9s %5s %14s s %7s s %12s %7s %11s\n' "$topo" "${dpd/:/ x }" "${bfd/:/ x }" "$mode" "$n" "$rmed" "$rmax" "$lmed" "$lmax" "$fd"
done <"$csv"
cat <<'EOF2'
RouterOS defaults, on paper: DPD 30 s x 3 declares the peer dead after 2 minutes, so
  OSPF over the GRE tunnel notices first, by its dead interval of 40 s (hello 10 s):
  30-40 s without traffic, 3000-4000 packets lost at 100 packets/s.
EOF2
if ((load > 0)); then
    echo
    echo "No cut: iperf3 --bidir saturating every tunnel for ${load} s under the probe"
    printf '%-8s %-10s %-9s %9s %10s %15s %10s %11s %12s\n' topology DPD BFD seconds "BFD downs" "OSPF adj. lost" "peer dead" "probe lost" "longest gap"
    while IFS=, read -r topo dpd bfd secs downs adj dead lost gap; do
        if [[ $secs == FAILED* ]]; then
            printf '%-8s %-10s %-9s %s\n' "$topo" "${dpd/:/ x }" "${bfd/:/ x }" "$secs"
            continue
        fi
        printf '%-8s %-10s %-9s %9s %10s %15s %10s %11s %10s s\n' "$topo" "${dpd/:/ x }" "${bfd/:/ x }" "$secs" "$downs" "$adj" "$dead" "$lost" "$gap"
    done <"$load_csv"
fi
echo "(per-run output in $logs)"
