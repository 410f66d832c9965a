#!/usr/bin/env bash
# The hub benchmark: N spokes start at once against one hub, first a
# mesh-site hub, then strongSwan's charon (kernel-libipsec, one %any
# connection) in the same run with the same spokes, and a table per N puts
# the two side by side.
#
#                      switch namespace: bridge br0
#              +------------+------------+-- ... --+
#              |            |            |         |
#   hub  wan0 100.64.0.1   spoke 1      spoke 2   spoke N     underlay 100.64.0.0/16
#        lo   10.0.0.1     100.64.0.11  ...                   spoke i: 100.64.0.0 + 10 + i
#                          lo 10.128.0.11                     its inner address 10.128.0.0 + 10 + i
#
# Every spoke does a full IKE_SA_INIT + IKE_AUTH with its own identity
# (fqdn:s<i>.spoke.lab, one pre-shared key) and one tunnel-mode CHILD SA
# from its inner /32 to the hub's 10.0.0.1/32, and pings 10.0.0.1 from its
# inner address through that tunnel: a spoke is up at its first reply.
#
# The spokes (--spokes):
#   mesh-site   one mesh-site per spoke, each in its own namespace with its
#               own veth into the bridge (the real thing; bounded by this
#               machine's memory and cores: the table shows its cost)
#   charon      one strongSwan charon (kernel-libipsec) in one namespace
#               holding every spoke's underlay and inner address, one
#               connection per spoke from its own address (reaches 1000)
#   auto        mesh-site up to 200 spokes, charon above (the default)
# The mesh-site hub (--hub-config):
#   per-branch  a passive [peer] and a mode-ip [tunnel] per spoke (works today)
#   template    one passive [peer] with address "0.0.0.0/0" serving every
#               spoke, a tunnel instance per spoke (issue 12's template peers)
# strongSwan's hub is always one connection (remote_addrs = %any, the
# spokes' inner /32s narrowed out of 10.128.0.0/16), PSK, its defaults
# otherwise (cookie threshold 30, 16 threads), logging ike and cfg at level 1.
# Both hubs: IKE aes256gcm16-prfsha256-ecp256, ESP aes128gcm16, DPD 30 s.
#
# What the table shows, per hub (the hub's own figures from its own tools:
# mesh-site status --json and its log; swanctl --list-sas, --counters and
# charon's log):
#   time to up          first, median, 90th percentile and last spoke's
#                       first ping reply, from the moment the spokes start
#   hub CPU             user + system seconds of the hub process during the
#                       set-up, and per minute of --idle after it (DPD,
#                       keepalives, timers), also as % of a core per 1000
#   hub RSS             before the spokes start (the hub configured and
#                       idle) and once all are up; per spoke the difference
#                       over N (the kernel's TUNs are not in it)
#   counts              IKE SAs and CHILD SAs, IKE_SA_INITs answered with a
#                       KE (a DH each; COOKIEs and resent answers apart),
#                       retransmitted requests, COOKIEs, AUTH failures
#                       (hub), peers the hub declared dead (DPD) by the
#                       end of --idle; retransmits and re-initiations (spokes:
#                       initiations beyond one per spoke); IKE datagrams the
#                       hub dropped (its queue between threads and its
#                       sockets' kernel drops)
#   status latency      median of 5 `mesh-site status --json` (strongSwan:
#                       `swanctl --list-sas`) once all are up
#
# usage: netns-lab/bench-hub.sh [options] N [N...]
#   --spokes mesh-site|charon|auto   (default auto)
#   --hub-config per-branch|template (default per-branch; or BENCH_HUB_CONFIG)
#   --hubs mesh-site,strongswan      which hubs, in this order (default both)
#   --idle SECONDS                   idle CPU window after all are up (default 30)
#   --timeout SECONDS                for all spokes to be up (default 60 + N/10)
#   --binary PATH                    mesh-site (default build/tools/mesh-site)
#   --json FILE                      also append each run's figures to FILE
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$(readlink -f "$0")")/lib.sh"

spokes_kind=auto hub_config=${BENCH_HUB_CONFIG:-per-branch} hubs=mesh-site,strongswan idle=30 timeout=''
binary='' json_out='' counts=()
while (($#)); do
    case $1 in
        --spokes) spokes_kind=$2; shift 2 ;;
        --hub-config) hub_config=$2; shift 2 ;;
        --hubs) hubs=$2; shift 2 ;;
        --idle) idle=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --binary | -b) binary=$2; shift 2 ;;
        --json) json_out=$2; shift 2 ;;
        -h | --help) sed -n '2,/^# shellcheck/{/^# shellcheck/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
        [0-9]*) counts+=("$1"); shift ;;
        *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done
((${#counts[@]})) || { echo "usage: $0 [options] N [N...] (try --help)" >&2; exit 2; }
for n_spokes in "${counts[@]}"; do
    ((n_spokes >= 1 && n_spokes <= 4000)) || { echo "N must be 1..4000" >&2; exit 2; }
done
[[ $spokes_kind =~ ^(mesh-site|charon|auto)$ ]] || { echo "--spokes: mesh-site, charon or auto" >&2; exit 2; }
[[ $hub_config =~ ^(per-branch|template)$ ]] || { echo "--hub-config: per-branch or template" >&2; exit 2; }

lab_init ping
lab_find_binary "$binary"
lab_require_strongswan
results=$LAB_DIR/results.json
: >"$results"
bench_hub() { "$LAB_PYTHON" "$LAB_ROOT/netns-lab/bench_hub.py" "$@"; }

HUB_NS=msl-hub-$$ SW_NS=msl-hsw-$$ SPOKES_NS=msl-spokes-$$
HUB=100.64.0.1 HUB_LAN=10.0.0.1 HUB_MAC=02:64:00:00:00:01 SPOKES_MAC=02:64:00:02:00:01
PSK=$(lab_hex 16)
LAB_SITE_NS[hub]=$HUB_NS
LAB_SITE_NS[spokes]=$SPOKES_NS
# shellcheck disable=SC2034 # read by lab_toml_ike_defaults through its name
declare -A IKE=([dh-group]=ecp256 [ike-enc]=aes-256-gcm [ike-hash]=sha256 [esp]=aes-128-gcm [pfs]=none
    [dpd-interval]=30s)

# Spoke i's addresses: the 10 + i-th of the underlay and of the inner /16.
spoke_host() { local a=$(($1 + 10)); echo "$((a >> 8)).$((a & 255))"; }
spoke_mac() { local a=$(($1 + 10)); printf '02:64:00:01:%02x:%02x' $((a >> 8)) $((a & 255)); }

# ---------------------------------------------------------------------------
# Topology: the hub and the switch always; the spokes' namespaces per N.

topology_hub() {
    lab_ns_add "$HUB_NS"
    lab_ns_add "$SW_NS"
    n "$SW_NS" ip link add br0 type bridge
    n "$SW_NS" ip link set br0 up
    lab_veth "$HUB_NS" wan0 "$SW_NS" h-hub
    n "$SW_NS" ip link set h-hub master br0 up
    n "$HUB_NS" ip link set wan0 address $HUB_MAC addrgenmode none
    n "$HUB_NS" ip addr add $HUB/16 dev wan0
    n "$HUB_NS" ip addr add $HUB_LAN/32 dev lo
    n "$HUB_NS" ip link set wan0 up
}

# Neighbours are written as permanent entries: the kernel's neighbour table
# holds gc_thresh3 (1024) entries across all namespaces, which a thousand
# spokes and the hub's thousand entries would overflow; permanent ones do not
# count against it.
topology_spokes() {
    local n=$1 kind=$2 i h ns
    local hub_batch=$LAB_DIR/hub-neigh.batch sw_batch=$LAB_DIR/switch.batch
    : >"$hub_batch"
    : >"$sw_batch"
    : >"$LAB_DIR/spokes.list"
    if [[ $kind == charon ]]; then
        lab_ns_add "$SPOKES_NS"
        lab_veth "$SPOKES_NS" wan0 "$SW_NS" h-spokes
        n "$SW_NS" ip link set h-spokes master br0 up
        local batch=$LAB_DIR/spokes.batch
        {
            echo "link set wan0 address $SPOKES_MAC addrgenmode none"
            for ((i = 1; i <= n; i++)); do
                h=$(spoke_host "$i")
                echo "addr add 100.64.$h/16 dev wan0"
                echo "addr add 10.128.$h/32 dev lo"
                echo "neigh replace 100.64.$h lladdr $SPOKES_MAC dev wan0 nud permanent" >>"$hub_batch"
                echo "$SPOKES_NS 10.128.$h" >>"$LAB_DIR/spokes.list"
            done
            echo "link set wan0 up"
            echo "neigh replace $HUB lladdr $HUB_MAC dev wan0 nud permanent"
        } >"$batch"
        n "$SPOKES_NS" ip -batch "$batch"
    else
        lab_info "making $n spoke namespaces (msl-s<i>-$$), one veth each into the bridge"
        for ((i = 1; i <= n; i++)); do
            ns=msl-s$i-$$
            LAB_SITE_NS[s$i]=$ns
            ip netns add "$ns"
            lab_defer "lab_ns_del '$ns'"
            echo "link add s-$i type veth peer name wan0 netns $ns" >>"$sw_batch"
            echo "link set s-$i master br0 up" >>"$sw_batch"
        done
        n "$SW_NS" ip -batch "$sw_batch"
        for ((i = 1; i <= n; i++)); do
            h=$(spoke_host "$i") ns=msl-s$i-$$
            printf '%s\n' "link set lo up" "link set wan0 address $(spoke_mac "$i") addrgenmode none" \
                "addr add 100.64.$h/16 dev wan0" "addr add 10.128.$h/32 dev lo" "link set wan0 up" \
                "neigh replace $HUB lladdr $HUB_MAC dev wan0 nud permanent" | ip -n "$ns" -batch - ||
                lab_die "setting up $ns failed"
            echo "neigh replace 100.64.$h lladdr $(spoke_mac "$i") dev wan0 nud permanent" >>"$hub_batch"
            echo "$ns 10.128.$h" >>"$LAB_DIR/spokes.list"
        done
    fi
    n "$HUB_NS" ip -batch "$hub_batch"
}

topology_spokes_remove() {
    local n=$1 kind=$2 i
    ip -n "$HUB_NS" neigh flush dev wan0 nud permanent 2>/dev/null || true
    if [[ $kind == charon ]]; then
        lab_ns_del "$SPOKES_NS"
    else
        for ((i = 1; i <= n; i++)); do
            ip netns del "msl-s$i-$$" 2>/dev/null || true
            unset "LAB_SITE_NS[s$i]"
        done
    fi
}

# ---------------------------------------------------------------------------
# mesh-site hub: the one switch between hand-written branches and the
# template peer is hub_config.

# shellcheck disable=SC2034 # the t_* tables are read by lab_toml_table through their names
write_hub_config() {
    local n=$1 i h
    local -A t_site=([name]=hub [listen]=$HUB [control-socket]=$LAB_DIR/site-hub.sock)
    {
        echo "# mesh-site lab: the hub of netns-lab/bench-hub.sh, $n spokes, $hub_config"
        lab_toml_table site t_site name listen control-socket
        lab_toml_ike_defaults IKE
        if [[ $hub_config == template ]]; then
            local -A t_peer=([address]=0.0.0.0/0 [passive]=true [profile]=default [auth-method]=pre-shared-key
                [secret]=$PSK [my-id]=fqdn:hub.lab [remote-id]='fqdn:*.spoke.lab')
            local -A t_tunnel=([peer]=branches [proposal]=default [interface]=br- [mode]=ip
                [local-subnets]=$HUB_LAN/32 [remote-subnets]=10.128.0.0/16)
            lab_toml_table peer.branches t_peer address passive profile auth-method secret my-id remote-id
            lab_toml_table tunnel.branches t_tunnel peer proposal interface mode local-subnets remote-subnets
        else
            for ((i = 1; i <= n; i++)); do
                h=$(spoke_host "$i")
                local -A t_peer=([address]=100.64.$h [passive]=true [profile]=default [auth-method]=pre-shared-key
                    [secret]=$PSK [my-id]=fqdn:hub.lab [remote-id]=fqdn:s$i.spoke.lab)
                local -A t_tunnel=([peer]=s$i [proposal]=default [interface]=t-s$i [mode]=ip
                    [local-subnets]=$HUB_LAN/32 [remote-subnets]=10.128.$h/32)
                lab_toml_table "peer.s$i" t_peer address passive profile auth-method secret my-id remote-id
                lab_toml_table "tunnel.s$i" t_tunnel peer proposal interface mode local-subnets remote-subnets
            done
        fi
    } >"$LAB_DIR/site-hub.toml"
}

_hub_tuns() { [[ $(ip -n "$HUB_NS" -o link show | grep -c ': t-s[0-9]*:') -ge $1 ]]; }

# hub_start_mesh N: the hub running with its configuration loaded and, per
# branch, every TUN made. The soft RLIMIT_NOFILE is raised for it when the
# default 1024 is short of a TUN and more per branch.
HUB_NOTE=''
hub_start_mesh() {
    local n=$1 nofile=1024
    lab_info "mesh-site hub ($hub_config, $n spokes)"
    write_hub_config "$n"
    n "$HUB_NS" "$MESH_SITE" check-config -c "$LAB_DIR/site-hub.toml" >/dev/null ||
        lab_die "check-config rejected site-hub.toml"
    HUB_NOTE=''
    if [[ $hub_config == per-branch ]] && ((2 * n + 64 > nofile)); then
        nofile=$((2 * n + 256)) HUB_NOTE="RLIMIT_NOFILE raised to $((2 * n + 256)) by the script"
    fi
    lab_bg hub "$HUB_NS" sh -c "ulimit -Sn $nofile && exec '$MESH_SITE' run -c '$LAB_DIR/site-hub.toml'"
    HUB_PID=${LAB_PID[hub]}
    lab_wait $((30 + n / 10)) "the mesh-site hub to answer status" mesh hub status --json
    [[ $hub_config == template ]] || lab_wait $((30 + n / 10)) "the hub's $n TUNs" _hub_tuns "$n"
    lab_alive hub || lab_die "the mesh-site hub exited"
}

hub_stop_mesh() {
    local t0=$SECONDS
    lab_kill hub
    lab_info "the mesh-site hub stopped in $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------------------
# strongSwan hub: one connection for every spoke.

hub_start_swan() {
    lab_info "strongSwan hub (charon, kernel-libipsec, one %any connection)"
    : >"$LAB_DIR/strongswan-hub.log"   # charon appends: only this run's lines
    LAB_SWAN_PLUGINS=counters LAB_SWAN_LOG=1 lab_charon_start hub
    HUB_PID=${LAB_PID[charon-hub]}
    cat >"$LAB_DIR/swan-hub/swanctl/swanctl.conf" <<EOF
connections {
    branches {
        version = 2
        local_addrs = $HUB
        remote_addrs = %any
        proposals = aes256gcm16-prfsha256-ecp256
        dpd_delay = 30s
        local {
            auth = psk
            id = fqdn:hub.lab
        }
        remote {
            auth = psk
        }
        children {
            branches {
                local_ts = $HUB_LAN/32
                remote_ts = 10.128.0.0/16
                esp_proposals = aes128gcm16
                mode = tunnel
            }
        }
    }
}
secrets {
    ike-branches {
        secret = "$PSK"
    }
}
EOF
    lab_swanctl hub --load-all --noprompt >>"$LAB_DIR/swanctl-hub.out" 2>&1 ||
        lab_die "swanctl --load-all (hub) failed: $(tail -n 5 "$LAB_DIR/swanctl-hub.out")"
    HUB_NOTE=''
}

hub_stop_swan() { lab_charon_stop hub; }

# ---------------------------------------------------------------------------
# Spokes

# shellcheck disable=SC2034 # the t_* tables are read by lab_toml_table through their names
write_spoke_configs() {
    local n=$1 i h
    for ((i = 1; i <= n; i++)); do
        h=$(spoke_host "$i")
        local -A t_site=([name]=s$i [listen]=100.64.$h [control-socket]=$LAB_DIR/site-s$i.sock)
        local -A t_peer=([address]=$HUB [profile]=default [auth-method]=pre-shared-key [secret]=$PSK
            [my-id]=fqdn:s$i.spoke.lab [remote-id]=fqdn:hub.lab)
        local -A t_tunnel=([peer]=hub [proposal]=default [interface]=tun-hub [mode]=ip
            [local-subnets]=10.128.$h/32 [remote-subnets]=$HUB_LAN/32)
        {
            echo "# mesh-site lab: spoke $i of netns-lab/bench-hub.sh"
            lab_toml_table site t_site name listen control-socket
            lab_toml_ike_defaults IKE
            lab_toml_table peer.hub t_peer address profile auth-method secret my-id remote-id
            lab_toml_table tunnel.hub t_tunnel peer proposal interface mode local-subnets remote-subnets
        } >"$LAB_DIR/site-s$i.toml"
    done
}

write_spoke_swanctl() {
    local n=$1 i h
    {
        echo "connections {"
        for ((i = 1; i <= n; i++)); do
            h=$(spoke_host "$i")
            cat <<EOF
    s$i {
        version = 2
        local_addrs = 100.64.$h
        remote_addrs = $HUB
        proposals = aes256gcm16-prfsha256-ecp256
        # A branch keeps trying (as a mesh-site spoke does): charon gives
        # up after its retransmits (3 here), then initiates anew.
        keyingtries = 0
        local {
            auth = psk
            id = fqdn:s$i.spoke.lab
        }
        remote {
            auth = psk
            id = fqdn:hub.lab
        }
        children {
            s$i {
                local_ts = 10.128.$h/32
                remote_ts = $HUB_LAN/32
                esp_proposals = aes128gcm16
                mode = tunnel
                start_action = start
            }
        }
    }
EOF
        done
        echo "}"
        printf 'secrets {\n    ike-hub {\n        secret = "%s"\n    }\n}\n' "$PSK"
    } >"$LAB_DIR/swan-spokes/swanctl/swanctl.conf"
}

# spokes_prepare N KIND: what must exist before the clock starts (the
# charon spoke process, idle, with its secret loaded).
spokes_prepare() {
    local n=$1 kind=$2
    [[ $kind == charon ]] || return 0
    : >"$LAB_DIR/strongswan-spokes.log"
    LAB_SWAN_LOG=1 lab_charon_start spokes
    write_spoke_swanctl "$n"
    lab_swanctl spokes --load-creds --noprompt >>"$LAB_DIR/swanctl-spokes.out" 2>&1 ||
        lab_die "swanctl --load-creds (spokes) failed"
}

# spokes_launch N KIND: every spoke starts initiating now.
SPOKE_PIDS=()
spokes_launch() {
    local n=$1 kind=$2 i
    if [[ $kind == charon ]]; then
        lab_swanctl spokes --load-conns >>"$LAB_DIR/swanctl-spokes.out" 2>&1 ||
            lab_die "swanctl --load-conns (spokes) failed: $(tail -n 5 "$LAB_DIR/swanctl-spokes.out")"
        return
    fi
    SPOKE_PIDS=()
    mkdir -p "$LAB_DIR/spokes"
    pretty "" "starting $n mesh-site spokes (logs: $LAB_DIR/spokes/s<i>.log)"
    for ((i = 1; i <= n; i++)); do
        ip netns exec "msl-s$i-$$" "$MESH_SITE" run -c "$LAB_DIR/site-s$i.toml" >"$LAB_DIR/spokes/s$i.log" 2>&1 &
        SPOKE_PIDS+=($!)
    done
}

# spokes_stop KIND: all at once (TERM, then KILL after 10 s), not one by one.
spokes_stop() {
    local kind=$1 pid i
    if [[ $kind == charon ]]; then
        lab_charon_stop spokes
        return
    fi
    ((${#SPOKE_PIDS[@]})) || return 0
    kill -TERM "${SPOKE_PIDS[@]}" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "${SPOKE_PIDS[@]}" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "${SPOKE_PIDS[@]}" 2>/dev/null || true
    for pid in "${SPOKE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    SPOKE_PIDS=()
}
lab_defer 'spokes_stop mesh-site'

# spokes_memory KIND: the spokes' RSS in MB, total and per spoke process.
spokes_memory() {
    local kind=$1 total=0 pid
    if [[ $kind == charon ]]; then
        total=$(bench_hub rss "${LAB_PID[charon-spokes]}")
    else
        for pid in "${SPOKE_PIDS[@]}"; do
            total=$((total + $(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
        done
    fi
    echo "$total"
}

# ---------------------------------------------------------------------------
# The figures each hub's own tools give

count_lines() { grep -Ec -- "$1" "${@:2}" 2>/dev/null | awk -F: '{s += $NF} END {print s + 0}'; }

# counts_mesh N KIND -> JSON object
counts_mesh() {
    local n=$1 kind=$2
    mesh hub status --json >"$LAB_DIR/hub-status.json" || lab_die "the mesh-site hub does not answer status"
    "$LAB_PYTHON" -c '
import json, sys
d, up, extra = json.load(open(sys.argv[1])), json.load(open(sys.argv[3])), json.loads(sys.argv[2])
ike = d.get("counters", {}).get("ike", {})
def drops(d):
    return d.get("counters", {}).get("misrouted-drops", 0) + sum(
        s.get("kernel-drops", 0) for s in d.get("sockets", {}).values())
print(json.dumps(dict(extra,
    ike_sas=sum(1 for p in d.get("peers", []) if p.get("state") == "established"),
    child_sas=sum(len(p.get("child-sas", [])) for p in d.get("peers", [])),
    retransmits_in=up.get("counters", {}).get("ike", {}).get("retransmits"),   # later, DPD counts there too
    cookies=ike.get("cookies-sent"),
    auth_failures=ike.get("authentication-failed"),
    peers_dead=ike.get("peers-dead"),
    queue_drops=drops(up), idle_queue_drops=drops(d) - drops(up))))' "$LAB_DIR/hub-status.json" \
        "{\"init_answers\": $(count_lines 'IKE_SA_INIT from .* answered with' "$LAB_DIR/hub.log"), $(counts_spokes "$n" "$kind")}" \
        "$LAB_DIR/hub-status-up.json"
}

# counts_swan N KIND -> JSON object
counts_swan() {
    local n=$1 kind=$2 log=$LAB_DIR/strongswan-hub.log
    lab_swan_sas hub >"$LAB_DIR/swanctl-hub-sas.out"
    ns_exec "$HUB_NS" env STRONGSWAN_CONF="$LAB_DIR/swan-hub/strongswan.conf" \
        SWANCTL_DIR="$LAB_DIR/swan-hub/swanctl" swanctl --counters >"$LAB_DIR/swanctl-hub-counters.out" 2>&1 || true
    "$LAB_PYTHON" -c '
import json, re, sys
sas, counters, extra = open(sys.argv[1]).read(), open(sys.argv[2]).read(), json.loads(sys.argv[3])
c = dict((k, int(v)) for k, v in re.findall(r"([a-z][a-z-]+)\s*:\s*(\d+)", counters))
print(json.dumps(dict(extra,
    ike_sas=len(re.findall(r"ESTABLISHED", sas)),
    child_sas=len(re.findall(r"INSTALLED", sas)),
    init_answers=c.get("ike-init-out-resp"))))' "$LAB_DIR/swanctl-hub-sas.out" "$LAB_DIR/swanctl-hub-counters.out" \
        "{\"retransmits_in\": $(count_lines 'received retransmit of request' "$log"),
          \"cookies\": $(count_lines 'generating IKE_SA_INIT response .*N\(COOKIE\)' "$log"),
          \"auth_failures\": $(count_lines 'generating IKE_AUTH response .*N\(AUTH_FAILED\)' "$log"),
          \"peers_dead\": $(count_lines 'giving up after [0-9]+ retransmits' "$log"),
          $(counts_spokes "$n" "$kind")}"
}

# counts_spokes N KIND -> '"spoke_retransmits": R, "reinitiations": I'
counts_spokes() {
    local n=$1 kind=$2 retransmits initiations
    if [[ $kind == charon ]]; then
        retransmits=$(count_lines 'retransmit [0-9]+ of request' "$LAB_DIR/strongswan-spokes.log")
        # charon logs "initiating IKE_SA s<i>[<unique id>]" again when it
        # resends IKE_SA_INIT with a COOKIE: a new IKE SA has a new unique id.
        initiations=$(grep -Eo 'initiating IKE_SA [^ ]+' "$LAB_DIR/strongswan-spokes.log" | sort -u | wc -l)
    else
        local i
        retransmits=$(for ((i = 1; i <= n; i++)); do { mesh "s$i" status --json 2>/dev/null || echo "{}"; } | tr -d "\n"; echo; done |
            "$LAB_PYTHON" -c 'import json, sys; print(sum(json.loads(l).get("counters", {}).get("ike", {}).get("retransmits", 0) for l in sys.stdin if l.strip()))')
        initiations=$(cat "$LAB_DIR"/spokes/s*.log | count_lines 'initiating IKE SA to' -)
    fi
    echo "\"spoke_retransmits\": $retransmits, \"reinitiations\": $((initiations > n ? initiations - n : 0))"
}

# status_ms HUB: the median of 5 status queries, ms.
status_ms() {
    local hub=$1 i t0 samples=()
    for i in 1 2 3 4 5; do
        t0=$(date +%s%N)
        if [[ $hub == mesh-site ]]; then
            ns_exec "$HUB_NS" "$MESH_SITE" status -s "$LAB_DIR/site-hub.sock" --json >/dev/null
        else
            lab_swan_sas hub >/dev/null
        fi
        samples+=($((($(date +%s%N) - t0) / 1000)))
    done
    printf '%s\n' "${samples[@]}" | sort -n | sed -n 3p | awk '{printf "%.1f", $1 / 1000}'
}

# ---------------------------------------------------------------------------
# One run: one hub, N spokes.

run_one() {
    local hub=$1 n=$2 kind=$3 load up launch cpu0 cpu1 idle_cpu counts mem
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    if [[ $hub == mesh-site ]]; then hub_start_mesh "$n"; else hub_start_swan; fi
    spokes_prepare "$n" "$kind"
    rm -f "$LAB_DIR/ping.ready"
    lab_info "$hub hub: starting $n $kind spokes at once (timeout ${run_timeout}s)"
    bench_hub ping --spokes "$LAB_DIR/spokes.list" --dest $HUB_LAN --hub-pid "$HUB_PID" \
        --timeout "$run_timeout" --ready "$LAB_DIR/ping.ready" >"$LAB_DIR/ping.json" &
    local pinger=$!
    lab_defer "kill $pinger 2>/dev/null"
    lab_wait 60 "the pinger's sockets" test -e "$LAB_DIR/ping.ready"
    launch=$(date +%s%N)
    spokes_launch "$n" "$kind"
    launch=$((($(date +%s%N) - launch) / 1000000))
    wait "$pinger" || lab_die "the pinger failed"
    up=$(cat "$LAB_DIR/ping.json")
    lab_info "$hub hub: $("$LAB_PYTHON" -c 'import json,sys; u=json.loads(sys.argv[1])["up_s"]; print("%d of %d up, last at %s s" % (sum(t is not None for t in u), len(u), max((t for t in u if t is not None), default="-")))' "$up")"
    mem=$(spokes_memory "$kind")
    [[ $hub != mesh-site ]] || mesh hub status --json >"$LAB_DIR/hub-status-up.json" ||
        lab_die "the mesh-site hub does not answer status"
    lab_info "$hub hub: idle for ${idle}s"
    cpu0=$(bench_hub cpu "$HUB_PID")
    sleep "$idle"
    cpu1=$(bench_hub cpu "$HUB_PID")
    idle_cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v s="$idle" 'BEGIN {printf "%.4f", (b - a) * 60 / s}')
    if [[ $hub == mesh-site ]]; then counts=$(counts_mesh "$n" "$kind"); else counts=$(counts_swan "$n" "$kind"); fi
    local status
    status=$(status_ms "$hub")
    [[ $kind != charon ]] || cp "$LAB_DIR/strongswan-spokes.log" "$LAB_DIR/strongswan-spokes-$hub-hub-$n.log"
    spokes_stop "$kind"
    if [[ $hub == mesh-site ]]; then hub_stop_mesh; else hub_stop_swan; fi
    "$LAB_PYTHON" -c '
import json, sys
r = json.loads(sys.argv[1])
r.update(hub=sys.argv[2], spokes=int(sys.argv[3]), spoke_kind=sys.argv[4], hub_config=sys.argv[5],
         idle_cpu_s_per_min=float(sys.argv[6]), counts=json.loads(sys.argv[7]), status_ms=float(sys.argv[8]),
         launch_s=int(sys.argv[9]) / 1000, spokes_rss_mb=int(sys.argv[10]) / 1024, load=sys.argv[11],
         cpus=int(sys.argv[12]))
print(json.dumps(r))' "$up" "$hub" "$n" "$kind" "$hub_config${HUB_NOTE:+ ($HUB_NOTE)}" "$idle_cpu" "$counts" \
        "$status" "$launch" "$mem" "$load" "$(nproc)" >>"$results"
}

topology_hub
IFS=, read -ra hub_list <<<"$hubs"
for n_spokes in "${counts[@]}"; do
    kind=$spokes_kind
    [[ $kind != auto ]] || { kind=mesh-site; ((n_spokes <= 200)) || kind=charon; }
    run_timeout=${timeout:-$((60 + n_spokes / 10))}
    lab_info "$n_spokes spokes ($kind)"
    [[ $kind == charon ]] || write_spoke_configs "$n_spokes"
    topology_spokes "$n_spokes" "$kind"
    for hub in "${hub_list[@]}"; do
        case $hub in
            mesh-site | strongswan) run_one "$hub" "$n_spokes" "$kind" ;;
            *) lab_die "--hubs: mesh-site or strongswan, not '$hub'" ;;
        esac
    done
    topology_spokes_remove "$n_spokes" "$kind"
done

bench_hub table "$results"
"$LAB_PYTHON" -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    each = " (%.1f MB each)" % (r["spokes_rss_mb"] / r["spokes"]) if r["spoke_kind"] == "mesh-site" else " (one charon)"
    print("%s hub, %d %s spokes: launched in %.2f s, spokes RSS %.0f MB%s" % (
        r["hub"], r["spokes"], r["spoke_kind"], r["launch_s"], r["spokes_rss_mb"], each))' "$results"
[[ -z $json_out ]] || cat "$results" >>"$json_out"
