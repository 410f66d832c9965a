#!/usr/bin/env bash
# libreswan's impairments (pluto --impair, netns-lab/libreswan.sh) against
# mesh-site: each row breaks one thing in pluto's messages, with mesh-site
# as responder (pluto initiates, mesh-site passive) or as initiator (pluto
# answers). A fresh pluto and mesh-site per row; each row checks:
#   outcome  refused:       the exchange fails, no IKE SA comes up at mesh-site
#            child-refused: the IKE SA comes up, its CHILD SA is refused
#            up:            the impairment is harmless (RFC 7296 says ignore
#                           it): one IKE SA and one CHILD SA at each end
#   log      refused rows: a mesh-site log line naming the problem (REGEX)
#   alive    mesh-site still answers status (and, as initiator, exits 0 on
#            SIGTERM)
#   clean    after `whack --impair none` and --terminate, a normal
#            negotiation gives one IKE SA and one CHILD SA at each end
# The matrix is printed as a table at the end; the test fails if a row does.
# usage: tests/interop/libreswan_impair.sh [MESH_SITE_BINARY]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"
source "$LAB_ROOT/netns-lab/libreswan.sh"

lab_init
lab_require_libreswan
lab_find_binary "${1:-}"
lab_two_site_topology
secret=$(lab_hex 16)
lab_pluto_conf "$secret"

# The matrix: ROLE (mesh-site's); OUTCOME; REGEX (grep -Ei over mesh-site's
# log; for up rows only shown); IMPAIRMENTS (pluto --impair, space-separated)
rows=(
    "responder;refused;no KE payload;ke-payload:omit"
    "responder;refused;KE payload .* refused;ke-payload:empty"
    "responder;refused;SPI.*(zero|0\b);ike-initiator-spi:0"
    "responder;refused;major version;major-version-bump"
    "responder;up;established;minor-version-bump"
    "responder;up;established;add-unknown-v2-payload-to:IKE_SA_INIT"
    "responder;refused;critical;add-unknown-v2-payload-to-sk:IKE_AUTH unknown-v2-payload-critical"
    "responder;refused;no suitable proposal found for IKE SA.*(key.?length|duplicate);ike-key-length-attribute:duplicate"
    "responder;child-refused;CHILD SA .* refused: no suitable proposal.*(key.?length|duplicate);child-key-length-attribute:duplicate"
    "responder;up;established;send-nonzero-reserved-id"
    "responder;up;established;send-bogus-payload-flag"
    "responder;up;established;jacob-two-two"
    "responder;refused;authentication failed for fqdn:site-b.lab;force-v2-auth-method:NULL"
    "initiator;refused;exchange type;bad-ikev2-auth-xchg"
    "initiator;refused;no KE payload;ke-payload:omit"
    "initiator;refused;SPI.*(zero|0\b);ike-responder-spi:0"
    "initiator;refused;major version;major-version-bump"
    "initiator;refused;critical;add-unknown-v2-payload-to-sk:IKE_AUTH unknown-v2-payload-critical"
    "initiator;up;established;send-nonzero-reserved-id"
    "initiator;up;established;minor-version-bump"
)

# within SECONDS CMD...: polls CMD every 0.2 s; 1 when SECONDS pass.
within() {
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}
mesh_log_has() { grep -Eqi -- "$1" "$LAB_DIR/mesh-site-a.log"; }
mesh_ike_established() { mesh_log_has 'IKE SA [0-9a-f/]+ established with'; }
mesh_answers() { lab_alive mesh-site-a && mesh a status --json >/dev/null 2>&1; }
# mesh_stop: SIGTERM; MESH_EXIT says how mesh-site went ("exit 0",
# "exit 134", "hung").
mesh_stop() {
    local pid=${LAB_PID[mesh-site-a]} rc=0
    kill -TERM "$pid" 2>/dev/null || true
    if ! within 5 _gone "$pid"; then
        lab_kill mesh-site-a
        MESH_EXIT=hung
        return
    fi
    wait "$pid" 2>/dev/null || rc=$?
    unset "LAB_PID[mesh-site-a]"
    MESH_EXIT="exit $rc"
}
_gone() { ! kill -0 "$1" 2>/dev/null; }

table=()
failed=0
# row ROLE OUTCOME REGEX IMPAIRMENTS: runs one row, appends it to the table.
row() {
    local role=$1 outcome=$2 regex=$3 impairs=$4 i problems=() logged
    lab_info "row: $impairs (mesh-site $role, expect $outcome)"
    if [[ $role == responder ]]; then
        lab_write_ike_configs mode=ip secret="$secret" pfs=ecp256 a.passive=true
    else
        lab_write_ike_configs mode=ip secret="$secret" pfs=ecp256
    fi
    lab_pluto_start
    for i in $impairs; do lab_whack_do --impair "$i" >/dev/null || problems+=("pluto refused --impair $i"); done
    lab_ike_site_start a
    [[ $role == initiator ]] || lab_whack_do --name lan --initiate --asynchronous >/dev/null || true

    case $outcome in
        up)
            within 8 lab_pluto_mesh_agree || problems+=("no single IKE SA and CHILD SA at both ends ($(lab_json a 'len(peers())') IKE SA(s) at mesh-site, pluto $(lab_pluto_ike_sas | wc -l))")
            ;;
        refused)
            within 6 mesh_log_has "$regex" || problems+=("no log line /$regex/")
            ! mesh_ike_established || problems+=("mesh-site established the IKE SA")
            ;;
        child-refused)
            within 6 mesh_log_has "$regex" || problems+=("no log line /$regex/")
            ! mesh_log_has 'CHILD SA .* installed' || problems+=("mesh-site installed the CHILD SA")
            ;;
    esac
    logged=$(grep -Ei -- "$regex" "$LAB_DIR/mesh-site-a.log" | head -n1 ||
        grep -E '(warning|error) +\[ike\]' "$LAB_DIR/mesh-site-a.log" | head -n1 || true)
    logged=$(sed -E 's/^[0-9T:.-]+ +[a-z]+ +\[ike\] (site-b: )?//' <<<"${logged:-(nothing)}" | cut -c1-110)
    mesh_answers || problems+=("mesh-site does not answer status")

    lab_whack --impair none >/dev/null || true
    lab_whack --name lan --terminate >/dev/null 2>&1 || true
    if [[ $role == responder ]]; then
        lab_whack_do --name lan --initiate --asynchronous >/dev/null || true
    else
        mesh_stop
        [[ $MESH_EXIT == "exit 0" ]] || problems+=("mesh-site on SIGTERM: $MESH_EXIT")
        lab_ike_site_start a
    fi
    within 10 lab_pluto_mesh_agree || problems+=("no clean tunnel after --impair none ($(lab_json a 'len(peers())') IKE SA(s) at mesh-site)")
    mesh_answers || problems+=("mesh-site died")

    local verdict=ok
    if ((${#problems[@]})); then
        verdict="FAIL: $(IFS=';'; echo "${problems[*]}")"
        failed=$((failed + 1))
        cp "$LAB_DIR/mesh-site-a.log" "$LAB_DIR/row-${#table[@]}-mesh-site.txt"
    fi
    lab_info "  $verdict"
    table+=("$impairs"$'\t'"$role"$'\t'"$logged"$'\t'"$outcome: $verdict")
    mesh_stop
    lab_pluto_stop
}

for r in "${rows[@]}"; do
    IFS=';' read -r role outcome regex impairs <<<"$r"
    row "$role" "$outcome" "$regex" "$impairs"
done

{
    echo
    echo "| impair | mesh-site | what mesh-site logged | outcome |"
    echo "|---|---|---|---|"
    for r in "${table[@]}"; do
        IFS=$'\t' read -r impairs role logged verdict <<<"${r//|/\\|}"
        echo "| $impairs | $role | $logged | $verdict |"
    done
} >&2
((failed == 0)) || lab_die "$failed of ${#rows[@]} impairment rows failed (mesh-site logs of failed rows: $LAB_DIR/row-*-mesh-site.txt)"
lab_info "PASS: libreswan_impair (${#rows[@]} rows)"
