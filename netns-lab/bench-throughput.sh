#!/usr/bin/env bash
# The speed benchmark: iperf3 TCP from lan-a to lan-b, one stream and four
# (-P 4), over each path in the same run, so the figures share the machine's
# mood:
#
#   bare veth      site-a routes to site-b over the underlay, no tunnel
#   wireguard-go   userspace WireGuard between the two site namespaces
#   strongswan     charon with kernel-libipsec (userspace ESP, AES-128-GCM,
#                  tunnel mode) between the same namespaces
#   mesh-site      GRE in ESP in UDP 4500, static SAs, one run per algorithm
#
#   lan-a (10.1.0.2) -- site-a ====== underlay 192.0.2.0/24 ====== site-b -- lan-b (10.2.0.2)
#                       (the full diagram is at the top of netns-lab/lib.sh)
#
# Only one path carries the LAN routes at a time. Ends with a table: Gbit/s
# for 1 and 4 streams and the ratio to wireguard-go.
#
# usage: netns-lab/bench-throughput.sh [--time SECONDS] [--binary PATH]
#            [--algorithms aes-128-gcm,chacha20-poly1305,...] [--no-mesh-site]
#            [--no-strongswan]
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$(readlink -f "$0")")/lib.sh"

seconds=10 binary='' algorithms=aes-128-gcm mesh_site=1 strongswan=1
while (($#)); do
    case $1 in
        --time | -t) seconds=$2; shift 2 ;;
        --binary | -b) binary=$2; shift 2 ;;
        --algorithms | -a) algorithms=$2; shift 2 ;;
        --no-mesh-site) mesh_site=0; shift ;;
        --no-strongswan) strongswan=0; shift ;;
        -h | --help) sed -n '2,22s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done

lab_init iperf3 ping wg wireguard-go
((mesh_site)) && lab_find_binary "$binary"

lab_info "building the two-site topology (namespaces end in -$$)"
lab_two_site_topology
lab_iperf_server "$LAN_B"

rows=()
# measure NAME: one single-stream and one 4-stream run; appends to rows.
measure() {
    local name=$1 one four
    lab_ping_expect "$LAN_A" "$HOST_B" 5
    one=$(lab_iperf "$LAN_A" "$HOST_B" "$seconds")
    four=$(lab_iperf "$LAN_A" "$HOST_B" "$seconds" -P 4)
    lab_info "$name: $one Gbit/s (1 stream), $four Gbit/s (4 streams)"
    rows+=("$name $one $four")
}

lab_info "path: bare veth"
lab_underlay_routes add
measure "bare-veth"
lab_underlay_routes del

lab_info "path: wireguard-go"
lab_wireguard_up
measure "wireguard-go"
lab_wireguard_down

if ((strongswan)); then
    if [[ -x /usr/lib/ipsec/charon ]] && command -v swanctl >/dev/null; then
        lab_info "path: strongSwan kernel-libipsec"
        lab_strongswan_up aes128gcm16
        measure "strongswan-libipsec/aes128gcm"
        lab_strongswan_down
    else
        lab_info "strongSwan (charon, swanctl) not installed: skipping that path"
    fi
fi

if ((mesh_site)); then
    IFS=, read -ra algs <<<"$algorithms"
    for alg in "${algs[@]}"; do
        lab_info "path: mesh-site $alg"
        lab_sites_start "$alg"
        measure "mesh-site/$alg"
        lab_sites_stop
    done
fi

echo
echo "iperf3 TCP lan-a -> lan-b, ${seconds}s per run, $(nproc) CPUs, $(uname -r)"
printf '%s\n' "${rows[@]}" | "$LAB_PYTHON" -c '
import sys
rows = [l.split() for l in sys.stdin if l.strip()]
wg = next(r for r in rows if r[0] == "wireguard-go")
fmt = "%-30s %10s %10s %10s %10s"
print(fmt % ("path", "1 stream", "4 streams", "x wg (1)", "x wg (4)"))
print(fmt % ("", "Gbit/s", "Gbit/s", "", ""))
for name, one, four in rows:
    print(fmt % (name, one, four, "%.2f" % (float(one) / float(wg[1])), "%.2f" % (float(four) / float(wg[2]))))
'
