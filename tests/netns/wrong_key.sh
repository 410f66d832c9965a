#!/usr/bin/env bash
# site-b is configured with the wrong inbound key:
#
#   lan-a -- site-a ==[ESP a->b sealed with K]==> site-b (expects K') -- lan-b
#
# Pings from lan-a must not get through, site-b must count auth-drops on its
# in SA (and keep counting), and both daemons must stay alive and answer
# status. Done for an AEAD (wrong key-in) and for CBC (right cipher key,
# wrong auth-key-in: the HMAC must catch it).
#
# usage: tests/netns/wrong_key.sh [MESH_SITE_BINARY]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"

lab_init ping
lab_find_binary "${1:-}"
lab_two_site_topology

auth_drops_b() { lab_json b 'sa("in","auth-drops")'; }

for alg in aes-128-gcm aes-128-cbc; do
    if lab_is_cbc "$alg"; then
        LAB_B_KEY_IN='' LAB_B_AUTH_KEY_IN=$(lab_hex 32)
    else
        LAB_B_KEY_IN=$(lab_hex "$(lab_key_bytes "$alg")") LAB_B_AUTH_KEY_IN=''
    fi
    lab_info "$alg: site-b gets a wrong ${LAB_B_AUTH_KEY_IN:+auth-}key-in"
    lab_sites_start "$alg"

    before=$(auth_drops_b)
    got=$(lab_ping "$LAN_A" $HOST_B 10)
    [[ $got == 0 ]] || lab_die "$alg: $got pings got through a tunnel with a wrong key"
    first=$(auth_drops_b)
    ((first >= before + 10)) || lab_die "$alg: site-b auth-drops went $before -> $first after 10 pings, expected +10"

    got=$(lab_ping "$LAN_A" $HOST_B 5)
    [[ $got == 0 ]] || lab_die "$alg: $got pings got through a tunnel with a wrong key (second round)"
    second=$(auth_drops_b)
    ((second >= first + 5)) || lab_die "$alg: site-b auth-drops went $first -> $second after 5 more pings"
    in_packets=$(lab_json b 'sa("in","packets")')
    lab_info "$alg: site-b auth-drops $before -> $first -> $second, in SA packets $in_packets"

    lab_alive mesh-site-a || lab_die "$alg: site-a's mesh-site exited"
    lab_alive mesh-site-b || lab_die "$alg: site-b's mesh-site exited"
    mesh b status --json >/dev/null || lab_die "$alg: site-b's status no longer answers"

    # The other direction has matching keys and still delivers (to site-a).
    b_to_a=$(lab_json a 'sa("in","packets")')
    lab_ping "$LAN_B" $HOST_A 3 >/dev/null
    after=$(lab_json a 'sa("in","packets")')
    ((after >= b_to_a + 3)) || lab_die "$alg: site-a's in SA (good key) went $b_to_a -> $after after 3 pings"
    lab_info "$alg: ok"
    lab_sites_stop
done
unset LAB_B_KEY_IN LAB_B_AUTH_KEY_IN
lab_info "PASS: wrong_key"
