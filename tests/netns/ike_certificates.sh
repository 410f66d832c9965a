#!/usr/bin/env bash
# Two sites keyed by mesh-site's own IKEv2 with certificates
# (auth-method = "digital-signature"):
#
#   lan-a 10.1.0.2 -- site-a [mesh-site] ==IKE 500->4500, ESP-in-UDP 4500== [mesh-site] site-b -- lan-b 10.2.0.2
#                     192.0.2.1  ECDSA P-256 cert             RSA 2048 cert  192.0.2.2
#                                CN=site-a.lab, DNS site-a.lab  CN=site-b.lab, DNS site-b.lab
#
# (the full diagram is at the top of netns-lab/lib.sh). The PKI is made at
# test time with strongSwan's pki in $LAB_DIR/pki: a CA (ECDSA P-256,
# "C=CH, O=mesh-site lab, CN=lab CA"), site-a's certificate (ECDSA P-256 key,
# SEC1 PEM), site-b's (RSA 2048 key, PKCS#1 PEM), a second certificate for
# site-a that is revoked, and a CRL listing it. The configs name them by
# paths relative to the config's folder. Cases, each with both daemons
# started afresh:
#   a  mode gre, my-id/remote-id fqdn:site-<me>.lab / fqdn:site-<other>.lab
#      (matched against the certificates' subjectAltName DNS): both sides up,
#      SAs each way with SPIs that mirror each other, pings both ways; no
#      private key in either log
#   b  mode gre, default my-id (the certificate's subject DN) on both sides,
#      site-b's remote-id "dn:C=CH, O=mesh-site lab, CN=site-a.lab", site-a's
#      "auto"; site-a's key as PKCS#8: up, pings both ways
#   c  site-a presents the revoked certificate, site-b has the CRL: no
#      tunnel, site-b logs "authentication failed" and "revoked", both
#      daemons alive and answering status
#   d  site-b's remote-id is fqdn:site-c.lab, not in site-a's certificate
#      (site-a still says fqdn:site-a.lab): no tunnel, site-b logs the refusal
#      ("authentication failed" or "no matching identity"), daemons alive
#   e  mode ip (tunnel-mode ESP, TS = the two LANs) with fqdn ids: up, pings
#   f  site-a claims my-id fqdn:site-c.lab, which its certificate does not
#      name, and site-b's remote-id is fqdn:site-c.lab: the ids agree but the
#      certificate does not back them: no tunnel, "authentication failed" in
#      site-b's log, daemons alive
#   g  the underlay's MTU is 576 and what would leave in IP fragments is
#      dropped (a control ping of 1000 bytes gets no answer): IKE_AUTH with the certificates
#      does not fit, so it goes in IKE fragments (RFC 7383): up, pings both
#      ways, each site sent and reassembled a fragmented message
#
# In every failure case both sites initiate, so each is also the responder
# of the other's IKE_AUTH: when site-b, as initiator, refuses site-a's
# answer, site-a must not be left with an IKE SA and a tunnel that stays
# "up" (RFC 7296 section 2.21.2: the initiator tells the responder in an
# INFORMATIONAL, one round trip after the responder installed).
#
# usage: tests/netns/ike_certificates.sh [MESH_SITE_BINARY]
#   IKE_CASES="a c" runs only those cases.
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"

lab_init ping pki openssl iptables
lab_find_binary "${1:-}"
cases=${IKE_CASES:-a b c d e f g}

# The PKI, before the topology (RSA key generation takes a moment).
lab_info "making the lab PKI in $LAB_DIR/pki"
PKI=$LAB_DIR/pki
lab_pki_ca "$PKI"
lab_pki_issue "$PKI" site-a ecdsa 256 site-a.lab
lab_pki_issue "$PKI" site-b rsa 2048 site-b.lab
lab_pki_issue "$PKI" site-a-revoked ecdsa 256 site-a.lab
lab_pki_crl "$PKI" ca.crl site-a-revoked.pem
# site-a's key once more as unencrypted PKCS#8 ("BEGIN PRIVATE KEY").
openssl pkcs8 -topk8 -nocrypt -in "$PKI/site-a.key" -out "$PKI/site-a.p8.key" 2>>"$LAB_DIR/pki.log" ||
    lab_die "openssl pkcs8 -topk8 failed"
grep -q 'BEGIN EC PRIVATE KEY' "$PKI/site-a.key" || lab_die "site-a.key is not SEC1 PEM"
grep -q 'BEGIN RSA PRIVATE KEY' "$PKI/site-b.key" || lab_die "site-b.key is not PKCS#1 PEM"
grep -q 'BEGIN PRIVATE KEY' "$PKI/site-a.p8.key" || lab_die "site-a.p8.key is not PKCS#8 PEM"
revoked_serial=$(openssl x509 -in "$PKI/site-a-revoked.pem" -noout -serial 2>/dev/null | cut -d= -f2)
openssl crl -in "$PKI/ca.crl" -noout -text 2>/dev/null | grep -qi "serial number: *$revoked_serial" ||
    lab_die "ca.crl does not list the revoked certificate's serial $revoked_serial"
lab_info "CA, site-a (ECDSA P-256), site-b (RSA 2048), site-a-revoked (serial $revoked_serial) and ca.crl made"

lab_two_site_topology

# certs SITE [SETTING=VALUE...]: the site's own certificate and key, the CA
# (relative paths: the daemon takes them from the config's folder, $LAB_DIR).
certs() {
    local site=$1; shift
    lab_ike_use_certificates "$site" certificate="pki/site-$site.pem" private-key="pki/site-$site.key" ca=pki/ca.pem "$@"
}

# both_up: both daemons started, both tunnels up and settled on one IKE SA
# each (a crossing start has finished), the route to the far LAN over each
# tunnel interface.
both_up() {
    lab_ike_site_start b
    lab_ike_site_start a
    lab_wait_tunnel_up a 20
    lab_wait_settled
    lab_wait 5 "the route to 10.2.0.0/24 via ${LAB_IKE_IF[a]} in site-a" _lab_route_via "$SITE_A" 10.2.0.0/24 "${LAB_IKE_IF[a]}"
    lab_wait 5 "the route to 10.1.0.0/24 via ${LAB_IKE_IF[b]} in site-b" _lab_route_via "$SITE_B" 10.1.0.0/24 "${LAB_IKE_IF[b]}"
}

pings_both_ways() {
    lab_ping_expect "$LAN_A" "$HOST_B" 10
    lab_ping_expect "$LAN_B" "$HOST_A" 10
}

both_alive() {
    local site
    for site in a b; do
        lab_alive mesh-site-$site || lab_die "site-$site's mesh-site exited"
        mesh $site status --json >/dev/null || lab_die "site-$site's status no longer answers"
    done
}

# no_key_in_logs: no line of a private key's PEM body in a daemon log.
no_key_in_logs() {
    local key line
    for key in "$PKI"/site-a.key "$PKI"/site-b.key "$PKI"/site-a.p8.key; do
        # shellcheck disable=SC2094 # lab_die reads the logs, never the key this loop reads
        while IFS= read -r line; do
            [[ $line == -----* || ${#line} -lt 16 ]] && continue
            ! grep -qF -- "$line" "$LAB_DIR"/mesh-site-*.log || lab_die "a line of $(basename "$key") appears in a daemon log"
        done <"$key"
    done
}

# small_path on|off: the underlay's MTU 576 at both sites, and what would
# leave in IP fragments dropped, as by a firewall that drops them (netfilter
# sees a local packet whole, before it is cut: a length match finds it); or
# back to 1500, passed.
small_path() {
    local ns action=-I mtu=576
    [[ $1 == off ]] && action=-D mtu=1500
    for ns in "$SITE_A" "$SITE_B"; do
        n "$ns" ip link set wan0 mtu $mtu
        n "$ns" iptables "$action" OUTPUT -o wan0 -m length --length 577:65535 -j DROP
    done
}

for c in $cases; do
    case $c in
        a)
            lab_info "(a) mode gre, site-a ECDSA, site-b RSA, fqdn ids: up, pings both ways"
            lab_write_ike_configs mode=gre
            certs a
            certs b
            both_up
            lab_ike_sas_mirror
            pings_both_ways
            no_key_in_logs
            ;;
        b)
            lab_info "(b) default my-id (subject DN), site-b remote-id dn:..., site-a auto, site-a's key PKCS#8"
            lab_write_ike_configs mode=gre
            certs a private-key=pki/site-a.p8.key my-id= remote-id=auto
            certs b my-id= remote-id="dn:C=CH, O=mesh-site lab, CN=site-a.lab"
            both_up
            lab_ike_sas_mirror
            pings_both_ways
            # Each side names the other by its subject DN, the ID it sent.
            lab_log_has mesh-site-b 'established with dn:C=CH, O=mesh-site lab, CN=site-a\.lab' ||
                lab_die "(b) site-b's log does not say it established with dn:C=CH, O=mesh-site lab, CN=site-a.lab"
            lab_log_has mesh-site-a 'established with dn:C=CH, O=mesh-site lab, CN=site-b\.lab' ||
                lab_die "(b) site-a's log does not say it established with dn:C=CH, O=mesh-site lab, CN=site-b.lab"
            ;;
        c)
            lab_info "(c) site-a presents a revoked certificate, site-b has the CRL: no tunnel"
            lab_write_ike_configs mode=gre
            certs a certificate=pki/site-a-revoked.pem private-key=pki/site-a-revoked.key
            certs b crl=pki/ca.crl
            lab_ike_site_start b
            lab_ike_site_start a
            lab_wait_log 20 'authentication failed' mesh-site-b >/dev/null ||
                lab_die "(c) site-b did not log \"authentication failed\" within 20 s"
            lab_log_has mesh-site-b 'revoked' ||
                lab_die "(c) site-b logged \"authentication failed\" but does not say the certificate is revoked"
            lab_info "(c) site-b logged:"
            grep -hi 'authentication failed' "$LAB_DIR/mesh-site-b.log" | head -n 2 | sed 's/^/    /' >&2
            lab_not_up 3
            both_alive
            ;;
        d)
            lab_info "(d) site-b's remote-id fqdn:site-c.lab, not in site-a's certificate: no tunnel"
            lab_write_ike_configs mode=gre b.remote-id=fqdn:site-c.lab
            certs a
            certs b
            lab_ike_site_start b
            lab_ike_site_start a
            lab_wait_log 20 'authentication failed|no matching identity' mesh-site-b >/dev/null ||
                lab_die "(d) site-b did not log \"authentication failed\" or \"no matching identity\" within 20 s"
            lab_info "(d) site-b logged:"
            grep -Ehi 'authentication failed|no matching identity' "$LAB_DIR/mesh-site-b.log" | head -n 2 | sed 's/^/    /' >&2
            lab_not_up 3
            both_alive
            ;;
        e)
            lab_info "(e) mode ip (tunnel mode, 10.1.0.0/24 <-> 10.2.0.0/24) with certificates: up, pings"
            lab_write_ike_configs mode=ip
            certs a
            certs b
            both_up
            lab_ike_sas_mirror
            pings_both_ways
            ;;
        f)
            lab_info "(f) site-a claims fqdn:site-c.lab, which its certificate does not name: no tunnel"
            lab_write_ike_configs mode=gre a.my-id=fqdn:site-c.lab b.remote-id=fqdn:site-c.lab
            certs a
            certs b
            lab_ike_site_start b
            lab_ike_site_start a
            lab_wait_log 20 'authentication failed' mesh-site-b >/dev/null ||
                lab_die "(f) site-b did not log \"authentication failed\" within 20 s"
            lab_info "(f) site-b logged:"
            grep -hi 'authentication failed' "$LAB_DIR/mesh-site-b.log" | head -n 2 | sed 's/^/    /' >&2
            lab_not_up 3
            both_alive
            ;;
        g)
            lab_info "(g) a 576-byte underlay that drops IP fragments: IKE_AUTH in IKE fragments"
            small_path on
            lab_ping_expect "$SITE_A" "$UNDERLAY_B" 3                 # the path itself works
            got=$(lab_ping "$SITE_A" "$UNDERLAY_B" 3 -s 1000)           # the control: IP fragments are lost
            ((got == 0)) || lab_die "(g) a 1000-byte ping crossed the 576-byte path in IP fragments ($got replies)"
            lab_write_ike_configs mode=gre
            certs a
            certs b
            both_up
            pings_both_ways
            lab_expect_ike_fragments g a
            lab_expect_ike_fragments g b
            lab_ike_sites_stop
            small_path off
            ;;
        *) lab_die "unknown case '$c' in IKE_CASES" ;;
    esac
    lab_ike_sites_stop
    lab_info "($c) ok"
done
lab_info "PASS: ike_certificates ($cases)"
