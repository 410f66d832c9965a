#!/usr/bin/env bash
# Two sites over mesh-site with static SAs, once per ESP algorithm:
#
#   lan-a 10.1.0.2 -- site-a ==[gre-b | ESP-in-UDP 4500 | gre-a]== site-b -- lan-b 10.2.0.2
#
# For each algorithm: LAN-to-LAN pings (no loss after the first), 3 s of
# iperf3 TCP, then from a quiet state exactly N pings, and `status --json` must
# agree: site-a's out SA and site-b's in SA (and back) each grew by N packets
# and by the same bytes, no drops, the configured algorithm and SPIs. The
# pings are 256-byte IP packets, the longest small ones: each site's workers
# read every one of them from their priority sockets (tunnel/spi_steering.hpp),
# while iperf3's data and 1028-byte pings arrive on the bulk sockets.
#
# usage: tests/netns/two_site_traffic.sh [MESH_SITE_BINARY]
#   ALGORITHMS="aes-128-gcm ..." narrows the list.
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"

lab_init iperf3 ping
lab_find_binary "${1:-}"
lab_two_site_topology
lab_iperf_server "$LAN_B"

algorithms=${ALGORITHMS:-aes-128-gcm aes-256-gcm chacha20-poly1305 aes-128-cbc aes-256-cbc}
count=25 size=228

# expect_eq WHAT GOT WANT
expect_eq() { [[ $2 == "$3" ]] || lab_die "$LAB_ALG: $1 is $2, expected $3"; }
# expect_between WHAT GOT LOW HIGH
expect_between() { (($3 <= $2 && $2 <= $4)) || lab_die "$LAB_ALG: $1 is $2, expected $3..$4"; }

# counts a|b: "out-packets out-bytes in-packets in-bytes" of the site's SAs
counts() { lab_json "$1" '"%d %d %d %d" % (sa("out","packets"), sa("out","bytes"), sa("in","packets"), sa("in","bytes"))'; }
# priority a|b: "priority-datagrams in-packets" of the site
priority() { lab_json "$1" '"%d %d" % (sum(w["priority-datagrams"] for w in d["workers"]), sa("in","packets"))'; }

for alg in $algorithms; do
    lab_info "$alg: starting both sites"
    lab_sites_start "$alg"

    lab_ping_expect "$LAN_A" $HOST_B 20
    lab_ping_expect "$LAN_B" $HOST_A 20
    gbps=$(lab_iperf "$LAN_A" $HOST_B 3)
    lab_info "$alg: iperf3 $gbps Gbit/s"
    awk -v g="$gbps" 'BEGIN { exit !(g > 0.001) }' || lab_die "$alg: iperf3 moved nothing ($gbps Gbit/s)"
    read -r b_prio b_in <<<"$(priority b)"
    lab_info "$alg: site-b read $b_prio of $b_in datagrams from its priority sockets"
    ((b_prio * 10 < b_in)) || lab_die "$alg: iperf3's data did not arrive on site-b's bulk sockets"

    expect_eq "site-a out SA enc-algorithm" "$(lab_json a '[s["enc-algorithm"] for s in sas("out")]')" "['$alg']"
    expect_eq "site-b in SA enc-algorithm" "$(lab_json b '[s["enc-algorithm"] for s in sas("in")]')" "['$alg']"
    expect_eq "site-a SPIs (out, in)" "$(lab_json a '[s["spi"] for s in sas("out")] + [s["spi"] for s in sas("in")]')" \
        "['0x00002001', '0x00001001']"
    expect_eq "site-b SPIs (out, in)" "$(lab_json b '[s["spi"] for s in sas("out")] + [s["spi"] for s in sas("in")]')" \
        "['0x00001001', '0x00002001']"

    lab_counters_settle a
    lab_counters_settle b
    v=$(counts a); read -r a_out a_out_b a_in a_in_b <<<"$v"
    v=$(counts b); read -r b_out b_out_b b_in b_in_b <<<"$v"
    read -r a_prio _ <<<"$(priority a)"
    read -r b_prio _ <<<"$(priority b)"

    got=$(lab_ping "$LAN_A" $HOST_B $count -s $size)
    expect_eq "replies to $count pings" "$got" "$count"
    lab_counters_settle a
    lab_counters_settle b
    v=$(counts a); read -r a_out2 a_out_b2 a_in2 a_in_b2 <<<"$v"
    v=$(counts b); read -r b_out2 b_out_b2 b_in2 b_in_b2 <<<"$v"

    lab_info "$alg: after $count pings: a out +$((a_out2 - a_out)) (+$((a_out_b2 - a_out_b)) B)," \
        "b in +$((b_in2 - b_in)) (+$((b_in_b2 - b_in_b)) B), b out +$((b_out2 - b_out)), a in +$((a_in2 - a_in))"
    # Nothing else crosses the tunnel (no IPv6, no routing protocol): allow
    # only a couple of stray packets, and the two ends must agree exactly.
    expect_between "site-a out SA packets delta" $((a_out2 - a_out)) $count $((count + 2))
    expect_between "site-b out SA packets delta" $((b_out2 - b_out)) $count $((count + 2))
    expect_eq "site-b in SA packets delta (vs site-a out)" $((b_in2 - b_in)) $((a_out2 - a_out))
    expect_eq "site-a in SA packets delta (vs site-b out)" $((a_in2 - a_in)) $((b_out2 - b_out))
    expect_eq "site-b in SA bytes delta (vs site-a out)" $((b_in_b2 - b_in_b)) $((a_out_b2 - a_out_b))
    expect_eq "site-a in SA bytes delta (vs site-b out)" $((a_in_b2 - a_in_b)) $((b_out_b2 - b_out_b))
    # An echo request of $size bytes of data is a $((size + 28))-byte IP packet; whatever
    # the counter measures (inner packet, GRE, ESP), it is at least that.
    (((a_out_b2 - a_out_b) >= count * (size + 28))) ||
        lab_die "$alg: site-a out SA bytes grew by $((a_out_b2 - a_out_b)), less than $count packets of $((size + 28))"
    read -r a_prio2 _ <<<"$(priority a)"
    read -r b_prio2 _ <<<"$(priority b)"
    lab_info "$alg: priority datagrams a +$((a_prio2 - a_prio)), b +$((b_prio2 - b_prio))"
    # All of them: a priority datagram is sent as a message of its own, never
    # inside a GSO train that veth would deliver whole (tunnel/udp_gso_batch.hpp).
    expect_eq "site-b priority datagrams delta (vs its in SA)" $((b_prio2 - b_prio)) $((b_in2 - b_in))
    expect_eq "site-a priority datagrams delta (vs its in SA)" $((a_prio2 - a_prio)) $((a_in2 - a_in))
    got=$(lab_ping "$LAN_A" $HOST_B 5 -s 1000)
    expect_eq "replies to 5 pings of 1028 bytes" "$got" 5
    lab_counters_settle b
    read -r b_prio3 b_in3 <<<"$(priority b)"
    expect_between "site-b in SA packets delta after 1028-byte pings" $((b_in3 - b_in2)) 5 7
    expect_between "site-b priority datagrams delta after 1028-byte pings" $((b_prio3 - b_prio2)) 0 $((b_in3 - b_in2 - 5))

    expect_eq "site-a drops" "$(lab_json a 'drops("in") + drops("out")')" 0
    expect_eq "site-b drops" "$(lab_json b 'drops("in") + drops("out")')" 0
    { lab_alive mesh-site-a && lab_alive mesh-site-b; } || lab_die "$alg: a daemon exited"
    lab_info "$alg: ok"
    lab_sites_stop
done
lab_info "PASS: two_site_traffic ($algorithms)"
