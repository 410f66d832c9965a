#!/usr/bin/env bash
# Mode config (RFC 7296 section 3.15) between mesh-site and strongSwan, both roles:
#
#   lan-a 10.1.0.2 -- site-a [mesh-site, mode ip] ==IKE/ESP-in-UDP== [charon + kernel-libipsec] site-b -- lan-b 10.2.0.2
#                     192.0.2.1  fqdn:site-a.lab                      fqdn:site-b.lab   192.0.2.2
#
#   a  mesh-site is the hub (passive, [mode-config.pool] address-pool 10.99.0.0/24,
#      split-include 10.1.0.0/24, dns 192.0.2.53); strongSwan initiates with
#      vips = 0.0.0.0 (its TSi "dynamic"). strongSwan's `swanctl --list-sas`
#      shows the virtual IP, which is the one mesh-site's status leased;
#      strongSwan's CHILD SA has the virtual IP as its local selector; a ping
#      from that address to lan-a crosses, counted by both. strongSwan
#      terminates and initiates again: the lease ended in between, and the
#      same address comes back.
#   b  strongSwan is the hub (pools = branches, addrs 10.88.0.0/24, subnet
#      10.2.0.0/24, remote_ts dynamic); mesh-site initiates with mode-config =
#      "request". `swanctl --list-pools --leases` shows the lease online for
#      site-a.lab; mesh-site's TUN has that address (/32), its status shows it
#      assigned with the subnet; a ping from it to lan-b crosses.
#
# usage: tests/interop/strongswan_mode_config.sh [MESH_SITE_BINARY]
#   INTEROP_CASES="a b" narrows the list.
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"

lab_init ping
lab_require_strongswan
lab_find_binary "${1:-}"
lab_two_site_topology
secret=$(lab_hex 16)
cases=${INTEROP_CASES:-a b}

# swan_child_packets: "in out" packets of strongSwan's CHILD SA.
swan_child_packets() {
    lab_swan_sas b | "$LAB_PYTHON" -c '
import re, sys
t = sys.stdin.read()
i = re.search(r"^\s*in\s+[0-9a-f]{8},\s+\d+ bytes,\s+(\d+) packets", t, re.M)
o = re.search(r"^\s*out\s+[0-9a-f]{8},\s+\d+ bytes,\s+(\d+) packets", t, re.M)
print(i.group(1) if i else 0, o.group(1) if o else 0)'
}

# ping_from NS SOURCE DEST: 10 pings from SOURCE cross, and strongSwan's CHILD SA carried them.
ping_from() {
    local before after got
    before=$(swan_child_packets)
    got=$(lab_ping "$1" "$3" 10 -I "$2")
    ((got >= 9)) || lab_die "ping $3 from $2: $got of 10 replies"
    after=$(swan_child_packets)
    lab_info "ping $3 from $2: $got/10 replies; strongSwan CHILD SA packets (in out): $before -> $after"
    read -r in0 out0 <<<"$before"
    read -r in1 out1 <<<"$after"
    ((in1 - in0 >= 9 && out1 - out0 >= 9)) ||
        lab_die "strongSwan's CHILD SA did not carry the pings (in $in0 -> $in1, out $out0 -> $out1)"
}

# swan_vip: the virtual IP in strongSwan's IKE SA ("local 'site-b.lab' @ 192.0.2.2[4500] [10.99.0.7]").
swan_vip() {
    lab_swan_sas b | sed -n "s/^ *local  'site-b.lab' @ [^ ]* \[\([0-9.]*\)\].*/\1/p" | head -n1
}

# mesh_leased: the addresses site-a's status shows leased on its IKE SA.
mesh_leased() {
    lab_json a '" ".join(((peer() or {}).get("mode-config") or {}).get("addresses", []))'
}

for c in $cases; do
    case $c in
        a)
            lab_info "(a) mesh-site hub with an address pool, strongSwan initiates with vips = 0.0.0.0"
            lab_write_ike_configs mode=ip secret="$secret" a.passive=true a.address-pool=10.99.0.0/24 a.dns=192.0.2.53
            lab_ike_site_start a
            lab_charon_start b
            LAB_SWAN_CONNECTION="vips = 0.0.0.0" LAB_SWAN_LOCAL_TS=dynamic lab_swanctl_psk_conf b "$secret"
            lab_swanctl b --initiate --child lan --timeout 20 >"$LAB_DIR/swanctl-initiate.out" 2>&1 ||
                lab_die "(a) swanctl --initiate failed: $(tail -n 5 "$LAB_DIR/swanctl-initiate.out")"
            lab_wait_tunnel_up a 10
            sas=$(lab_swan_sas b)
            # shellcheck disable=SC2001 # a prefix on every line
            sed 's/^/    swanctl: /' <<<"$sas" >&2
            vip=$(swan_vip)
            [[ $vip == 10.99.0.* ]] || lab_die "(a) strongSwan's IKE SA shows no virtual IP from 10.99.0.0/24 ('$vip')"
            leased=$(mesh_leased)
            [[ $leased == "$vip/32" ]] || lab_die "(a) mesh-site leased '$leased', strongSwan has the virtual IP $vip"
            grep -Eq "^ *local  $vip/32\$" <<<"$sas" ||
                lab_die "(a) strongSwan's CHILD SA does not have $vip/32 as its local traffic selector"
            [[ $(lab_json a '" ".join(peer()["mode-config"]["split-include"] + peer()["mode-config"]["dns"])') == "10.1.0.0/24 192.0.2.53" ]] ||
                lab_die "(a) mesh-site's status does not show the split-include and DNS it sent"
            lab_log_has strongswan-b "installing new virtual IP $vip" ||
                lab_die "(a) strongSwan did not log installing the virtual IP $vip"
            lab_wait 5 "site-a's route to $vip via ${LAB_IKE_IF[a]}" _lab_route_via "$SITE_A" "$vip" "${LAB_IKE_IF[a]}"
            ping_from "$SITE_B" "$vip" "$HOST_A"

            lab_info "(a) strongSwan terminates and initiates again: the same address"
            lab_swanctl b --terminate --ike lan --timeout 10 >>"$LAB_DIR/swanctl-initiate.out" 2>&1 ||
                lab_die "(a) swanctl --terminate failed"
            no_lease() { [[ $(lab_json a 'len(peers())') == 0 && $(lab_json a 'd["mode-config"][0]["leases"]') == "[]" ]]; }
            lab_wait 10 "mesh-site to drop the IKE SA and end its lease" no_lease
            lab_swanctl b --initiate --child lan --timeout 20 >>"$LAB_DIR/swanctl-initiate.out" 2>&1 ||
                lab_die "(a) the second swanctl --initiate failed: $(tail -n 5 "$LAB_DIR/swanctl-initiate.out")"
            lab_wait_tunnel_up a 10
            again=$(swan_vip)
            [[ $again == "$vip" ]] || lab_die "(a) strongSwan got $again after reconnecting, $vip before"
            ping_from "$SITE_B" "$vip" "$HOST_A"
            ;;
        b)
            lab_info "(b) strongSwan hub with pools, mesh-site initiates with mode-config = \"request\""
            lab_write_ike_configs mode=ip secret="$secret" a.mode-config=request
            lab_charon_start b
            LAB_SWAN_CONNECTION="pools = branches" LAB_SWAN_REMOTE_TS=dynamic LAB_SWAN_TAIL="
pools {
    branches {
        addrs = 10.88.0.0/24
        subnet = 10.2.0.0/24
        dns = 192.0.2.53
    }
}" lab_swanctl_psk_conf b "$secret"
            lab_ike_site_start a
            lab_wait_tunnel_up a 20
            lab_wait 5 "strongSwan to show the SAs ESTABLISHED and INSTALLED" lab_swan_established b
            leases=$(lab_swanctl b --list-pools --leases 2>&1)
            # shellcheck disable=SC2001 # a prefix on every line
            sed 's/^/    swanctl: /' <<<"$leases" >&2
            lease=$(sed -n "s/^ *\(10\.88\.0\.[0-9]*\) *online *'site-a.lab'.*/\1/p" <<<"$leases" | head -n1)
            [[ -n $lease ]] || lab_die "(b) strongSwan shows no online lease from 10.88.0.0/24 for site-a.lab"
            assigned=$(lab_json a '" ".join(peer()["mode-config"]["addresses"])')
            [[ $assigned == "$lease/32" ]] || lab_die "(b) mesh-site shows '$assigned' assigned, strongSwan leased $lease"
            [[ $(lab_json a '" ".join(peer()["mode-config"]["split-include"] + peer()["mode-config"]["dns"])') == "10.2.0.0/24 192.0.2.53" ]] ||
                lab_die "(b) mesh-site's status does not show the subnet and DNS strongSwan sent"
            ip -n "$SITE_A" -4 addr show dev "${LAB_IKE_IF[a]}" | grep -q "inet $lease/32 " ||
                lab_die "(b) ${LAB_IKE_IF[a]} in site-a does not have $lease/32: $(ip -n "$SITE_A" -4 addr show dev "${LAB_IKE_IF[a]}")"
            lab_swan_sas b | grep -Eq "^ *remote $lease/32\$" ||
                lab_die "(b) strongSwan's CHILD SA does not have $lease/32 as its remote traffic selector"
            ping_from "$SITE_A" "$lease" "$HOST_B"
            ;;
        *) lab_die "unknown case '$c' in INTEROP_CASES" ;;
    esac
    lab_ike_site_stop a
    lab_charon_stop b
    lab_wait 5 "${LAB_IKE_IF[a]} in site-a to go away" _lab_no_link "$SITE_A" "${LAB_IKE_IF[a]}"
    lab_info "($c) ok"
done
lab_info "PASS: strongswan_mode_config ($cases)"
