#!/usr/bin/env bash
# `mesh-site keys --wireshark esp` must let Wireshark 4.0 read the tunnel:
#
#   lan-a -- site-a --wan0--[tcpdump udp 4500]-- site-b -- lan-b      (pings both ways)
#   tshark + esp_sa (from `keys`): UDP 4500 -> ESP -> GRE -> IPv4 -> ICMP echo
#
# and, decrypted, each packet's outer DSCP must be its inner packet's (RFC
# 4301 section 5.1.2.1): pings marked CS6 (network control) and EF both ways.
#
# For AES-128-GCM and AES-128-CBC + HMAC-SHA-256-128 (Wireshark 4.0 has no
# ChaCha20-Poly1305 for ESP). tshark reads the esp_sa table from
# $HOME/.config/wireshark, with HOME a scratch directory of this run.
#
# usage: tests/netns/tshark_decrypt.sh [MESH_SITE_BINARY]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"

lab_init ping tcpdump tshark
lab_find_binary "${1:-}"
lab_two_site_topology
# A late worker sends several ESP packets as one UDP GSO batch, and
# tcpdump on a veth records such a batch as one packet, so tshark would see
# only its first ESP packet; one segment per packet makes the stack split it.
for site in "$SITE_A" "$SITE_B"; do
    n "$site" ip link set dev wan0 gso_max_segs 1
done

# tshark_count PCAP FILTER: packets of PCAP matching the display FILTER.
tshark_count() {
    HOME=$LAB_DIR/home tshark -n -r "$1" -o esp.enable_encryption_decode:TRUE -Y "$2" 2>/dev/null | wc -l
}

for alg in aes-128-gcm aes-128-cbc; do
    lab_info "$alg"
    lab_sites_start "$alg"
    lab_capture_start "esp-$alg" "$SITE_A" wan0 udp port 4500
    lab_ping_expect "$LAN_A" $HOST_B 5
    lab_ping_expect "$LAN_B" $HOST_A 5
    lab_ping_expect "$LAN_A" $HOST_B 3 -Q 0xc0   # CS6, as FRR marks BFD, OSPF and BGP
    lab_ping_expect "$LAN_B" $HOST_A 3 -Q 0xb8   # EF
    lab_capture_stop "esp-$alg"
    pcap=$LAB_DIR/esp-$alg.pcap

    mkdir -p "$LAB_DIR/home/.config/wireshark"
    n "$SITE_A" "$MESH_SITE" keys --wireshark esp -c "$LAB_DIR/site-a.toml" >"$LAB_DIR/home/.config/wireshark/esp_sa" ||
        lab_die "$alg: mesh-site keys --wireshark esp failed"
    sed 's/^/    esp_sa: /' "$LAB_DIR/home/.config/wireshark/esp_sa" >&2
    records=$(grep -c '^"' "$LAB_DIR/home/.config/wireshark/esp_sa") || true
    ((records >= 2)) || lab_die "$alg: keys printed $records esp_sa records, expected one per direction"

    esp=$(tshark_count "$pcap" esp)
    requests=$(tshark_count "$pcap" 'gre && icmp.type == 8 && ip.src == 10.1.0.2 && ip.dst == 10.2.0.2')
    replies=$(tshark_count "$pcap" 'gre && icmp.type == 0 && ip.src == 10.2.0.2 && ip.dst == 10.1.0.2')
    requests_ba=$(tshark_count "$pcap" 'gre && icmp.type == 8 && ip.src == 10.2.0.2')
    lab_info "$alg: $esp ESP packets; decrypted to GRE + ICMP: $requests requests a->b, $replies replies b->a, $requests_ba requests b->a"
    if ((requests < 5 || replies < 5 || requests_ba < 5)); then
        HOME=$LAB_DIR/home tshark -n -r "$pcap" -o esp.enable_encryption_decode:TRUE -V -c 1 2>/dev/null |
            sed -n '/Encapsulating Security Payload/,$p' | head -n 30 >&2
        lab_die "$alg: tshark could not decrypt the tunnel with the keys mesh-site exported"
    fi

    # "outer,inner" DSCP of every decrypted ICMP packet.
    dscp=$(HOME=$LAB_DIR/home tshark -n -r "$pcap" -o esp.enable_encryption_decode:TRUE -Y 'gre && icmp' \
        -T fields -e ip.dsfield.dscp 2>/dev/null)
    cs6=$(grep -c '^48,48$' <<<"$dscp") || true
    ef=$(grep -c '^46,46$' <<<"$dscp") || true
    unmarked=$(grep -c '^0,0$' <<<"$dscp") || true
    differ=$(awk -F, '$1 != $2' <<<"$dscp" | sort | uniq -c | tr '\n' ';')
    lab_info "$alg: outer DSCP = inner DSCP for $cs6 CS6, $ef EF and $unmarked unmarked ICMP packets${differ:+; differing: $differ}"
    [[ -z $differ ]] || lab_die "$alg: an outer DSCP differs from its inner packet's (outer,inner: $differ)"
    # Requests and their replies (which keep the request's DSCP), both ways.
    ((cs6 >= 4 && ef >= 4 && unmarked >= 16)) || lab_die "$alg: too few marked packets decrypted: $cs6 CS6, $ef EF, $unmarked unmarked"
    lab_sites_stop
done
lab_info "PASS: tshark_decrypt"
