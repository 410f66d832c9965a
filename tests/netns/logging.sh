#!/usr/bin/env bash
# Logging: the journal's fields, and log levels per topic.
#
#   site-a [mesh-site, stderr = the journal's stream] ==IKE, ESP== [mesh-site, stderr to a file] site-b
#     private /run: /run/systemd/journal/socket        [site] log = "ike=warn,esp=warn", run --log ike=info
#     bound by journal_listener.py
#
# (the full diagram is at the top of netns-lab/lib.sh). Checks:
#   a  site-a runs in a private mount namespace whose
#      /run/systemd/journal/socket is a Unix datagram socket this test binds,
#      with JOURNAL_STREAM naming its stderr's device:inode as systemd sets
#      it: its entries come in the native journal protocol with MESSAGE,
#      PRIORITY, SYSLOG_IDENTIFIER=mesh-site and MESH_TOPIC; the IKE lines
#      about site-b carry IKE_PEER=site-b, the tunnel's TUNNEL=site-b too;
#      so do the operator's rekey and the rekeyed IKE SA; lines about no
#      peer carry neither (a refused message: PRIORITY 4); nothing goes to
#      its stderr.
#   b  site-b (JOURNAL_STREAM set but naming another file) logs to stderr.
#      Its levels are the config's with the command line's over them;
#      `mesh-site log ike=debug` makes an unknown-SPI IKE message log a
#      DEBUG [ike] line where it logged none at info; `mesh-site log
#      bogus=1` exits non-zero listing the topics, and the daemon refuses
#      the same request sent raw.
#
# usage: tests/netns/logging.sh [MESH_SITE_BINARY]
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=../../netns-lab/lib.sh
source "$here/../../netns-lab/lib.sh"

lab_init unshare mount stat
lab_find_binary "${1:-}"
lab_two_site_topology
lab_write_ike_configs

# -- site-b: on stderr, levels from the config and the command line --------
sed -i '/^\[site\]$/a log = "ike=warn,esp=warn"' "$LAB_DIR/site-b.toml"
n "$SITE_B" "$MESH_SITE" check-config -c "$LAB_DIR/site-b.toml" >&2
JOURNAL_STREAM=1:1 lab_bg mesh-site-b "$SITE_B" "$MESH_SITE" run -c "$LAB_DIR/site-b.toml" --log ike=info
lab_wait 10 "mesh-site (site-b) to answer status" mesh b status --json

# -- site-a: under a stand-in journald --------------------------------------
journal=$LAB_DIR/journal.jsonl
: >"$journal"
# The listener and the daemon share the private mount namespace; the
# listener's entries land in $LAB_DIR, outside it.
# shellcheck disable=SC2016 # the inner shell expands its own arguments
lab_bg mesh-site-a "$SITE_A" unshare -m --propagation private sh -c '
    mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal || exit 1
    "$0" "$1" /run/systemd/journal/socket "$2" &
    i=0; while [ ! -S /run/systemd/journal/socket ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$3" run -c "$4"' \
    "$LAB_PYTHON" "$here/journal_listener.py" "$journal" "$MESH_SITE" "$LAB_DIR/site-a.toml"
lab_wait 10 "mesh-site (site-a) to answer status" mesh a status --json
lab_wait_tunnel_up a 30
lab_wait_tunnel_up b 10

# journal_has PYTHON-CONDITION: one entry e (a dict of fields) satisfies it.
journal_has() {
    "$LAB_PYTHON" - "$journal" "$1" <<'PY'
import json, sys
entries = [json.loads(line) for line in open(sys.argv[1])]
sys.exit(0 if any(eval(sys.argv[2], {}, {"e": e}) for e in entries) else 1)
PY
}
expect_entry() { # WHAT CONDITION
    lab_wait 10 "a journal entry: $1" journal_has "$2" ||
        { tail -n 30 "$journal" >&2; lab_die "no journal entry: $1"; }
    lab_info "journal: $1"
}

lab_info "(a) site-a's journal entries ($journal)"
expect_entry "IKE SA established, PRIORITY 6, MESH_TOPIC ike, IKE_PEER site-b" \
    'e.get("MESH_TOPIC") == "ike" and e.get("PRIORITY") == "6" and e.get("IKE_PEER") == "site-b" and e.get("SYSLOG_IDENTIFIER") == "mesh-site" and e.get("MESSAGE", "").startswith("[ike] site-b: IKE SA ") and " established with " in e["MESSAGE"]'
expect_entry "CHILD SA installed, IKE_PEER site-b" \
    'e.get("MESH_TOPIC") == "ike" and e.get("IKE_PEER") == "site-b" and "CHILD SA site-b installed" in e.get("MESSAGE", "")'
expect_entry "tunnel up, MESH_TOPIC esp, TUNNEL site-b, IKE_PEER site-b" \
    'e.get("MESH_TOPIC") == "esp" and e.get("TUNNEL") == "site-b" and e.get("IKE_PEER") == "site-b" and e.get("MESSAGE") == "[esp] tunnel site-b: up"'
expect_entry "IKE listening, about no peer: no IKE_PEER, no TUNNEL" \
    'e.get("MESSAGE", "").startswith("[ike] IKE listening on ") and "IKE_PEER" not in e and "TUNNEL" not in e'
expect_entry "a daemon line, MESH_TOPIC daemon" \
    'e.get("MESH_TOPIC") == "daemon" and e.get("MESSAGE", "").startswith("[daemon] site site-a running")'
# The operator's rekey: the control socket's line and the exchange's carry the peer.
mesh a rekey site-b >&2
expect_entry "the operator's rekey, IKE_PEER site-b" \
    'e.get("IKE_PEER") == "site-b" and e.get("MESSAGE", "").startswith("[ike] site-b: rekeying 1 IKE SA(s) on the operator")'
expect_entry "the IKE SA rekeyed, IKE_PEER site-b" \
    'e.get("IKE_PEER") == "site-b" and e.get("MESSAGE", "").startswith("[ike] site-b: IKE SA ") and " rekeyed" in e["MESSAGE"]'
# A message refused for its version (RFC 7296 section 3.1: major version 0)
# before any SA is looked up: a warning, PRIORITY 4, about no peer.
printf '%s\n' "$(lab_hex 16)00002508000000010000001c" | lab_udp_send "$SITE_B" "$UNDERLAY_A" 500 >/dev/null
expect_entry "a refused message, PRIORITY 4, no IKE_PEER" \
    'e.get("PRIORITY") == "4" and "major version 0 is not 2" in e.get("MESSAGE", "") and "IKE_PEER" not in e'
journal_has '"_unparsable" in e' && lab_die "an entry that is not the native journal protocol: $(grep _unparsable "$journal" | head -n 1)"
if grep -q '\[ike\]' "$LAB_DIR/mesh-site-a.log"; then
    lab_die "site-a logged to stderr although it is the journal's stream: $(head -n 3 "$LAB_DIR/mesh-site-a.log")"
fi
# The journal's own filter, on what the listener got: every ike entry that
# names site-b at its start carries IKE_PEER=site-b.
untagged=$("$LAB_PYTHON" - "$journal" <<'PY'
import json, sys
entries = [json.loads(line) for line in open(sys.argv[1])]
print(sum(1 for e in entries if e.get("MESSAGE", "").startswith("[ike] site-b: ") and e.get("IKE_PEER") != "site-b"))
PY
)
((untagged == 0)) || lab_die "$untagged [ike] line(s) about site-b without IKE_PEER=site-b: $(grep '\[ike\] site-b: ' "$journal" | grep -v IKE_PEER | head -n 2)"
lab_info "(a) $(wc -l <"$journal") entries; every [ike] line about site-b carries IKE_PEER=site-b"

lab_info "(b) site-b on stderr, levels per topic"
lab_log_has mesh-site-b '^[0-9T:.-]+ info  \[ike\] site-a: IKE SA ' || lab_die "site-b's stderr has no [ike] line in the usual format"
levels=$(mesh b log)
[[ $levels == "ike=info,esp=warn,gre=info,routing=info,config=info,daemon=info" ]] ||
    lab_die "site-b's levels are '$levels', expected the config's esp=warn and the command line's ike=info"
lab_info "site-b's levels: $levels"

# One IKE message with SPIs no SA has, from site-a's namespace: a debug line
# ("IKE message for unknown SPIs ... dropped"), counted as unknown-spi.
unknown_spi() { # prints the unknown-spi counter after sending one more
    # RFC 7296 section 3.1: SPIi, SPIr, no payload, version 2.0,
    # INFORMATIONAL (37), the Initiator flag, message ID 1, 28 bytes.
    printf '%s\n' "$(lab_hex 16)00202508000000010000001c" |
        lab_udp_send "$SITE_A" "$UNDERLAY_B" 500 >/dev/null
}
unknown_count() { lab_json b 'd["counters"]["ike"]["unknown-spi"]'; }
before=$(unknown_count)
unknown_spi
lab_wait 10 "site-b to count the unknown-SPI message" test "$(unknown_count)" -gt "$before"
_debug_line() { lab_log_has mesh-site-b 'debug \[ike\] IKE message for unknown SPIs'; }
_debug_line && lab_die "site-b logged an [ike] debug line at level info"

levels=$(mesh b log ike=debug)
[[ $levels == "ike=debug,esp=warn,gre=info,routing=info,config=info,daemon=info" ]] ||
    lab_die "mesh-site log ike=debug answered '$levels'"
# The IKE engine logs an unknown SPI at most about once a second: send until one shows.
_debug_after_send() { unknown_spi; _debug_line; }
lab_wait 15 "an [ike] DEBUG line at site-b after mesh-site log ike=debug" _debug_after_send
lab_info "site-b: $(grep -m1 'debug \[ike\]' "$LAB_DIR/mesh-site-b.log")"
lab_log_has mesh-site-b 'log levels set on request \(ike=debug\): now ike=debug,esp=warn' ||
    lab_die "site-b did not log the change of levels"

rc=0
mesh b log bogus=1 2>"$LAB_DIR/bogus.err" || rc=$?
((rc != 0)) || lab_die "mesh-site log bogus=1 exited 0"
grep -q 'unknown log topic "bogus": the topics are ike, esp, gre, routing, config, daemon' "$LAB_DIR/bogus.err" ||
    lab_die "mesh-site log bogus=1 said: $(cat "$LAB_DIR/bogus.err")"
lab_info "mesh-site log bogus=1: exit $rc, $(cat "$LAB_DIR/bogus.err")"
raw=$(ns_exec "$SITE_B" "$LAB_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1]); s.sendall(b"log ike=loud\n")
print(s.makefile().read())' "$LAB_DIR/site-b.sock")
[[ $raw == *'"error":"log: unknown log level \"loud\" for ike: the levels are trace, debug, info, warn, error, off"'* ]] ||
    lab_die "the daemon answered 'log ike=loud' with: $raw"
[[ $(mesh b log) == "ike=debug,esp=warn,gre=info,routing=info,config=info,daemon=info" ]] ||
    lab_die "a refused request changed site-b's levels: $(mesh b log)"
lab_alive mesh-site-a || lab_die "mesh-site (site-a) exited"
lab_alive mesh-site-b || lab_die "mesh-site (site-b) exited"
lab_info "logging: journal fields and per-topic levels as documented"
