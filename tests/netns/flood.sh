#!/usr/bin/env bash
# A flood of garbage at one site's IKE and NAT-T ports while pings cross the
# tunnel: nothing lost, everything counted, memory and log bounded.
#
#   lan-a --- ping -i 0.01 (100/s) -------------------------------> lan-b
#   site-a 192.0.2.1:500,4500 <--- flood.py from 192.0.2.3 --- site-b
#                                  (an address no peer has)
#
# For FLOOD_SECONDS (default 20) about FLOOD_RATE (default 10000) datagrams a
# second of every kind tests/netns/flood.py knows: random bytes (0-1500, a
# few up to 65000), malformed IKE (bad Length, SPIi 0, unknown critical
# payloads, other major versions, truncated, no KE, SPIs of no IKE SA) at 500
# and, after the non-ESP marker, at 4500, and ESP at 4500 (unknown SPIs,
# short ones, bad ICVs for the tunnel's real inbound SPI, keepalives). Then:
#   - 0 pings lost;
#   - then, site a stopped (SIGSTOP), a burst beyond its receive buffers: the
#     kernel drops it counts (SO_MEMINFO) are more than 0 at each port;
#   - site a accounts for every datagram sent, exactly: IKE messages in
#     (each malformed, init-no-peer or unknown-spi), the pump's drops by
#     reason (runt, unknown SPI, keepalive, misrouted, claimed), the real SA's
#     auth/replay/malformed drops, and the datagrams the kernel dropped on a
#     full socket (SO_MEMINFO, status "sockets"); the SA's packets are the
#     ping replies;
#   - site a's resident memory grew by less than 16 MiB;
#   - site a's log grew by about one line a second per reason (at most 6 a
#     second over the flood).
# The figures (rate, counters, RSS, log lines) are printed for the record.
# FLOOD_SEED fixes the garbage (printed on failure).
#
# usage: tests/netns/flood.sh [MESH_SITE_BINARY]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../netns-lab/lib.sh"
lab_init ping
lab_find_binary "${1:-}"

seconds=${FLOOD_SECONDS:-20}
rate=${FLOOD_RATE:-10000}
seed=${FLOOD_SEED:-$((RANDOM * 32768 + RANDOM))}
flood_die() { lab_die "$* (FLOOD_SEED=$seed)"; }

lab_two_site_topology
lab_write_ike_configs
# No DPD or rekey exchange during the count: every IKE message in is garbage.
sed -i '/^\[profile.default\]/a dpd-interval = "1h"' "$LAB_DIR/site-a.toml" "$LAB_DIR/site-b.toml"
n "$SITE_B" ip addr add 192.0.2.3/24 dev wan0
lab_ike_site_start a
lab_ike_site_start b
lab_wait_settled
lab_ping_expect "$LAN_A" "$HOST_B" 5
real_spi=$(lab_json a 'sas("in")[0]["spi"]')
lab_counters_settle a

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/${LAB_PID[mesh-site-a]}/status"; }
log_lines() { wc -l <"$LAB_DIR/mesh-site-a.log"; }
status_before=$(mesh a status --json)
rss_before=$(rss_kib)
lines_before=$(log_lines)

pings=$((100 * (seconds + 3)))
lab_bg ping "$LAN_A" ping -n -q -c "$pings" -i 0.01 -W 2 "$HOST_B"
sleep 1
pretty "$SITE_B" "flood.py: ${seconds}s at ~${rate}/s from 192.0.2.3 to $UNDERLAY_A:500,4500 (seed $seed)"
flood=$(ns_exec "$SITE_B" "$LAB_PYTHON" "$here/flood.py" "$UNDERLAY_A" 192.0.2.3 "$seconds" "$rate" "$real_spi" "$seed") ||
    flood_die "the flood sender failed"
lab_info "sent: $flood"
lines_after_flood=$(log_lines)
# ping ends on its own (-c, -W); a loaded machine stretches its 10 ms
# interval, so the bound only catches a ping that hangs.
lab_wait 180 "the pings to end" bash -c "! kill -0 ${LAB_PID[ping]} 2>/dev/null"
received=$(sed -n 's/.* \([0-9]\+\) received.*/\1/p' "$LAB_DIR/ping.log")
lab_alive mesh-site-a || flood_die "site a's mesh-site exited during the flood"

# A daemon that stops reading for a moment (a busy machine) loses datagrams in
# the kernel once its 16 MiB receive buffers are full: stopped, site a gets
# 15,000 datagrams of 1400 random bytes at each port, more than the buffers
# hold, and must count the kernel's drops (SO_MEMINFO, on every socket of the
# NAT-T port's group) with the rest. One more datagram at each port, once it
# reads again, shows it reads again.
burst=15000
pretty "" "kill -STOP mesh-site (site a); $burst datagrams of 1400 bytes at each port; kill -CONT"
kill -STOP "${LAB_PID[mesh-site-a]}"
ns_exec "$SITE_B" "$LAB_PYTHON" - "$UNDERLAY_A" "$burst" "$seed" <<'PY' || { kill -CONT "${LAB_PID[mesh-site-a]}"; flood_die "the burst failed"; }
import random, socket, sys
rng = random.Random(int(sys.argv[3]))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.3", 0))
for _ in range(int(sys.argv[2])):
    s.sendto(rng.randbytes(1400), (sys.argv[1], 500))
    s.sendto(b"\x01" + rng.randbytes(1399), (sys.argv[1], 4500))   # never a marker: ESP for no SA
PY
kill -CONT "${LAB_PID[mesh-site-a]}"
sleep 1
ns_exec "$SITE_B" "$LAB_PYTHON" - "$UNDERLAY_A" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.3", 0))
s.sendto(b"\x01\x02\x03\x04\x00\x00\x00\x01", (sys.argv[1], 4500))
s.sendto(b"\x01" * 30, (sys.argv[1], 500))
PY

# Accounted datagrams (the IKE and SA counters move on the control thread
# and the workers): read until two readings 0.5 s apart agree.
account() {
    "$LAB_PYTHON" - "$status_before" "$(mesh a status --json)" "$flood" "$received" "$burst" <<'PY'
import json, sys
before, after, flood = (json.loads(a) for a in sys.argv[1:4])
replies = int(sys.argv[4] or 0)
def delta(*path):
    def get(d):
        for p in path:
            d = d.get(p, {}) if isinstance(d, dict) else {}
        return d if isinstance(d, int) else 0
    return get(after) - get(before)
def sa_in(field):
    def total(d):
        return sum(s.get(field, 0) for t in d["tunnels"] for s in t["sas"] if s["direction"] == "in")
    return total(after) - total(before)
parts = {
    "ike messages-in": delta("counters", "ike", "messages-in"),
    "kernel drops :500": delta("sockets", "ike", "kernel-drops"),
    "kernel drops :4500": delta("sockets", "esp-in-udp", "kernel-drops"),
    "kernel drops :4500 priority": delta("sockets", "esp-in-udp-priority", "kernel-drops"),
    "keepalives": delta("counters", "keepalives"),
    "runt-drops": delta("counters", "runt-drops"),
    "unknown-spi-drops": delta("counters", "unknown-spi-drops"),
    "misrouted-drops": delta("counters", "misrouted-drops"),
    "claim-drops": delta("counters", "claim-drops"),
    "sa auth-drops": sa_in("auth-drops"),
    "sa replay-drops": sa_in("replay-drops"),
    "sa malformed-drops": sa_in("malformed-drops"),
    "sa packets": sa_in("packets"),
}
reasons = {k: delta("counters", "ike", k) for k in ("malformed", "init-no-peer", "unknown-spi", "init-refused",
                                                     "cookies-sent", "no-proposal-chosen")}
sent = flood["sent"] + 2 * int(sys.argv[5]) + 2   # the burst at each port, and the two that bring the totals
print(json.dumps({"sent": sent, "flood": flood["sent"], "burst": 2 * int(sys.argv[5]), "replies": replies, "accounted": sum(parts.values()), "parts": parts,
                  "ike-reasons": reasons, "ike-datagrams": delta("counters", "ike-datagrams")}))
PY
}
previous='' current=''
for ((i = 0; i < 60; i++)); do
    current=$(account)
    [[ $current == "$previous" ]] && break
    previous=$current
    sleep 0.5
done
rss_after=$(rss_kib)
lines_after=$(log_lines)
grown=$((rss_after - rss_before))
flood_lines=$((lines_after_flood - lines_before))

lab_info "figures: $("$LAB_PYTHON" -c 'import json,sys; f=json.loads(sys.argv[1]); print("%d datagrams in %.1f s (%d/s)" % (f["sent"], f["seconds"], f["rate"]))' "$flood")"
lab_info "figures: pings $received/$pings; site a resident memory ${rss_before} -> ${rss_after} KiB (+${grown}); log lines during the flood $flood_lines, in all since it began $((lines_after - lines_before))"
lab_info "figures: counters $current"
lab_info "site a's log lines during the flood, by reason:"
tail -n +"$((lines_before + 1))" "$LAB_DIR/mesh-site-a.log" | head -n "$flood_lines" |
    sed -E 's/^[0-9T:.-]+ +//; s/[0-9]+(\.[0-9]+){3}(:[0-9]+)?/ADDR/g; s/0x[0-9a-f]+/SPI/g; s/ \([0-9]+ more suppressed.*//; s/\(type [0-9]+\)/(type N)/; s/major version [0-9]+/major version N/; s/ sent\)/)/' |
    sort | uniq -c | sort -rn >&2

"$LAB_PYTHON" - "$current" "$pings" <<'PY' || flood_die "site a's counters do not account for the flood"
import json, sys
c, pings = json.loads(sys.argv[1]), int(sys.argv[2])
ok = True
def check(cond, text):
    global ok
    print(("  ok:    " if cond else "  WRONG: ") + text, file=sys.stderr)
    ok &= cond
p = c["parts"]
check(c["accounted"] == c["sent"] + c["replies"],
      "every datagram accounted for: %d counted = %d sent + %d ping replies" % (c["accounted"], c["sent"], c["replies"]))
check(p["sa packets"] == c["replies"], "the SA's packets are the ping replies: %d" % p["sa packets"])
check(p["kernel drops :500"] > 0 and p["kernel drops :4500"] > 0,
      "the stopped daemon's kernel drops are counted: %d at 500, %d at 4500"
      % (p["kernel drops :500"], p["kernel drops :4500"]))
r = c["ike-reasons"]
check(p["ike messages-in"] == r["malformed"] + r["init-no-peer"] + r["unknown-spi"],
      "every IKE message in has its reason: %d = malformed %d + init-no-peer %d + unknown-spi %d"
      % (p["ike messages-in"], r["malformed"], r["init-no-peer"], r["unknown-spi"]))
sys.exit(0 if ok else 1)
PY
((received == pings)) || flood_die "pings lost during the flood: $received of $pings replies"
((grown < 16384)) || flood_die "site a's memory grew by ${grown} KiB over the flood (bound: 16 MiB)"
max_lines=$((6 * (seconds + 2)))
((flood_lines <= max_lines)) || flood_die "site a logged $flood_lines lines during a ${seconds}s flood (bound: $max_lines)"
lab_alive mesh-site-a || flood_die "site a's mesh-site exited"
lab_tunnel_up a || flood_die "site a's tunnel is not up after the flood"
lab_info "PASS: flood"
