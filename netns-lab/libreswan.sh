# shellcheck shell=bash
# netns-lab/libreswan.sh: libreswan 4.10's pluto as a second IKEv2 peer of
# mesh-site for the interop tests. Source it after lib.sh; pluto runs in
# $SITE_B of the two-site topology, in place of site-b's mesh-site:
#
#   $SITE_A: mesh-site, 192.0.2.1, fqdn:site-a.lab, LAN 10.1.0.0/24
#   $SITE_B: pluto,     192.0.2.2, fqdn:site-b.lab, LAN 10.2.0.0/24
#   connection "lan": IKEv2, PSK, tunnel mode 10.2.0.0/24 <-> 10.1.0.0/24,
#   ESP always in UDP (encapsulation=yes, as mesh-site's encapsulation "udp")
#
# libreswan is unpacked, not installed (netns-lab/libreswan-install.sh).
# pluto needs two compiled-in paths, /usr/libexec/ipsec (addconn, run at
# start) and /run (its control socket and pid file); both are bind-mounted
# inside the mount namespace `ip netns exec` gives pluto alone.
#
# This kernel has no ESP: the kernel refuses every ESP SA pluto adds, and
# pluto then tears its CHILD SA down. The shim netns-lab/pluto_xfrm_ok.c
# (LD_PRELOAD) turns those refusals into success, so pluto's CHILD SAs,
# rekeys and Deletes run as on a full kernel, but no packet crosses the
# tunnel: the tests read SAs from whack (--showstates, --trafficstatus) and
# mesh-site's status, never from pings.
#
# Files in $LAB_DIR/pluto/; pluto's log is $LAB_DIR/pluto.log (tailed by
# lab_die), its stdout and stderr $LAB_DIR/pluto-out.log.

LAB_LSW=${LIBRESWAN_DIR:-/opt/libreswan-4.10}
LAB_LSW_EXEC=$LAB_LSW/usr/libexec/ipsec

# lab_require_libreswan: skips (exit 77) without the unpacked libreswan,
# NSS's certutil or a C compiler for the shim; builds the shim.
lab_require_libreswan() {
    [[ -x $LAB_LSW_EXEC/pluto && -x $LAB_LSW_EXEC/whack ]] ||
        lab_skip "needs libreswan unpacked in $LAB_LSW (tools/install-deps.sh runs netns-lab/libreswan-install.sh)"
    command -v certutil >/dev/null || lab_skip "needs certutil (libnss3-tools)"
    command -v gcc >/dev/null || lab_skip "needs gcc (build-essential) for the shim"
    LAB_PLUTO_SHIM=$LAB_DIR/pluto_xfrm_ok.so
    gcc -O2 -Wall -Wextra -Werror -shared -fPIC -o "$LAB_PLUTO_SHIM" "$LAB_ROOT/netns-lab/pluto_xfrm_ok.c" -ldl ||
        lab_die "the pluto shim netns-lab/pluto_xfrm_ok.c does not build"
}

# lab_pluto_conf SECRET [CONN_LINE...]: ipsec.conf (connection "lan") and
# ipsec.secrets for pluto in site b, and an empty NSS database. Each
# CONN_LINE ("auto=start", "ikelifetime=5s") is added to the connection,
# after the defaults, which it overrides.
#   ike=aes_gcm256-sha2_256;dh19   mesh-site's lab profile (ecp256)
#   esp=aes_gcm128;dh19            pfs=yes is libreswan's default, so the
#                                  CREATE_CHILD_SAs carry KE: mesh-site's
#                                  proposal needs pfs-group ecp256
lab_pluto_conf() {
    local secret=$1 dir=$LAB_DIR/pluto line; shift
    lab_two_site_names
    mkdir -p "$dir/run" "$dir/nss" "$dir/ipsec.d"
    [[ -f $dir/nss/cert9.db ]] || certutil -N -d "sql:$dir/nss" --empty-password
    {
        cat <<EOF
# pluto of the mesh-site lab (netns-lab/libreswan.sh), site-b
config setup
    logfile=$LAB_DIR/pluto.log
    logappend=yes
    logtime=yes
    plutodebug=${LAB_PLUTO_DEBUG:-none}
    nssdir=$dir/nss
    ipsecdir=$dir/ipsec.d
    secretsfile=$dir/ipsec.secrets
    dumpdir=$dir/run
    listen=$UNDERLAY_B
    dnssec-enable=no

conn lan
    ikev2=insist
    authby=secret
    left=$UNDERLAY_B
    leftid=@site-b.lab
    leftsubnet=10.2.0.0/24
    right=$UNDERLAY_A
    rightid=@site-a.lab
    rightsubnet=10.1.0.0/24
    ike=aes_gcm256-sha2_256;dh19
    esp=aes_gcm128;dh19
    encapsulation=yes
    leftupdown=%disabled
    auto=add
EOF
        for line in "$@"; do echo "    $line"; done
    } >"$dir/ipsec.conf"
    echo "@site-b.lab @site-a.lab : PSK \"$secret\"" >"$dir/ipsec.secrets"
    chmod 600 "$dir/ipsec.secrets"
    pretty "" "wrote $dir/ipsec.conf${*:+ (conn lan: $*)}"
}

# lab_pluto_start: pluto in site b with the shim; waits until its control
# socket answers and the connection "lan" is loaded. Impairments are set
# afterwards, at run time: lab_whack --impair NAME[:ARG] (--impair none
# resets them).
lab_pluto_start() {
    local dir=$LAB_DIR/pluto
    rm -f "$dir/run/pluto.ctl" "$dir/run/pluto.pid"
    # shellcheck disable=SC2016 # expanded by the inner sh
    lab_bg pluto-out "$SITE_B" env LD_PRELOAD="$LAB_PLUTO_SHIM" PLUTO_XFRM_OK_LOG="$dir/xfrm-ok.log" \
        sh -c 'mount --bind "$0/usr/libexec" /usr/libexec && mount --bind "$1/run" /run && shift &&
               exec "$0/usr/libexec/ipsec/pluto" --nofork --rundir /run "$@"' \
        "$LAB_LSW" "$dir" --config "$dir/ipsec.conf"
    lab_wait 10 "pluto's control socket" _lab_pluto_loaded
    lab_alive pluto-out || lab_die "pluto exited at start"
}
_lab_pluto_loaded() { lab_whack --status 2>/dev/null | grep -q '"lan":'; }

# lab_pluto_stop: whack --shutdown (pluto sends its Deletes), then TERM.
lab_pluto_stop() {
    lab_alive pluto-out || { lab_kill pluto-out; return 0; }
    pretty "$SITE_B" "whack --shutdown"
    lab_whack --shutdown >/dev/null 2>&1 || true
    lab_wait 10 "pluto to exit" _lab_pluto_gone
    lab_kill pluto-out
}
_lab_pluto_gone() { ! lab_alive pluto-out; }

# lab_pluto_kill9: pluto dies without a word to its peer (no Delete).
lab_pluto_kill9() {
    pretty "$SITE_B" "kill -9 pluto"
    kill -KILL "${LAB_PID[pluto-out]}" 2>/dev/null || true
    lab_kill pluto-out
}

# lab_whack ARGS...: whack against site b's pluto (no echo: it is polled).
lab_whack() {
    ns_exec "$SITE_B" "$LAB_LSW_EXEC/whack" --ctlsocket "$LAB_DIR/pluto/run/pluto.ctl" "$@"
}
# lab_whack_do ARGS...: the same, echoed, for actions.
lab_whack_do() {
    pretty "$SITE_B" "whack $*"
    lab_whack "$@"
}

# lab_pluto_ike_sas / lab_pluto_child_sas: the state numbers ("#3") of
# pluto's established IKE SAs / CHILD SAs, one a line (whack prefixes its
# lines with a status code, "000 ").
lab_pluto_ike_sas() { lab_whack --showstates 2>/dev/null | _lab_pluto_states IKE; }
lab_pluto_child_sas() { lab_whack --showstates 2>/dev/null | _lab_pluto_states CHILD; }
_lab_pluto_states() { sed -n "s/^\(000 \)\?\(#[0-9]*\): \"lan\".* STATE_V2_ESTABLISHED_$1_SA .*/\2/p"; }

# lab_pluto_spis: "IN OUT" of pluto's newest CHILD SA, lower-case hex
# without 0x: IN is the SPI pluto receives on (esp.SPI@its own address),
# OUT the one it sends to (esp.SPI@mesh-site's), from --showstates.
lab_pluto_spis() {
    local states newest line in out
    states=$(lab_whack --showstates 2>/dev/null) || return 1
    newest=$(sed -n 's/^\(000 \)\?\(#[0-9]*\): "lan".* STATE_V2_ESTABLISHED_CHILD_SA .*newest.*/\2/p' <<<"$states" | tail -n1)
    [[ -n $newest ]] || return 1
    line=$(grep -E "^(000 )?$newest: \"lan\" esp\." <<<"$states" | head -n1)
    in=$(grep -o "esp\.[0-9a-f]*@$UNDERLAY_B" <<<"$line" | sed 's/esp\.\([0-9a-f]*\)@.*/\1/')
    out=$(grep -o "esp\.[0-9a-f]*@$UNDERLAY_A" <<<"$line" | sed 's/esp\.\([0-9a-f]*\)@.*/\1/')
    [[ -n $in && -n $out ]] || return 1
    echo "$in $out"
}

# lab_mesh_spis: "IN OUT" of mesh-site's (site a) CHILD SAs, as
# lab_pluto_spis; IN lists every inbound SA (comma-separated: a rekeyed SA's
# inbound half stays a moment after its Delete), OUT the outbound ones.
lab_mesh_spis() {
    lab_json a '"%s %s" % tuple(",".join("%x" % int(s["spi"], 16) for s in sas(d)) for d in ("in", "out"))'
}

# lab_pluto_mesh_agree: one IKE SA and one CHILD SA at each end (at
# mesh-site, an IKE SA in any state: a half-open one counts), mesh-site's
# tunnel up, mesh-site sending on the one SPI pluto receives on
# and receiving on the one pluto sends on.
lab_pluto_mesh_agree() {
    [[ $(lab_pluto_ike_sas | wc -l) == 1 && $(lab_pluto_child_sas | wc -l) == 1 ]] || return 1
    [[ $(lab_json a 'len(peers())' 2>/dev/null) == 1 ]] || return 1
    lab_tunnel_up a || return 1
    local p m
    p=$(lab_pluto_spis) && m=$(lab_mesh_spis) || return 1
    [[ ${m#* } == "${p% *}" && ,${m% *}, == *,${p#* },* ]]
}

# lab_wait_pluto_mesh_agree SECONDS LABEL: waits for lab_pluto_mesh_agree;
# dies with both ends' views on timeout.
lab_wait_pluto_mesh_agree() {
    local timeout=$1 label=$2 deadline
    deadline=$((SECONDS + timeout))
    until lab_pluto_mesh_agree; do
        if ((SECONDS >= deadline)); then
            echo "pluto --showstates:" >&2
            lab_whack --showstates >&2 2>&1 || true
            echo "mesh-site status --json:" >&2
            mesh a status --json >&2 2>&1 || true
            lab_die "($label) pluto and mesh-site do not agree on one IKE SA and one CHILD SA after ${timeout}s"
        fi
        sleep 0.2
    done
    lab_info "($label) one IKE SA, one CHILD SA each; CHILD SPIs pluto in/out $(lab_pluto_spis), mesh-site in/out $(lab_mesh_spis)"
}

# lab_pluto_use_certificates PKI_DIR ecdsa|rsasig ecdsa|rsasig: pluto
# authenticates with PKI_DIR/site-b.pem and .key (lab_pki_issue, SAN
# site-b.lab) by the first method and expects mesh-site to use the second,
# with a certificate chaining to PKI_DIR/ca.pem; call after lab_pluto_conf,
# before lab_pluto_start. The key and certificate go into pluto's NSS
# database as PKCS#12 (nickname site-b), the CA as a trusted peer CA.
lab_pluto_use_certificates() {
    local pki=$1 mine=$2 theirs=$3 dir=$LAB_DIR/pluto
    openssl pkcs12 -export -passout pass: -name site-b -in "$pki/site-b.pem" -inkey "$pki/site-b.key" \
        -out "$dir/site-b.p12" 2>>"$LAB_DIR/pki.log" || lab_die "openssl pkcs12 failed (see pki.log)"
    pk12util -i "$dir/site-b.p12" -d "sql:$dir/nss" -W '' >>"$LAB_DIR/pki.log" 2>&1 ||
        lab_die "pk12util could not import site-b.p12 (see pki.log)"
    certutil -A -d "sql:$dir/nss" -n lab-ca -t 'CT,,' -a -i "$pki/ca.pem" >>"$LAB_DIR/pki.log" 2>&1 ||
        lab_die "certutil could not import the CA (see pki.log)"
    sed -i -e "s/^    authby=secret\$/    leftauth=$mine\n    rightauth=$theirs/" \
        -e 's/^    leftid=@site-b.lab$/    leftid=@site-b.lab\n    leftcert=site-b\n    leftsendcert=always/' \
        -e 's/^    rightid=@site-a.lab$/    rightid=@site-a.lab\n    rightca=%any/' "$dir/ipsec.conf"
    pretty "" "pluto (site-b) authenticates by $mine with $pki/site-b.pem, mesh-site by $theirs; CA $pki/ca.pem"
}
