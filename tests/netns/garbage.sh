#!/usr/bin/env bash
# Garbage at the ESP port must be counted and dropped, never crash the
# daemon or disturb the tunnel:
#
#   lan-a ---- ping -i 0.02 ----------------------------------> lan-b
#            site-a --python3: 2000 random datagrams--> site-b:4500
#
# The datagrams (0..1500 bytes): random bytes (unknown SPIs), ESP headers of
# the real a->b SA (SPI 0x00002001) with random sequence numbers and
# bodies (bad ICVs, or too short to hold one), a few IKE-looking ones
# (non-ESP marker), NAT keepalives and empty ones. Afterwards: both daemons
# alive, status answers, the ping lost little, site-b counted every garbage
# datagram that names its SA in that SA's drop counters, and (where status
# has them) the daemon-wide counters match: unknown-spi-drops = random ones,
# keepalives, runt-drops = empty ones, ike-datagrams = non-ESP-marker ones.
#
# usage: tests/netns/garbage.sh [MESH_SITE_BINARY]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"

lab_init ping
lab_find_binary "${1:-}"
lab_two_site_topology
lab_sites_start aes-128-gcm
lab_ping_expect "$LAN_A" $HOST_B 5

lab_counters_settle b
status_before=$(mesh b status --json)
sa_drops_before=$(lab_json b 'drops("in")')

pings=200
lab_bg ping "$LAN_A" ping -n -c $pings -i 0.02 -W 1 $HOST_B
in_before=$(lab_json b 'sa("in","packets")')
pinging() { (($(lab_json b 'sa("in","packets")') >= in_before + 5)); }
lab_wait 10 "the pings to reach site-b" pinging

pretty "$SITE_A" "python3: 2000 random datagrams to $UNDERLAY_B:4500"
summary=$(ip netns exec "$SITE_A" "$LAB_PYTHON" - $UNDERLAY_B <<'PY'
import json, os, random, socket, struct, sys, time
random.seed(os.urandom(8))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
kinds = {"random": 0, "our-spi": 0, "our-spi-short": 0, "non-esp-marker": 0, "keepalive": 0, "empty": 0}
for i in range(2000):
    r = random.random()
    if r < 0.40:
        kind, data = "random", os.urandom(random.randint(8, 1500))
    elif r < 0.80:
        kind = "our-spi"      # SPI, seq, then at least an IV and an ICV of junk
        data = struct.pack("!II", 0x00002001, random.getrandbits(32)) + os.urandom(random.randint(24, 1492))
    elif r < 0.90:
        kind = "our-spi-short"  # SPI and seq, but no room for IV and ICV
        data = struct.pack("!II", 0x00002001, random.getrandbits(32)) + os.urandom(random.randint(0, 15))
    elif r < 0.95:
        kind, data = "non-esp-marker", b"\0\0\0\0" + os.urandom(random.randint(0, 1496))
    elif r < 0.975:
        kind, data = "keepalive", b"\xff"
    else:
        kind, data = "empty", b""
    s.sendto(data, (sys.argv[1], 4500))
    kinds[kind] += 1
    time.sleep(0.001)
print(json.dumps(kinds))
PY
) || lab_die "the garbage sender failed"
lab_info "sent: $summary"

wait "${LAB_PID[ping]}" || true
unset "LAB_PID[ping]"
received=$(sed -n 's/.* \([0-9]\+\) received.*/\1/p' "$LAB_DIR/ping.log")
lab_info "ping during the garbage: ${received:-0}/$pings replies"
((${received:-0} >= pings * 95 / 100)) || lab_die "ping lost too much during the garbage: ${received:-0}/$pings"

lab_alive mesh-site-a || lab_die "site-a's mesh-site exited"
lab_alive mesh-site-b || lab_die "site-b's mesh-site exited"
status_after=$(mesh b status --json) || lab_die "site-b's status no longer answers"

# Every numeric field of status that moved, for the log.
"$LAB_PYTHON" - "$status_before" "$status_after" <<'PY' >&2
import json, sys
def flat(v, path=""):
    if isinstance(v, dict):
        for k, x in v.items(): yield from flat(x, f"{path}.{k}" if path else k)
    elif isinstance(v, list):
        for i, x in enumerate(v): yield from flat(x, f"{path}[{i}]")
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        yield path, v
a, b = dict(flat(json.loads(sys.argv[1]))), dict(flat(json.loads(sys.argv[2])))
for k in sorted(b):
    if b[k] != a.get(k) and not k.endswith("age-s") and not k.endswith("uptime-s"):
        print(f"  site-b status: {k}: {a.get(k)} -> {b[k]}")
PY

sa_drops_after=$(lab_json b 'drops("in")')
ours=$("$LAB_PYTHON" -c 'import json,sys; k=json.loads(sys.argv[1]); print(k["our-spi"] + k["our-spi-short"])' "$summary")
lab_info "site-b in SA drops: $sa_drops_before -> $sa_drops_after; garbage naming SA 0x00002001: $ours"
((sa_drops_after - sa_drops_before >= ours)) ||
    lab_die "site-b counted $((sa_drops_after - sa_drops_before)) drops on its in SA, but $ours bad datagrams named it"

# The daemon-wide counters, where this build has them (they are additions to
# the status document of docs/commands.md): each kind of garbage lands in its own.
"$LAB_PYTHON" - "$status_before" "$status_after" "$summary" <<'PY' || lab_die "site-b's daemon-wide counters do not add up"
import json, sys
before, after, sent = (json.loads(a) for a in sys.argv[1:4])
c0, c1 = before.get("counters", {}), after.get("counters", {})
expect = {"unknown-spi-drops": sent["random"], "keepalives": sent["keepalive"],
          "runt-drops": sent["empty"], "ike-datagrams": sent["non-esp-marker"]}
bad = False
for name, want in expect.items():
    if name not in c1:
        print(f"  (site-b status has no counters.{name}: not checked)", file=sys.stderr)
        continue
    got = c1[name] - c0.get(name, 0)
    ok = got == want
    print(f"  counters.{name}: +{got}, sent {want}{'' if ok else '   <-- wrong'}", file=sys.stderr)
    bad |= not ok
sys.exit(1 if bad else 0)
PY

lab_ping_expect "$LAN_A" $HOST_B 10
lab_info "PASS: garbage"
