#!/usr/bin/env bash
# Mode config (RFC 7296 section 3.15) between two mesh-sites: site-a is the
# hub (passive, [mode-config.pool] address-pool 10.99.0.0/24, split-include
# its LAN 10.1.0.0/24), site-b the branch (mode-config = "request"):
#
#   lan-a 10.1.0.2 -- site-a [hub] ==IKE, ESP-in-UDP== [branch] site-b 10.99.0.x (assigned)
#                     192.0.2.1                                 192.0.2.2
#
#   a  mode gre: the branch's gre-a gets the leased address as its tunnel
#      address, the branch routes the split-include 10.1.0.0/24 over it (its
#      own routes are empty), the hub routes the address over gre-b; both
#      status documents name the same address; a ping from it to lan-a
#      crosses. The branch stops: the hub's lease ends; it starts again: the
#      same address. `status` names the address at both ends.
#   b  mode ip: the address on tun-a as a /32 is the CHILD SA's TSi; a ping
#      from it to lan-a crosses; the branch rekeys its CHILD SA, then its IKE
#      SA: the address and the lease stay, pings still cross.
#
# usage: tests/netns/mode_config.sh [MESH_SITE_BINARY]
#   MODE_CONFIG_CASES="a" runs only those cases.
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"

lab_init ping
lab_find_binary "${1:-}"
lab_two_site_topology
cases=${MODE_CONFIG_CASES:-a b}

# assigned: the address site-b's status shows assigned (ADDRESS/32), or "".
assigned() {
    lab_json b '" ".join(((peer() or {}).get("mode-config") or {}).get("addresses", []))'
}
# leases: site-a's leases, "identity=address ...".
leases() {
    lab_json a '" ".join(l["identity"] + "=" + l["address"] for l in d["mode-config"][0]["leases"])'
}

# up_and_crossing: both tunnels up, the branch's address agreed by both and
# on its interface, the routes both ways, 10 pings from it to lan-a; sets ADDRESS.
up_and_crossing() {
    lab_wait_tunnel_up b 20
    lab_wait_tunnel_up a 10
    local got
    got=$(assigned)
    [[ $got == 10.99.0.*/32 ]] || lab_die "site-b shows '$got' assigned, not an address of 10.99.0.0/24"
    ADDRESS=${got%/32}
    [[ $(leases) == "fqdn:site-b.lab=$got" ]] || lab_die "site-a's leases are '$(leases)', not site-b's $got"
    mesh b status | grep -q "assigned $got" || lab_die "site-b's status does not name the address $got assigned"
    mesh a status | grep -q "leased $got" || lab_die "site-a's status does not name the address $got leased"
    ip -n "$SITE_B" -4 addr show dev "${LAB_IKE_IF[b]}" | grep -q "inet $got " ||
        lab_die "${LAB_IKE_IF[b]} in site-b does not have $got: $(ip -n "$SITE_B" -4 addr show dev "${LAB_IKE_IF[b]}")"
    lab_wait 5 "site-b's route to the split-include 10.1.0.0/24 via ${LAB_IKE_IF[b]}" \
        _lab_route_via "$SITE_B" 10.1.0.0/24 "${LAB_IKE_IF[b]}"
    lab_wait 5 "site-a's route to $ADDRESS via ${LAB_IKE_IF[a]}" _lab_route_via "$SITE_A" "$ADDRESS" "${LAB_IKE_IF[a]}"
    got=$(lab_ping "$SITE_B" "$HOST_A" 10 -I "$ADDRESS")
    ((got >= 9)) || lab_die "ping $HOST_A from $ADDRESS: $got of 10 replies"
    lab_info "ping $HOST_A from $ADDRESS (assigned by site-a): $got/10 replies"
}

for c in $cases; do
    case $c in
        a)
            lab_info "(a) mode gre: the assigned address is the tunnel address"
            lab_write_ike_configs mode=gre a.passive=true a.address-pool=10.99.0.0/24 b.mode-config=request b.routes=
            lab_ike_site_start a
            lab_ike_site_start b
            up_and_crossing
            first=$ADDRESS
            lab_info "(a) the branch stops and starts again: the same address"
            lab_ike_site_stop b
            no_lease() { [[ $(lab_json a 'len(peers())') == 0 && -z $(leases) ]]; }
            lab_wait 10 "site-a to end site-b's lease" no_lease
            lab_log_has mesh-site-a "mode-config pool: the lease of fqdn:site-b.lab \(peer site-b\) ended" ||
                lab_die "(a) site-a did not log the end of the lease"
            lab_ike_site_start b
            up_and_crossing
            [[ $ADDRESS == "$first" ]] || lab_die "(a) site-b got $ADDRESS after its restart, $first before"
            ;;
        b)
            lab_info "(b) mode ip: the assigned address is the CHILD SA's TSi"
            lab_write_ike_configs mode=ip a.passive=true a.address-pool=10.99.0.0/24 b.mode-config=request
            lab_ike_site_start a
            lab_ike_site_start b
            up_and_crossing
            first=$ADDRESS
            lab_info "(b) the branch rekeys its CHILD SA, then its IKE SA: the address stays"
            mesh b rekey --child site-a >/dev/null
            rekeyed() { [[ $(lab_json b 'd["counters"]["ike"]["child-rekeys"]') -ge 1 ]]; }
            lab_wait 10 "site-b's CHILD SA rekey" rekeyed
            mesh b rekey site-a >/dev/null
            ike_rekeyed() { [[ $(lab_json b 'd["counters"]["ike"]["ike-rekeys"]') -ge 1 && $(lab_json b 'len(peers())') == 1 ]]; }
            lab_wait 10 "site-b's IKE SA rekey" ike_rekeyed
            up_and_crossing
            [[ $ADDRESS == "$first" ]] || lab_die "(b) site-b shows $ADDRESS after the rekeys, $first before"
            [[ $(lab_json a 'd["counters"]["ike"]["ts-unacceptable"]') == 0 ]] ||
                lab_die "(b) site-a refused a rekey's traffic selectors"
            ;;
        *) lab_die "unknown case '$c' in MODE_CONFIG_CASES" ;;
    esac
    lab_ike_site_stop b
    lab_ike_site_stop a
    lab_info "($c) ok"
done
lab_info "PASS: mode_config ($cases)"
