#!/usr/bin/env bash
# One hub, one template peer, many branches: each branch that authenticates
# gets its own tunnel instance (TUN, SAs, DPD) on the hub, and loses it when
# it dies (docs/configuration.md, "Template peers").
#
#   +----------+   +----------+         +-----------+
#   | $HUB     |   | spoke 1  |  . . .  | spoke $N  |    each spoke: its own mesh-site,
#   | wan0 .1  |   | wan0 .11 |         | wan0 .10+N|    fqdn:sI.branch.example.net,
#   +----+-----+   +----+-----+         +-----+-----+    its own PSK
#        |              |                     |
#   +----+--------------+---------------------+-----+
#   | $SW: bridge br0, 192.0.2.0/24 underlay        |
#   +-----------------------------------------------+
#
#   hub: [peer.branches] address = "0.0.0.0/0", passive, remote-id
#        "fqdn:*.branch.example.net", secrets-file (one key per spoke);
#        [tunnel.branches] mode gre, interface "br", address-pool 172.16.128.0/17;
#        [site] workers = 2 (docs/data-plane.md, "Workers")
#
#   1  all N spokes start at once; the hub's status shows N instances up,
#      N interfaces br<INDEX>, each with its /31; the kernel announced each
#      instance's address at least 4 times (made, up, 1 s and 5 s later: the
#      later ones for a zebra that dropped the first, docs/frr.md)
#   2  a spoke with a wrong key is refused ("authentication failed"), one
#      whose identity has no key ("no matching identity found"); neither
#      gets an instance
#   3  pings through 5 instances (each spoke's gre-hub has its end of the
#      block the hub chose, handed out by mode config: mode-config =
#      "request", INTERNAL_IP4_ADDRESS with netmask /31); the instances'
#      TUNs are spread over both workers, the pinged ones on both, each
#      counted the pings on its inbound SA, and no datagram was steered to a
#      worker that could not open it (claim, misrouted, unknown SPI drops 0)
#   4  kill -9 five spokes: DPD (1 s x 2) removes exactly their instances,
#      interfaces and routes on the hub; the others stay up
#   5  a second template on the same hub, mode ip ([peer.ipbranches],
#      fqdn:*.ip.example.net, keys in [peer.ipbranches.secrets]): two
#      branches get instances ipb<INDEX> routed to the LANs their traffic
#      selectors name, pings cross both from the hub's LAN address; a third
#      branch claiming the first one's LAN is refused and gets none
# Prints: time until all up, hub RSS before and after, RSS per instance.
# usage: tests/netns/hub_template.sh [MESH_SITE_BINARY]   (SPOKES=N, at least 10, to change N)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../netns-lab/lib.sh"
lab_init ping
lab_find_binary "${1:-}"

spokes=${SPOKES:-50}
SW=sw-$$
HUB=hub-$$
spoke_ns() { echo "sp$1-$$"; }

lab_info "topology: hub and $spokes spokes behind one bridge"
lab_ns_add "$SW"
n "$SW" ip link add br0 type bridge
n "$SW" ip link set br0 up
add_site() { # add_site NS PORT ADDRESS
    lab_ns_add "$1"
    ns_exec "$1" ip link add wan0 type veth peer name "$2" netns "$SW"
    ns_exec "$SW" ip link set "$2" master br0 up
    ns_exec "$1" ip addr add "$3/24" dev wan0
    ns_exec "$1" ip link set wan0 up
    ns_exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
}
add_site "$HUB" hub 192.0.2.1
for ((i = 1; i <= spokes + 5; i++)); do
    add_site "$(spoke_ns "$i")" "p$i" "192.0.2.$((10 + i))"
done

secret() { echo "branch-key-$1-$$"; }
: >"$LAB_DIR/branches.secrets"
for ((i = 1; i <= spokes + 1; i++)); do
    echo "fqdn:s$i.branch.example.net $(secret "$i")" >>"$LAB_DIR/branches.secrets"
done
cat >"$LAB_DIR/hub.toml" <<EOF
[site]
name = "hub"
listen = "192.0.2.1"
control-socket = "$LAB_DIR/hub.sock"
workers = 2

[profile.default]
dpd-interval = "1s"
dpd-maximum-failures = 2

[peer.branches]
address = "0.0.0.0/0"
passive = true
my-id = "fqdn:hub.example.net"
remote-id = "fqdn:*.branch.example.net"
secrets-file = "branches.secrets"

[tunnel.branches]
peer = "branches"
interface = "br"
mode = "gre"
address-pool = "172.16.128.0/17"

[peer.ipbranches]
address = "0.0.0.0/0"
passive = true
my-id = "fqdn:hub.example.net"
remote-id = "fqdn:*.ip.example.net"

[peer.ipbranches.secrets]
"fqdn:lan1.ip.example.net" = "$(secret lan1)"
"fqdn:lan2.ip.example.net" = "$(secret lan2)"
"fqdn:thief.ip.example.net" = "$(secret thief)"

[tunnel.ipbranches]
peer = "ipbranches"
interface = "ipb"
mode = "ip"
local-subnets = ["10.200.0.1/32"]
remote-subnets = ["10.201.0.0/16"]
EOF
# Spoke I: minimal; its tunnel address is its end of the hub's block, by mode config.
# encapsulation = "auto": a spoke retransmitting IKE_SA_INIT around a cookie
# must sign the message the hub answered (issue 12's cookie finding).
# Every spoke's site and hub peer: spoke_site NAME I ID KEY
spoke_site() {
    cat <<EOF
[site]
name = "$1"
listen = "192.0.2.$((10 + $2))"
control-socket = "$LAB_DIR/$1.sock"

[peer.hub]
address = "192.0.2.1"
secret = "$4"
my-id = "$3"
encapsulation = "auto"
EOF
}
spoke_config() { # spoke_config I [ID] [KEY]
    spoke_site "spoke$1" "$1" "${2:-fqdn:s$1.branch.example.net}" "${3:-$(secret "$1")}"
    cat <<EOF
mode-config = "request"

[profile.default]
dpd-interval = "1s"

[tunnel.hub]
peer = "hub"
interface = "gre-hub"
EOF
}
for ((i = 1; i <= spokes; i++)); do
    spoke_config "$i" >"$LAB_DIR/spoke$i.toml"
done
# A mode-ip branch NAME with the LAN 10.201.LAN.0/24 (on its loopback).
ip_spoke_config() { # ip_spoke_config I NAME LAN
    spoke_site "$2" "$1" "fqdn:$2.ip.example.net" "$(secret "$2")"
    cat <<EOF

[tunnel.hub]
peer = "hub"
interface = "tun-hub"
mode = "ip"
local-subnets = ["10.201.$3.0/24"]
remote-subnets = ["10.200.0.1/32"]
EOF
}
ip_spoke_config $((spokes + 3)) lan1 1 >"$LAB_DIR/lan1.toml"
ip_spoke_config $((spokes + 4)) lan2 2 >"$LAB_DIR/lan2.toml"
ip_spoke_config $((spokes + 5)) thief 1 >"$LAB_DIR/thief.toml"
spoke_config $((spokes + 1)) "" "not-the-key" >"$LAB_DIR/spoke$((spokes + 1)).toml"
spoke_config $((spokes + 2)) "fqdn:stranger.branch.example.net" >"$LAB_DIR/spoke$((spokes + 2)).toml"

n "$HUB" "$MESH_SITE" check-config -c "$LAB_DIR/hub.toml" >&2 || lab_die "check-config rejected hub.toml"
"$MESH_SITE" check-config -c "$LAB_DIR/spoke1.toml" >&2 || lab_die "check-config rejected spoke1.toml"

hub_json() { # hub_json EXPR: EXPR over the hub's status --json as d, t (the template)
    local json
    json=$(ns_exec "$HUB" "$MESH_SITE" status -c "$LAB_DIR/hub.toml" --json 2>/dev/null) || return 1
    "$LAB_PYTHON" -c '
import collections, json, sys
d = json.loads(sys.argv[2]); t = d["templates"][0]
print(eval(sys.argv[1]))' "$1" "$json"
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

lab_bg mesh-site-hub "$HUB" "$MESH_SITE" run -c "$LAB_DIR/hub.toml"
lab_wait 10 "the hub to answer status" hub_json 1
hub_pid=$(ip netns pids "$HUB" | head -n1)
rss_before=$(rss_kb "$hub_pid")

# Every address announcement the kernel makes on the hub (RTM_NEWADDR).
LAB_QUIET=1 lab_bg hub-addresses "$HUB" ip monitor address
lab_info "(1) $spokes spokes start at once"
start=$(date +%s%N)
for ((i = 1; i <= spokes; i++)); do
    ns=$(spoke_ns "$i")
    LAB_QUIET=1 lab_bg "spoke$i" "$ns" "$MESH_SITE" run -c "$LAB_DIR/spoke$i.toml"
done
all_up() { [[ $(hub_json 't["instances-up"]') == "$spokes" ]]; }
lab_wait 120 "$spokes instances up on the hub ($(hub_json 't["instances-up"]' || true) so far)" all_up
up_ms=$((($(date +%s%N) - start) / 1000000))
rss_after=$(rss_kb "$hub_pid")
interfaces=$(ip -n "$HUB" -o link show | grep -c ': br[0-9]\+:' || true)
((interfaces == spokes)) || lab_die "$interfaces interfaces br<N> on the hub, expected $spokes"
distinct=$(hub_json 'len({i["interface"] for i in t["instances"]}), len({i["address"] for i in t["instances"]})')
[[ $distinct == "($spokes, $spokes)" ]] || lab_die "instances' interfaces and addresses not distinct: $distinct"
ike=$(hub_json 'len([p for p in d["peers"] if p["state"] == "established"]), d["counters"]["ike"]["authentication-failed"]')
[[ $ike == "($spokes, 0)" ]] || lab_die "hub IKE SAs established, AUTH failures: $ike, expected ($spokes, 0)"
one=$(ns_exec "$HUB" "$MESH_SITE" status branches -c "$LAB_DIR/hub.toml" --json | "$LAB_PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
print(d["peer"], len(d["peers"]), len(d["templates"][0]["instances"]), len(d["tunnels"]))')
[[ $one == "branches $spokes $spokes $spokes" ]] || lab_die "status branches: $one"
ns_exec "$HUB" "$MESH_SITE" status -c "$LAB_DIR/hub.toml" >"$LAB_DIR/hub-status.txt"
grep -q "^template branches (peer branches, gre br\*): $spokes of $spokes instance(s) up" "$LAB_DIR/hub-status.txt" ||
    lab_die "status does not list the template's instances: $(head -c 2000 "$LAB_DIR/hub-status.txt")"
lab_info "(1) $spokes instances up ${up_ms} ms after the spokes started; hub RSS ${rss_before} -> ${rss_after} kB," \
    "$(((rss_after - rss_before) / spokes)) kB per instance (TUN and its kernel state not counted)"

# The announcements 5 s after the last instance came up: checked after step 3.
announced_again() {
    hub_json 't["instances"]' >"$LAB_DIR/hub-instances.txt"
    "$LAB_PYTHON" -c '
import ast, collections, re, sys
instances = ast.literal_eval(open(sys.argv[1]).read())
seen = collections.Counter(m.group(1) for line in open(sys.argv[2])
                           if (m := re.match(r"\d+: \S+\s+inet (\S+) ", line)))
short = [(i["interface"], seen[i["address"]]) for i in instances if seen[i["address"]] < 4]
print(short[:5])
sys.exit(1 if short else 0)' "$LAB_DIR/hub-instances.txt" "$LAB_DIR/hub-addresses.log" >"$LAB_DIR/hub-announced.txt"
}

lab_info "(2) a wrong key and an identity without a key are refused"
for i in $((spokes + 1)) $((spokes + 2)); do
    LAB_QUIET=1 lab_bg "spoke$i" "$(spoke_ns "$i")" "$MESH_SITE" run -c "$LAB_DIR/spoke$i.toml"
done
refused() {
    grep -q "authentication failed for fqdn:s$((spokes + 1)).branch.example.net" "$LAB_DIR/mesh-site-hub.log" &&
        grep -q "no matching identity found for fqdn:stranger.branch.example.net" "$LAB_DIR/mesh-site-hub.log"
}
lab_wait 20 "the hub to log both refusals" refused
[[ $(hub_json 'len(t["instances"])') == "$spokes" ]] || lab_die "a refused branch got an instance"
lab_kill "spoke$((spokes + 1))"
lab_kill "spoke$((spokes + 2))"

lab_info "(3) pings through 5 instances, on both workers"
[[ $(hub_json 'len(d["workers"])') == 2 ]] || lab_die "the hub's status lists $(hub_json 'len(d["workers"])') workers, expected 2"
per_worker=$(hub_json 'sorted(collections.Counter(x["worker"] for x in d["tunnels"]).values())')
[[ $per_worker == "[$((spokes / 2)), $((spokes - spokes / 2))]" ]] ||
    lab_die "instances' TUNs per worker: $per_worker, expected an even spread of $spokes over 2"
# Four spread over the spokes, the fifth the first on the other worker than
# the first's (which worker takes which TUN depends on the order they came up).
targets=()
for ((k = 1; k <= 4; k++)); do targets+=($((k * spokes / 5))); done
first_worker=$(hub_json "next(x['worker'] for x in d['tunnels'] if x['name'] == 'branches[fqdn:s${targets[0]}.branch.example.net]')")
targets+=("$(hub_json "min(int(x['name'].split('[fqdn:s')[1].split('.')[0]) for x in d['tunnels'] if x['worker'] != $first_worker)")")
pinged=()
for i in "${targets[@]}"; do
    branch=fqdn:s$i.branch.example.net
    read -r ifname hub_address branch_address < <(hub_json \
        "' '.join((lambda i: [i['interface'], i['address'].split('/')[0], i['branch-address']])(next(i for i in t['instances'] if i['branch'] == '$branch')))")
    ip -n "$(spoke_ns "$i")" -4 -o addr show dev gre-hub | grep -q "inet $branch_address/31 " ||
        lab_die "spoke$i's gre-hub does not have $branch_address/31 (mode config): $(ip -n "$(spoke_ns "$i")" -4 -o addr show dev gre-hub)"
    lab_ping_expect "$HUB" "$branch_address" 5
    lab_ping_expect "$(spoke_ns "$i")" "$hub_address" 5
    ip -n "$HUB" route show "$hub_address/31" dev "$ifname" | grep -q . || lab_die "no route to $hub_address/31 via $ifname"
    pinged+=("'$ifname'")
done
pinged_list=$(IFS=,; echo "${pinged[*]}")
workers_used=$(hub_json "sorted({x['worker'] for x in d['tunnels'] if x['interface'] in [$pinged_list]})")
[[ $workers_used == "[0, 1]" ]] || lab_die "the 5 pinged instances ran on workers $workers_used, expected both"
counted=$(hub_json "min(s['packets'] for x in d['tunnels'] if x['interface'] in [$pinged_list] for s in x['sas'] if s['direction'] == 'in')")
((counted >= 5)) || lab_die "an inbound SA of a pinged instance counted $counted packets, expected at least 5"
drops=$(hub_json '[d["counters"][k] for k in ("claim-drops", "misrouted-drops", "unknown-spi-drops")]')
[[ $drops == "[0, 0, 0]" ]] || lab_die "claim, misrouted and unknown-SPI drops on the hub: $drops, expected none"

deadline=$((SECONDS + 15))
until announced_again; do
    ((SECONDS < deadline)) ||
        lab_die "instances whose address the kernel announced fewer than 4 times (interface, times): $(cat "$LAB_DIR/hub-announced.txt")"
    sleep 0.5
done
lab_info "(1) every instance's address announced again after it came up"

lab_info "(4) kill -9 five spokes: DPD removes their instances"
victims=()
for ((k = 1; k <= 5; k++)); do victims+=($((k * spokes / 5 - 1))); done
declare -A victim_if=()
for i in "${victims[@]}"; do
    victim_if[$i]=$(hub_json "next(i['interface'] for i in t['instances'] if i['branch'] == 'fqdn:s$i.branch.example.net')")
done
for i in "${victims[@]}"; do
    pretty "$(spoke_ns "$i")" "kill -KILL mesh-site (spoke$i)"
    kill -KILL "${LAB_PID[spoke$i]}"
    wait "${LAB_PID[spoke$i]}" 2>/dev/null || true
    unset "LAB_PID[spoke$i]"
done
kill_at=$(date +%s%N)
left=$((spokes - ${#victims[@]}))
victims_gone() { [[ $(hub_json 'len(t["instances"]), t["instances-up"]') == "($left, $left)" ]]; }
lab_wait 30 "the victims' instances to go ($(hub_json 'len(t["instances"])' || true) left)" victims_gone
gone_ms=$((($(date +%s%N) - kill_at) / 1000000))
for i in "${victims[@]}"; do
    # The kernel unregisters a TUN once its last queue's fd is closed, after the workers let go of it.
    lab_wait 5 "interface ${victim_if[$i]} of spoke$i to leave the hub" _lab_no_link "$HUB" "${victim_if[$i]}"
    [[ -z $(ip -n "$HUB" route show dev "${victim_if[$i]}" 2>/dev/null) ]] || lab_die "routes via ${victim_if[$i]} left"
    [[ $(hub_json "sum(i['branch'] == 'fqdn:s$i.branch.example.net' for i in t['instances'])") == 0 ]] ||
        lab_die "spoke$i's instance still listed"
done
interfaces=$(ip -n "$HUB" -o link show | grep -c ': br[0-9]\+:' || true)
((interfaces == left)) || lab_die "$interfaces interfaces br<N> left on the hub, expected $left"
ike=$(hub_json 'len([p for p in d["peers"] if p["state"] == "established"])')
((ike == left)) || lab_die "$ike IKE SAs established on the hub, expected $left"
lab_ping_expect "$HUB" "$(hub_json "next(i['branch-address'] for i in t['instances'] if i['branch'] == 'fqdn:s${targets[0]}.branch.example.net')")" 3
lab_info "(4) DPD removed the 5 instances ${gone_ms} ms after the kill; $left stay up; hub RSS now $(rss_kb "$hub_pid") kB"
lab_info "(5) a mode-ip template: instances routed to the branches' traffic selectors"
n "$HUB" ip addr add 10.200.0.1/32 dev lo
for lan in 1 2; do
    ns=$(spoke_ns $((spokes + 2 + lan)))
    n "$ns" ip addr add "10.201.$lan.1/24" dev lo
    LAB_QUIET=1 lab_bg "lan$lan" "$ns" "$MESH_SITE" run -c "$LAB_DIR/lan$lan.toml"
done
ip_json() { hub_json "(lambda t: $1)(next(x for x in d['templates'] if x['name'] == 'ipbranches'))"; }
ip_instances_up() { [[ $(ip_json 't["instances-up"]') == 2 ]]; }
lab_wait 20 "both mode-ip instances up ($(ip_json 't["instances-up"]' || true) so far)" ip_instances_up
for lan in 1 2; do
    read -r ifname routes < <(ip_json \
        "' '.join((lambda i: [i['interface'], ','.join(i['routes'])])(next(i for i in t['instances'] if i['branch'] == 'fqdn:lan$lan.ip.example.net')))")
    [[ $ifname == ipb[0-9]* && $routes == "10.201.$lan.0/24" ]] ||
        lab_die "lan$lan's instance: interface $ifname, routes $routes; expected ipb<N> and 10.201.$lan.0/24"
    ip -n "$HUB" route show "10.201.$lan.0/24" dev "$ifname" | grep -q . ||
        lab_die "no kernel route to 10.201.$lan.0/24 via $ifname on the hub"
    lab_ping_expect "$HUB" "10.201.$lan.1" 5 -I 10.200.0.1
done
LAB_QUIET=1 lab_bg thief "$(spoke_ns $((spokes + 5)))" "$MESH_SITE" run -c "$LAB_DIR/thief.toml"
thief_refused() {
    grep -qF "fqdn:thief.ip.example.net claims 10.201.1.0/24, which tunnel ipbranches[fqdn:lan1.ip.example.net] holds" \
        "$LAB_DIR/mesh-site-hub.log"
}
lab_wait 20 "the hub to refuse the thief's claim on 10.201.1.0/24" thief_refused
[[ $(ip_json 'len(t["instances"])') == 2 ]] || lab_die "the thief got an instance"
thief_told() { grep -q "CHILD SA hub refused: 192.0.2.1:4500 answered TEMPORARY_FAILURE" "$LAB_DIR/thief.log"; }
lab_wait 10 "the thief to log the hub's refusal by name" thief_told
lab_ping_expect "$HUB" "10.201.1.1" 3 -I 10.200.0.1
lab_info "PASS: hub_template ($spokes spokes: all up in ${up_ms} ms; hub RSS ${rss_before} -> ${rss_after} kB)"
