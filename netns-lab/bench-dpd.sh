#!/usr/bin/env bash
# What dead peer detection costs on an idle tunnel: two sites, one tunnel
# with its static routes and no routing protocol (topology.sh "pair
# routing=none"), nothing crossing it, for each dpd-interval x
# dpd-maximum-failures given. From both daemons' own counters (`status
# --json`) over the measured seconds: liveness checks sent per second, IKE
# messages per second on the wire (both directions: requests, answers,
# retransmissions), and the CPU both daemons used (utime + stime from
# /proc), beside "disable-dpd" as the reference. An idle tunnel is the
# worst case: inbound ESP counts as proof of life, so a busy one sends no
# checks at all.
#
# usage: netns-lab/bench-dpd.sh [--binary PATH] [--dpd "disable-dpd:3 1s:3 200ms:3 50ms:3"] [--seconds 10]
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")

binary='' dpds="disable-dpd:3 1s:3 200ms:3 50ms:3" seconds=10 one=''
while (($#)); do
    case $1 in
        --binary | -b) binary=$2; shift 2 ;;
        --dpd) dpds=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --one) one=$2; shift 2 ;; # internal: one setting, one CSV line on stdout
        -h | --help) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done

if [[ -z $one ]]; then
    binary=${binary:-${MESH_SITE:-$here/../build/tools/mesh-site}}
    [[ -x $binary ]] || { echo "no mesh-site at $binary (build it, or pass --binary)" >&2; exit 1; }
    echo "An idle tunnel (static routes, no routing protocol), ${seconds} s, both sites' counters"
    printf '%-14s %16s %22s %18s\n' "DPD" "checks/s" "IKE messages/s" "CPU ms/s (a+b)"
    for dpd in $dpds; do
        if line=$(LAB_QUIET=1 bash "$0" --binary "$binary" --seconds "$seconds" --one "$dpd" 2>/tmp/bench-dpd.$$.log); then
            IFS=, read -r checks messages cpu <<<"$line"
            printf '%-14s %16s %22s %18s\n' "${dpd/:/ x }" "$checks" "$messages" "$cpu"
        else
            printf '%-14s FAILED: %s\n' "${dpd/:/ x }" "$(tail -n 1 /tmp/bench-dpd.$$.log)"
        fi
    done
    rm -f /tmp/bench-dpd.$$.log
    exit 0
fi

# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=topology.sh
source "$here/topology.sh"
lab_init
lab_find_binary "$binary"
TOPO_DPD=$one # read by topology.sh
topo_up "pair routing=none"

# sample: "LIVENESS_CHECKS IKE_MESSAGES CPU_TICKS" summed over both sites.
sample() {
    local s json checks=0 messages=0 ticks=0 c m pid
    for s in a b; do
        json=$(tmesh "$s" status --json)
        read -r c m < <("$LAB_PYTHON" -c '
import json, sys
ike = json.loads(sys.argv[1])["counters"]["ike"]
print(ike["liveness-checks"], ike["messages-out"] + ike["retransmits"])' "$json")
        pid=${LAB_PID[mesh-site-$s]}
        checks=$((checks + c)) messages=$((messages + m))
        ticks=$((ticks + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
    done
    echo "$checks $messages $ticks"
}

sleep 2
read -r c0 m0 t0 < <(sample)
start=$(date +%s.%N)
sleep "$seconds"
read -r c1 m1 t1 < <(sample)
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v c=$((c1 - c0)) -v m=$((m1 - m0)) -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { d = e - s; printf "%.1f,%.1f,%.1f\n", c / d, m / d, t * 1000 / hz / d }'
