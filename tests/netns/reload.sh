#!/usr/bin/env bash
# Reload (`mesh-site reload`, SIGHUP) under traffic: site-a has two IKE peers,
# site-b (100 datagrams/s each way between the LANs through tunnel b for the whole test)
# and site-c, which every reload changes:
#
#   lan-a 10.1.0.2 -- site-a ==tunnel b (192.0.2.0/24)== site-b -- lan-b 10.2.0.2
#                        \\===tunnel c (192.0.3.0/24)== site-c  (lo 10.3.0.1, 10.3.1.1)
#
#   1  a file with a mistake: refused with its FILE:LINE:COL, exit 1, logged
#   2  a [site] change: refused, "restart"
#   3  peer and tunnel c added: c comes up
#   4  c's pre-shared key changed at both ends: c re-established (new SPIs)
#   5  c's routes changed: only the routes (same SPIs); then its mtu: its TUN
#      made again (same name), c re-established
#   6  c disabled: Delete sent (site-c's tunnel goes down), no TUN, no IKE,
#      status says disabled, no new IKE SA for 5 s; enabled again: up
#   7  c removed: Delete, TUN, route and leak-guard blackhole gone
#   8  SIGHUP: a broken file refused (the daemon runs on), then c added back
#   9  c replaced by a template peer site-c joins as a branch; a reload that
#      changes only tunnel b's routes keeps the instance's SAs
# Throughout: tunnel b keeps its IKE SA and CHILD SAs (same SPIs at the end)
# and the probe loses not one packet.
#
# usage: tests/netns/reload.sh [MESH_SITE_BINARY]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"

lab_init ping
lab_find_binary "${1:-}"
lab_two_site_topology
SITE_C=msl-site-c-$$
LAB_SITE_NS[a]=$SITE_A LAB_SITE_NS[b]=$SITE_B LAB_SITE_NS[c]=$SITE_C
lab_ns_add "$SITE_C"
ns_exec "$SITE_C" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
lab_veth "$SITE_A" wan1 "$SITE_C" wan0
n "$SITE_A" ip addr add 192.0.3.1/24 dev wan1
n "$SITE_C" ip addr add 192.0.3.2/24 dev wan0
n "$SITE_A" ip link set wan1 up
n "$SITE_C" ip link set wan0 up
n "$SITE_C" ip addr add 10.3.0.1/32 dev lo
n "$SITE_C" ip addr add 10.3.1.1/32 dev lo

# lib.sh's mesh, through the control socket: the file may be broken on purpose.
mesh() {
    local site=$1 cmd=$2; shift 2
    ns_exec "$(lab_site_ns "$site")" "$MESH_SITE" "$cmd" -s "$LAB_DIR/site-$site.sock" "$@"
}

SECRET_B=$(lab_hex 16) SECRET_C=$(lab_hex 16)

# peer NAME ADDRESS SECRET [EXTRA]; tunnel NAME PEER ADDRESS ROUTES [EXTRA]
peer() { printf '\n[peer.%s]\naddress = "%s"\nsecret = "%s"\nmy-id = "fqdn:%s.lab"\nremote-id = "fqdn:site-%s.lab"\n%s' \
    "$1" "$2" "$3" "$4" "$1" "${5:-}"; }
tunnel() { printf '\n[tunnel.%s]\npeer = "%s"\ninterface = "gre-%s"\naddress = "%s"\nroutes = [%s]\n%s' \
    "$1" "$2" "$1" "$3" "$4" "${5:-}"; }
site() { printf '[site]\nname = "site-%s"\ncontrol-socket = "%s"\n%s' "$1" "$LAB_DIR/site-$1.sock" "${2:-}"; }

# write_a [with-c|no-c|template] [ROUTES_C] [TUNNEL_C_EXTRA] [SITE_EXTRA] [ROUTES_B]: site-a's file
write_a() {
    {
        site a "${4:-}"
        peer b 192.0.2.2 "$SECRET_B" site-a
        tunnel b b 172.16.1.1/30 "${5:-\"10.2.0.0/24\"}"
        if [[ ${1:-with-c} == with-c ]]; then
            peer c 192.0.3.2 "$SECRET_C" site-a
            tunnel c c 172.16.2.1/30 "${2:-\"10.3.0.0/24\"}" "${3:-}"
        elif [[ $1 == template ]]; then
            # site-c again, as a branch of a template peer (docs/configuration.md, "Template peers")
            printf '\n[peer.branches]\naddress = "192.0.3.0/24"\npassive = true\nsecret = "%s"\n' "$SECRET_C"
            printf 'my-id = "fqdn:site-a.lab"\nremote-id = "fqdn:*.lab"\n'
            printf '\n[tunnel.branches]\npeer = "branches"\ninterface = "br"\naddress-pool = "172.16.64.0/24"\n'
        fi
    } >"$LAB_DIR/site-a.toml.new"
    mv "$LAB_DIR/site-a.toml.new" "$LAB_DIR/site-a.toml"
}
write_others() {
    { site b; peer a 192.0.2.1 "$SECRET_B" site-b; tunnel a a 172.16.1.2/30 '"10.1.0.0/24"'; } >"$LAB_DIR/site-b.toml"
    { site c; peer a 192.0.3.1 "$SECRET_C" site-c; tunnel a a 172.16.2.2/30 '"10.1.0.0/24"'; } >"$LAB_DIR/site-c.toml"
}

# reload_a: `mesh-site reload` at site-a through its socket; prints what it said, returns its status.
reload_a() { ns_exec "$SITE_A" "$MESH_SITE" reload -s "$LAB_DIR/site-a.sock" 2>&1; }
reload_ok() {
    local out
    out=$(reload_a) || lab_die "reload refused: $out"
    lab_info "reload: $out"
}

# json SITE EXPR: lab_json's, with t(NAME) the tunnel named so, p(NAME) the established IKE SA with the peer
json() {
    lab_json "$1" "(lambda t, p: $2)(lambda name: next((x for x in d['tunnels'] if x['name'] == name), None), \
lambda name: next((x for x in peers() if x['name'] == name and x['state'] == 'established'), None))"
}
# spis SITE TUNNEL: "IKE-SPI-I IKE-SPI-R CHILD-SPIS..." of the tunnel and its peer's IKE SA
spis() { json "$1" "' '.join([p('$2')['ike-spi-i'], p('$2')['ike-spi-r']] + sorted(s['spi'] for s in t('$2')['sas']))"; }
c_up() { [[ $(json a "t('c') is not None and t('c')['state'] == 'up' and p('c') is not None") == True ]] &&
    [[ $(json c "t('a')['state'] == 'up'") == True ]]; }
wait_c_up() { lab_wait 30 "tunnel c up at site-a and site-c" c_up; }
c_gone() { [[ $(json a "t('c') is None and not [x for x in peers() if x['name'] == 'c']") == True ]] &&
    ! ip -n "$SITE_A" link show gre-c >/dev/null 2>&1; }
one_b() { [[ $(json a "len([x for x in peers() if x['name'] == 'b'])") == 1 ]]; }
# b_settled: one IKE SA between a and b at both ends, the same one, established.
# Sites started together may both initiate, and site-b's retransmitted
# IKE_SA_INIT can make a second IKE SA half a second after the first is up
# (one is then deleted, RFC 7296 section 2.8.1): while site-b still holds
# its own half-open one, tunnel b's SPIs are not final.
b_settled() {
    local at_a
    one_b && [[ $(json b "len([x for x in peers() if x['name'] == 'a'])") == 1 ]] || return 1
    at_a=$(json a "(p('b') or {}).get('ike-spi-i')")
    [[ $at_a != None && $at_a == "$(json b "(p('a') or {}).get('ike-spi-i')")" ]]
}
# c_renewed: c up on an IKE SA other than c_first's
c_renewed() { c_up && [[ $(spis a c | cut -d' ' -f1) != "${c_first%% *}" ]]; }
c_down_at_c() { [[ $(json c "t('a')['state']") == down ]]; }

write_a no-c
write_others
lab_ike_site_start b
lab_ike_site_start c
lab_ike_site_start a
lab_wait 30 "tunnel b up" lab_tunnel_up a
lab_wait 20 "one IKE SA between a and b, at both ends" b_settled
lab_ping_expect "$LAN_A" $HOST_B 5
b_before=$(spis a b)
lab_info "tunnel b: $b_before"

# The probe: 100 datagrams/s each way between lan-a and lan-b through tunnel
# b until stopped (netns-lab/probe.py: `ping -i 0.01` manages ~63/s here).
probe_py=$(dirname "$(readlink -f "$0")")/../../netns-lab/probe.py
lab_bg probe-a "$LAN_A" "$LAB_PYTHON" "$probe_py" run --peer $HOST_B --rate 100 --log "$LAB_DIR/probe-a.rx"
lab_bg probe-b "$LAN_B" "$LAB_PYTHON" "$probe_py" run --peer $HOST_A --rate 100 --log "$LAB_DIR/probe-b.rx"
probe_flowing() { test -s "$LAB_DIR/probe-a.rx" && test -s "$LAB_DIR/probe-b.rx"; }
lab_wait 5 "the probe's first datagram each way" probe_flowing

lab_info "1: a file with a mistake"
printf '[site]\nname = "site-a"\nbogus-key = 1\n' >"$LAB_DIR/site-a.toml"
if out=$(reload_a); then lab_die "a broken file was accepted: $out"; fi
[[ $out == *"$LAB_DIR/site-a.toml:3:1:"* ]] || lab_die "the refusal does not name FILE:LINE:COL: $out"
lab_log_has mesh-site-a "reload: .*site-a.toml refused.*site-a.toml:3:1:" || lab_die "the refusal is not logged"
lab_info "refused: $out"
[[ $(spis a b) == "$b_before" ]] || lab_die "tunnel b changed after a refused reload"

lab_info "2: a [site] change needs a restart"
write_a no-c "" "" "workers = 1"
if out=$(reload_a); then lab_die "a [site] change was accepted: $out"; fi
[[ $out == *"restart"*"workers"* ]] || lab_die "the refusal does not say restart and the key: $out"
lab_info "refused: $out"

lab_info "3: peer and tunnel c added"
write_a with-c
reload_ok
wait_c_up
lab_ping_expect "$SITE_A" 10.3.0.1 5
c_first=$(spis a c)
lab_info "tunnel c: $c_first"

lab_info "4: c's pre-shared key changed at both ends"
SECRET_C=$(lab_hex 16)
write_others
ns_exec "$SITE_C" "$MESH_SITE" reload -s "$LAB_DIR/site-c.sock" >/dev/null
write_a with-c
reload_ok
lab_wait 30 "c re-established on a new IKE SA" c_renewed
lab_ping_expect "$SITE_A" 10.3.0.1 5
c_second=$(spis a c)
lab_info "tunnel c: $c_second"

lab_info "5: c's routes changed"
write_a with-c '"10.3.1.0/24"'
reload_ok
lab_wait 10 "10.3.1.0/24 via gre-c" _lab_route_via "$SITE_A" 10.3.1.0/24 gre-c
! _lab_route_via "$SITE_A" 10.3.0.0/24 gre-c || lab_die "10.3.0.0/24 still routed via gre-c"
lab_ping_expect "$SITE_A" 10.3.1.1 5
[[ $(spis a c) == "$c_second" ]] || lab_die "a route change re-established c: $(spis a c), was $c_second"

lab_info "5b: c's mtu changed: its TUN made again under the same name, c re-established"
c_first=$c_second
write_a with-c '"10.3.1.0/24"' "mtu = 1300"
reload_ok
lab_wait 30 "c re-established on a new IKE SA" c_renewed
ip -n "$SITE_A" link show gre-c | grep -q "mtu 1300" || lab_die "gre-c does not have the new mtu"
lab_ping_expect "$SITE_A" 10.3.1.1 5

lab_info "6: c disabled, then enabled"
write_a with-c '"10.3.1.0/24"' "disabled = true"
reload_ok
lab_wait 10 "c gone at site-a" c_gone
lab_wait 10 "site-c's tunnel down (our Delete)" c_down_at_c
[[ $(json a "[x['name'] for x in d['disabled']]") == "['c']" ]] || lab_die "status does not list c as disabled"
ns_exec "$SITE_A" "$MESH_SITE" status -s "$LAB_DIR/site-a.sock" | grep -Eq 'c +- +- +disabled' ||
    lab_die "mesh-site status does not show c disabled"
sleep 5
c_gone || lab_die "a disabled c came back"
write_a with-c '"10.3.1.0/24"'
reload_ok
wait_c_up

lab_info "7: c removed"
write_a no-c
reload_ok
lab_wait 10 "c gone at site-a" c_gone
lab_wait 10 "site-c's tunnel down (our Delete)" c_down_at_c
if ip -n "$SITE_A" route show table all | grep -q '10\.3\.'; then
    lab_die "a route or blackhole for c's networks stayed: $(ip -n "$SITE_A" route show table all | grep '10\.3\.')"
fi

lab_info "8: SIGHUP"
printf '[site]\nname = "site-a"\n[peer.b]\naddress = 192.0.2.2\n' >"$LAB_DIR/site-a.toml"
kill -HUP "${LAB_PID[mesh-site-a]}"
lab_wait 10 "SIGHUP's refusal logged" lab_log_has mesh-site-a "SIGHUP: .*site-a.toml refused.*site-a.toml:4:"
lab_alive mesh-site-a || lab_die "SIGHUP killed the daemon"
write_a with-c
kill -HUP "${LAB_PID[mesh-site-a]}"
wait_c_up
lab_ping_expect "$SITE_A" 10.3.0.1 5

lab_info "9: a template peer keeps its instances through a reload that changes another tunnel"
write_a template
reload_ok
instance="branches[fqdn:site-c.lab]"
inst_up() { [[ $(json a "t('$instance') is not None and t('$instance')['state'] == 'up' and p('branches') is not None") == True ]]; }
inst_spis() { json a "' '.join([p('branches')['ike-spi-i'], p('branches')['ike-spi-r']] + sorted(s['spi'] for s in t('$instance')['sas']))"; }
lab_wait 60 "site-c's instance of the template up" inst_up
inst_before=$(inst_spis)
lab_info "instance $instance: $inst_before"
write_a template "" "" "" '"10.2.0.0/24", "10.2.1.0/24"'
reload_ok
lab_wait 10 "10.2.1.0/24 via gre-b" _lab_route_via "$SITE_A" 10.2.1.0/24 gre-b
inst_up || lab_die "the template's instance went down"
[[ $(inst_spis) == "$inst_before" ]] || lab_die "the template's instance changed: $(inst_spis), was $inst_before"

lab_info "tunnel b and the probe"
[[ $(spis a b) == "$b_before" ]] || lab_die "tunnel b's SAs changed: $(spis a b), was $b_before"
lab_kill probe-a
lab_kill probe-b
# Every datagram received but those in flight when the probe stopped: no
# sequence number missing between the first and the last, each way, and the
# rate what was asked.
result=$("$LAB_PYTHON" - "$LAB_DIR/probe-a.rx" "$LAB_DIR/probe-b.rx" <<'PY'
import sys
out = []
for path in sys.argv[1:]:
    rows = [line.split() for line in open(path) if line.strip()]
    seqs = sorted({int(r[0]) for r in rows})
    missing = sorted(set(range(seqs[0], seqs[-1] + 1)) - set(seqs))
    seconds = float(rows[-1][2]) - float(rows[0][2])
    out.append(f"{len(seqs)} {len(missing)} {len(seqs) / max(seconds, 0.001):.0f}")
print(" ".join(out))
PY
)
read -r a_got a_lost a_rate b_got b_lost b_rate <<<"$result"
lab_info "probe: lan-a received $a_got ($a_lost lost, $a_rate/s), lan-b received $b_got ($b_lost lost, $b_rate/s)"
((a_got >= 500 && b_got >= 500)) || lab_die "the probe got only $a_got / $b_got datagrams"
((a_rate >= 90 && b_rate >= 90)) || lab_die "the probe ran at $a_rate / $b_rate datagrams/s, not 100"
((a_lost == 0 && b_lost == 0)) || lab_die "the probe lost datagrams during the reloads: $a_lost to lan-a, $b_lost to lan-b"
replies=$((a_got + b_got))
lab_info "PASS: reload (tunnel b $b_before throughout, $replies probe datagrams at 100/s each way, none lost)"
