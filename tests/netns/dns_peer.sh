#!/usr/bin/env bash
# A peer named by DNS, served by dnsmasq in the lab:
#
#                       +------------------+
#                       | $DNS_NS          |  dnsmasq: site-b.lab.test
#                       | dns0 198.51.100.53/24
#                       +--------+---------+
#                                | veth
#   lan-a -- site-a [mesh-site]  dns0 198.51.100.1/24    (/etc/netns/site-a/resolv.conf: nameserver 198.51.100.53)
#            wan0 192.0.2.1 ===== IKE, ESP-in-UDP ===== wan0 192.0.2.2, later 192.0.2.102 [mesh-site] site-b -- lan-b
#            peer address = "site-b.lab.test"                peer address = 192.0.2.1, passive, listens on any
#
# site-b is passive, so the tunnel comes up only when site-a finds it by name.
#   1  the name does not resolve (NXDOMAIN): site-a logs the resolver's words
#      and when it tries again, status shows the peer's name "unresolved",
#      the daemon stays up
#   2  dnsmasq answers 192.0.2.2: the tunnel comes up, pings cross both ways
#   3  site-b moves to 192.0.2.102 and the record follows, under the running
#      tunnel: site-a (resolve-interval 2s) sees the new address, closes the
#      IKE SA at the old one and initiates to the new; the tunnel is up again
#      with its IKE SA and ESP at 192.0.2.102, pings cross both ways
#
# usage: tests/netns/dns_peer.sh [MESH_SITE_BINARY]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"

lab_init ping /usr/sbin/dnsmasq
lab_find_binary "${1:-}"
lab_two_site_topology
NAME="site-b.lab.test"
MOVED_B=192.0.2.102
DNS_NS=msl-dns-$$
DNS_IP=198.51.100.53

lab_ns_add "$DNS_NS"
ns_exec "$DNS_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
lab_veth "$SITE_A" dns0 "$DNS_NS" dns0
n "$SITE_A" ip addr add 198.51.100.1/24 dev dns0
n "$DNS_NS" ip addr add $DNS_IP/24 dev dns0
n "$SITE_A" ip link set dns0 up
n "$DNS_NS" ip link set dns0 up

# `ip netns exec` bind-mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf.
[[ -d /etc/netns ]] || lab_defer "rmdir /etc/netns"
mkdir -p "/etc/netns/$SITE_A"
lab_defer "rm -rf '/etc/netns/$SITE_A'"
printf 'nameserver %s\noptions timeout:1 attempts:2\n' $DNS_IP >"/etc/netns/$SITE_A/resolv.conf"
chmod 644 "/etc/netns/$SITE_A/resolv.conf"

# dns_serve [ADDRESS]: (re)starts dnsmasq, answering ADDRESS for $NAME, or
# NXDOMAIN (lab.test is local: no upstream is asked) without one.
dns_serve() {
    lab_kill dnsmasq
    local record=()
    [[ -z ${1:-} ]] || record=(--host-record="$NAME,$1")
    lab_bg dnsmasq "$DNS_NS" /usr/sbin/dnsmasq --no-daemon --no-resolv --no-hosts --conf-file=/dev/null \
        --user=root --pid-file="$LAB_DIR/dnsmasq.pid" --listen-address=$DNS_IP --bind-interfaces \
        --local=/lab.test/ --log-queries "${record[@]}"
    lab_wait 10 "dnsmasq to listen on $DNS_IP:53" _lab_dns_listening
}
_lab_dns_listening() { ip netns exec "$DNS_NS" ss -Hluan "sport = :53" | grep -q "$DNS_IP"; }

# resolves_to ADDRESS: site-a's status shows the name resolved to ADDRESS.
resolves_to() {
    [[ $(lab_json a '[n["address"] for n in d.get("peer-names", []) if n["peer"] == "site-b"]') == "['$1']" ]]
}
# up_at ADDRESS: site-a's tunnel is up with its IKE SA and ESP at ADDRESS.
up_at() {
    lab_tunnel_up a &&
        [[ $(lab_json a '"%s %s" % (",".join(p["remote-address"] for p in peers() if p["state"] == "established"), tunnel()["remote-address"])') == "$1 $1" ]]
}
pings_both_ways() {
    lab_ping_expect "$LAN_A" $HOST_B 10
    lab_ping_expect "$LAN_B" $HOST_A 10
}

lab_write_ike_configs mode=gre a.address=$NAME a.resolve-interval=2s b.passive=true b.listen=any
dns_serve

lab_info "(1) $NAME does not resolve: logged with the resolver's error, retried, daemon up"
lab_ike_site_start b
lab_ike_site_start a
lab_wait_log 15 "peer site-b: cannot resolve $NAME: Name or service not known; retrying in 10 s" mesh-site-a >/dev/null ||
    lab_die "(1) site-a did not log that $NAME does not resolve"
lab_alive mesh-site-a || lab_die "(1) site-a's mesh-site exited on an unresolvable name"
[[ $(lab_json a '[(n["name"], n["address"], n.get("error")) for n in d["peer-names"]]') == "[('$NAME', 'unresolved', 'Name or service not known')]" ]] ||
    lab_die "(1) site-a's status does not show $NAME unresolved: $(lab_json a 'd.get("peer-names")')"
mesh a status | grep -q "site-b $NAME -> unresolved" || lab_die "(1) 'mesh-site status' does not show $NAME unresolved"
lab_tunnel_up a && lab_die "(1) site-a's tunnel is up without an address for its peer"
lab_info "(1) ok: $(grep -m1 'cannot resolve' "$LAB_DIR/mesh-site-a.log")"

lab_info "(2) dnsmasq answers $UNDERLAY_B: the tunnel comes up at the next try"
dns_serve $UNDERLAY_B
lab_wait 25 "site-a to resolve $NAME to $UNDERLAY_B" resolves_to $UNDERLAY_B
lab_wait_tunnel_up a 20
lab_wait_tunnel_up b 10
up_at $UNDERLAY_B || lab_die "(2) site-a's tunnel is not at $UNDERLAY_B: $(lab_json a '[p["remote-address"] for p in peers()], tunnel()["remote-address"]')"
pings_both_ways
lab_info "(2) ok"

lab_info "(3) site-b moves to $MOVED_B and $NAME with it, under the running tunnel"
spi_before=$(lab_json a 'peer()["ike-spi-i"]')
# Deleting a primary address takes the secondaries of its subnet along: the old one goes first.
n "$SITE_B" ip addr del $UNDERLAY_B/24 dev wan0
n "$SITE_B" ip addr add $MOVED_B/24 dev wan0
dns_serve $MOVED_B
lab_wait 15 "site-a to resolve $NAME to $MOVED_B" resolves_to $MOVED_B
lab_log_has mesh-site-a "site-b: $NAME now resolves to $MOVED_B \\(was $UNDERLAY_B\\)" ||
    lab_die "(3) site-a did not log the new address"
lab_wait 20 "site-a's tunnel up again at $MOVED_B" up_at $MOVED_B
lab_wait_tunnel_up b 10
[[ $(lab_json a 'peer()["ike-spi-i"]') != "$spi_before" ]] || lab_die "(3) site-a kept the IKE SA made at the old address"
pings_both_ways
for site in a b; do
    lab_alive mesh-site-$site || lab_die "(3) site-$site's mesh-site exited"
done
lab_info "(3) ok: IKE SA and ESP at $MOVED_B ($(lab_json a 'len(peers())') IKE SA(s) at site-a, $(lab_json b 'len(peers())') at site-b)"
lab_ike_sites_stop
lab_info "PASS: dns_peer"
