#!/usr/bin/env bash
# Failover scenario: a topology of netns-lab/topology.sh with OSPF (or BGP),
# a probe flow of 100 packets a second each way between two LANs, and an
# underlay path cut and restored several times under it. For each cut and
# each restore it prints the time until traffic flowed again and the packets
# lost, then the median and the worst over the cuts. With --kill, a whole
# site dies instead (kill -9 to its mesh-site and FRR) and is restarted.
#
#   lan-a ==probe 100 pkt/s==> lan-b      (and back)
#          a ==path 1 (cost 10)== b       <- cut here, silently (both ends drop)
#          a ==path 2 (cost 20)== b       <- takes over (pair2)
#
# usage: netns-lab/failover.sh [options]
#   --topology DESC   a preset or description of topology.sh (default pair2;
#                     mesh3: cut a-b, traffic goes a-c-b; hub3: no redundancy,
#                     the time is then counted until after the restore)
#   --routing ospf|bgp
#   --dpd INTERVAL:FAILURES   dpd-interval and dpd-maximum-failures (default 1s:3)
#   --bfd INTERVAL:MULT       FRR's bfdd on every tunnel (e.g. 50ms:3), tied
#                             to OSPF (ip ospf bfd) or BGP (neighbor ... bfd);
#                             DPD stays on as set by --dpd
#   --link-down admin|carrier how mesh-site shows a dead tunnel (default: the daemon's)
#   --cut LINK[:PATH] the path to cut (default: the first link, path 1)
#   --cut-method drop|down    drop: both ends drop what arrives (default);
#                             down: the link taken down (both ends see it)
#   --kill SITE       kill the site instead of cutting a path (dualhub: a
#                     hub; the probe runs between the first two other
#                     sites that are no hub); restored means its tunnels up
#                     and adjacent and every LAN routed as before the kill
#   --cuts N          how many cuts (default 5)
#   --load SECONDS    no cut: iperf3 --bidir over every tunnel at once for
#                     SECONDS under the probe, then count BFD session downs,
#                     OSPF adjacencies lost, "peer dead" and probe packets lost
#   --load-rate RATE  with --load: RATE each way per tunnel (iperf3 -b, e.g.
#                     200M) instead of as much as the tunnel takes
#   --outage SECONDS  how long each cut lasts (default: DPD's detection time + 4 s)
#   --ospf-dead S     OSPF dead interval on the tunnels (hello 1 s; default 3)
#   --zebra           mesh-site talks to zebra (zebra-socket)
#   --flow A-B        the sites whose LANs exchange the probe (default: the cut link's)
#   --csv FILE        append one line: topology,dpd,bfd,link-down,cuts,recovery median,worst,lost median,worst,false peer dead
#                     (--load: topology,dpd,bfd,seconds,BFD downs,OSPF adjacencies lost,peer dead,probe lost,longest gap)
#   --binary PATH     the mesh-site to run (default $MESH_SITE or build/tools/mesh-site)
#   --show            show the adjacencies and routes during each cut too
#   --keep            leave everything running at the end until Ctrl-C
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=topology.sh
source "$here/topology.sh"

topology=pair2 routing='' dpd=1s:3 bfd='' link_down='' cut='' cut_method=drop cuts=5 outage='' kill='' load='' load_rate=''
ospf_dead=3 zebra=0 flow='' csv='' binary='' keep=0 show=0
while (($#)); do
    case $1 in
        --topology) topology=$2; shift 2 ;;
        --routing) routing=$2; shift 2 ;;
        --dpd) dpd=$2; shift 2 ;;
        --bfd) bfd=$2; shift 2 ;;
        --link-down) link_down=$2; shift 2 ;;
        --cut) cut=$2; shift 2 ;;
        --cut-method) cut_method=$2; shift 2 ;;
        --kill) kill=$2; shift 2 ;;
        --cuts) cuts=$2; shift 2 ;;
        --load) load=$2; shift 2 ;;
        --load-rate) load_rate=$2; shift 2 ;;
        --outage) outage=$2; shift 2 ;;
        --ospf-dead) ospf_dead=$2; shift 2 ;;
        --zebra) zebra=1; shift ;;
        --flow) flow=$2; shift 2 ;;
        --csv) csv=$2; shift 2 ;;
        --binary | -b) binary=$2; shift 2 ;;
        --show) show=1; shift ;;
        --keep | -k) keep=1; shift ;;
        -h | --help) sed -n '2,44s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done
[[ $dpd =~ ^[0-9]+(ms|s):[0-9]+$ ]] || { echo "--dpd wants INTERVAL:FAILURES, like 1s:3 or 200ms:3" >&2; exit 2; }
[[ -z $load || $load =~ ^[1-9][0-9]*$ ]] || { echo "--load wants SECONDS" >&2; exit 2; }
[[ -z $bfd || $bfd =~ ^[0-9]+(ms)?:[0-9]+$ ]] || { echo "--bfd wants INTERVAL:MULTIPLIER in milliseconds, like 50ms:3" >&2; exit 2; }
[[ $cut_method =~ ^(drop|down)$ ]] || { echo "--cut-method: drop or down" >&2; exit 2; }

# dpd_seconds 1s:3 -> 4: a silent peer is dead interval x (failures + 1)
# after its last packet (docs/configuration.md), rounded up.
dpd_seconds() {
    local iv=${1%%:*} n=$((${1##*:} + 1))
    if [[ $iv == *ms ]]; then echo $(((${iv%ms} * n + 999) / 1000)); else echo $((${iv%s} * n)); fi
}
outage=${outage:-$(($(dpd_seconds "$dpd") + 3))}

lab_init iptables
lab_find_binary "$binary"
TOPO_DPD=$dpd TOPO_BFD=$bfd TOPO_LINK_DOWN=$link_down TOPO_ZEBRA=$zebra TOPO_OSPF_DEAD=$ospf_dead # read by topology.sh
# shellcheck disable=SC2086 # the description is words
topo_up $topology ${routing:+routing=$routing}
topo_show_routing

# The cut tunnel (or killed site) and the probe's two ends; under --load,
# nothing is cut and the probe runs between the first two sites.
ct=''
if [[ -n $load ]]; then
    [[ -n $flow ]] || flow=${TOPO_SITES[0]}-${TOPO_SITES[1]}
elif [[ -n $kill ]]; then
    [[ -n ${TOPO_IDX[$kill]:-} ]] || lab_die "--kill $kill: not a site"
    if [[ -z $flow ]]; then
        ends=()
        for s in "${TOPO_SITES[@]}"; do [[ $s == "$kill" ]] || topo_is_hub "$s" || ends+=("$s"); done
        ((${#ends[@]} >= 2)) || lab_die "--kill $kill: give the probe's two sites with --flow"
        flow=${ends[0]}-${ends[1]}
    fi
else
    if [[ -z $cut ]]; then cut=${T_A[1]}-${T_B[1]}; fi
    ct=$(topo_find "$cut")
    [[ -n $flow ]] || flow=${T_A[$ct]}-${T_B[$ct]}
fi
src=${flow%-*} dst=${flow#*-}
[[ -n ${TOPO_IDX[$src]:-} && -n ${TOPO_IDX[$dst]:-} ]] || lab_die "--flow $flow: not two sites"

# probe_start: one probe in each of the two LANs, each sending to the other.
probe_start() {
    lab_bg "probe-$src" "${TOPO_LAN_NS[$src]}" "$LAB_PYTHON" "$here/probe.py" run --peer "$(topo_host "$dst")" --log "$LAB_DIR/probe-$src.rx"
    lab_bg "probe-$dst" "${TOPO_LAN_NS[$dst]}" "$LAB_PYTHON" "$here/probe.py" run --peer "$(topo_host "$src")" --log "$LAB_DIR/probe-$dst.rx"
    lab_wait 10 "the probe flowing $src -> $dst" test -s "$LAB_DIR/probe-$dst.rx"
    lab_wait 10 "the probe flowing $dst -> $src" test -s "$LAB_DIR/probe-$src.rx"
}

# event KIND LABEL: the time (CLOCK_REALTIME, as the probes log) of a cut or restore.
event() { echo "$(date +%s.%N) $1 $2" >>"$LAB_DIR/events"; }

# routing_table: "SITE OTHER INTERFACES" for every pair of sites.
routing_table() {
    local s o
    for s in "${TOPO_SITES[@]}"; do
        for o in "${TOPO_SITES[@]}"; do
            [[ $s == "$o" ]] || echo "$s $o $(topo_route_dev "$s" "$o")"
        done
    done
}

# site_restored: every tunnel of the killed site up and adjacent, and every
# LAN routed everywhere as before the first kill (both hubs used again).
site_restored() {
    local t ifname side
    while read -r t ifname side; do
        topo_tunnel_up "$t" && topo_adjacent "$t" || return 1
    done < <(topo_site_ifaces "$kill")
    [[ $(routing_table) == "$routes_before" ]]
}

# restored: tunnel $ct up, adjacent, and (path 1) carrying both LANs' routes again.
restored() {
    [[ -z $kill ]] || { site_restored; return; }
    topo_tunnel_up "$ct" && topo_adjacent "$ct" || return 1
    [[ ${T_PATH[$ct]} == 1 ]] || return 0
    [[ $(topo_route_dev "${T_A[$ct]}" "${T_B[$ct]}") == "${T_IFA[$ct]}" &&
        $(topo_route_dev "${T_B[$ct]}" "${T_A[$ct]}") == "${T_IFB[$ct]}" ]]
}

# false_dead: "peer dead" lines in the logs that name no peer of the cut
# tunnel: a tunnel declared dead while it was up and busy.
false_dead() {
    local s log count=0 name
    for s in "${TOPO_SITES[@]}"; do
        log=$LAB_DIR/mesh-site-$s.log
        name=''
        if [[ -n $kill ]]; then
            # The killed site's peers are named after it: those are real deaths.
            [[ $s != "$kill" ]] || continue
            name=$kill
        elif [[ -n $ct ]]; then
            [[ $s == "${T_A[$ct]}" ]] && name=${T_NAMEA[$ct]}
            [[ $s == "${T_B[$ct]}" ]] && name=${T_NAMEB[$ct]}
        fi
        count=$((count + $("$LAB_PYTHON" - "$log" "$name" <<'PY'
import re, sys
bad = 0
for line in open(sys.argv[1], errors="replace"):
    if "peer dead" in line and (not sys.argv[2] or sys.argv[2] not in re.split(r"[^A-Za-z0-9_.-]+", line)):
        bad += 1
print(bad)
PY
        )))
    done
    echo "$count"
}

# load_counts: "BFD_DOWNS OSPF_ADJACENCIES_LOST PEER_DEAD" summed over the
# sites, from bfdd's and ospfd's logs and mesh-site's.
load_counts() {
    local downs=0 adj=0
    [[ -z $bfd ]] || downs=$(topo_bfd_downs)
    [[ $TOPO_ROUTING != ospf ]] || adj=$(topo_ospf_adjacency_losses)
    echo "$downs $adj $(false_dead)"
}

# run_load: iperf3 on every tunnel under the probe; BFD sessions, OSPF
# adjacencies and DPD must all hold.
run_load() {
    local before t ab ba
    [[ -z $bfd ]] || before=$(topo_bfd_sessions)
    read -r downs0 adj0 dead0 < <(load_counts)
    event load "load#1"
    while read -r t ab ba; do
        lab_info "load: tunnel $t (${T_A[$t]} ${T_IFA[$t]} - ${T_B[$t]} ${T_IFB[$t]}): $ab Gbit/s ${T_A[$t]} -> ${T_B[$t]}, $ba Gbit/s back"
    done < <(topo_load "$load" "$load_rate")
    sleep 1
    read -r downs1 adj1 dead1 < <(load_counts)
    held=0 sessions=0
    if [[ -n $bfd ]]; then
        # Up before and after, with the same ID (never re-created) and FRR's own
        # session-down counter still 0.
        held=$(join -j1 <(awk '{ print $1 "/" $2 "/" $3, $4, $5, $6 }' <<<"$before" | sort) \
            <(topo_bfd_sessions | awk '{ print $1 "/" $2 "/" $3, $4, $5, $6 }' | sort) |
            awk '$2 == "up" && $5 == "up" && $3 == $6 && $7 == 0 { n++ } END { print n + 0 }')
        sessions=$(grep -c . <<<"$before" || true)
    fi
}

if [[ -n $load ]]; then
    what="no cut: iperf3 --bidir over every tunnel for ${load}s${load_rate:+ at $load_rate each way}"
elif [[ -n $kill ]]; then
    what="killing site $kill (kill -9: mesh-site and FRR) $cuts times for ${outage}s"
else
    what="cutting ${T_A[$ct]} ${T_IFUA[$ct]} - ${T_B[$ct]} ${T_IFUB[$ct]} ($cut_method) $cuts times for ${outage}s"
fi
lab_info "probe: $src <-> $dst, 100 packets/s each way; $what"
probe_start
sleep 2
routes_before=$(routing_table)
: >"$LAB_DIR/events"
if [[ -n $load ]]; then
    cuts=0
    run_load
fi
for ((i = 1; i <= cuts; i++)); do
    if [[ -n $kill ]]; then
        event cut "kill#$i"
        topo_kill "$kill"
        sleep "$outage"
        ((show)) && topo_show_routing
        lab_info "kill #$i: routes $src -> $dst via $(topo_route_dev "$src" "$dst" | grep . || echo none)"
        event restore "restart#$i"
        t0=$(date +%s.%N)
        topo_restart "$kill"
        lab_wait 60 "site $kill's tunnels up and every LAN routed as before, after restart #$i" site_restored
        lab_info "restart #$i: $kill's tunnels up and every LAN routed as before within $(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }') s"
        sleep 2
        continue
    fi
    event cut "cut#$i"
    topo_cut "$ct" "$cut_method"
    sleep "$outage"
    ((show)) && topo_show_routing
    lab_info "cut #$i: routes $src -> $dst via $(topo_route_dev "$src" "$dst" | grep . || echo none), tunnel ${T_A[$ct]}/${T_NAMEA[$ct]} $(topo_tunnel_state "${T_A[$ct]}" "${T_NAMEA[$ct]}")"
    event restore "restore#$i"
    topo_restore "$ct" "$cut_method"
    t0=$SECONDS
    until restored; do
        ((SECONDS - t0 < 60)) || lab_die "tunnel $ct not back 60 s after restore #$i (${T_A[$ct]}: $(topo_tunnel_state "${T_A[$ct]}" "${T_NAMEA[$ct]}"), route via $(topo_route_dev "${T_A[$ct]}" "${T_B[$ct]}"))"
        sleep 0.2
    done
    lab_info "restore #$i: tunnel and routes back within $((SECONDS - t0)) s"
    sleep 2
done
lab_kill "probe-$src"
lab_kill "probe-$dst"

desc="$topology${routing:+ routing=$routing}"

# keep_running: with --keep, everything stays up until Ctrl-C.
keep_running() {
    ((keep)) || return 0
    lab_info "running; Ctrl-C tears everything down (vtysh -N ${TOPO_NS[$src]}, logs in $LAB_DIR)"
    while sleep 1; do :; done
}

if [[ -n $load ]]; then
    lab_info "results: $desc, DPD $dpd, BFD ${bfd:-off}, iperf3 --bidir on every tunnel for ${load}s${load_rate:+ at $load_rate each way}, no cut"
    "$LAB_PYTHON" "$here/probe.py" analyze --events "$LAB_DIR/events" \
        --flow "$src->$dst=$LAB_DIR/probe-$dst.rx" --flow "$dst->$src=$LAB_DIR/probe-$src.rx"
    bfd_downs=-
    [[ -z $bfd ]] || bfd_downs=$((downs1 - downs0))
    [[ -z $bfd ]] || lab_info "BFD session downs: $bfd_downs (bfdd's log); sessions up throughout with the same ID and FRR's session-down counter 0: $held of $sessions"
    lab_info "OSPF adjacencies lost: $((adj1 - adj0)); 'peer dead': $((dead1 - dead0))"
    if [[ -n $csv ]]; then
        echo "$desc,$dpd,${bfd:-off},$load,$bfd_downs,$((adj1 - adj0)),$((dead1 - dead0)),$("$LAB_PYTHON" "$here/probe.py" analyze --csv --events "$LAB_DIR/events" \
            --flow "a=$LAB_DIR/probe-$dst.rx" --flow "b=$LAB_DIR/probe-$src.rx")" >>"$csv"
    fi
    keep_running
    exit 0
fi
timers=''
[[ $TOPO_ROUTING != ospf ]] || timers=", OSPF hello 1 s dead ${ospf_dead} s"
how="cut by $cut_method"
[[ -z $kill ]] || how="site $kill killed"
lab_info "results: $desc, DPD $dpd, BFD ${bfd:-off}, link-down ${link_down:-default}, $how$timers"
"$LAB_PYTHON" "$here/probe.py" analyze --events "$LAB_DIR/events" \
    --flow "$src->$dst=$LAB_DIR/probe-$dst.rx" --flow "$dst->$src=$LAB_DIR/probe-$src.rx"
fd=$(false_dead)
lab_info "'peer dead' for a tunnel that was not cut${kill:+ (or to another site than $kill)}: $fd"
if [[ -n $csv ]]; then
    echo "$desc,$dpd,${bfd:-off},${link_down:-default},$("$LAB_PYTHON" "$here/probe.py" analyze --csv --events "$LAB_DIR/events" \
        --flow "a=$LAB_DIR/probe-$dst.rx" --flow "b=$LAB_DIR/probe-$src.rx"),$fd" >>"$csv"
fi
keep_running
