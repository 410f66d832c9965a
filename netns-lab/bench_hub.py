#!/usr/bin/python3
"""The measuring half of netns-lab/bench-hub.sh (stdlib only).

  bench_hub.py ping --spokes FILE --dest IP --hub-pid PID --timeout S
                    [--interval S] [--ready FILE]
      FILE holds one spoke a line, "NAMESPACE SOURCE": a raw ICMP socket is
      opened in that namespace (setns), bound to SOURCE (the spoke's inner
      address, so the echo goes through its tunnel). Once all are open it
      writes FILE --ready (the script then starts the spokes), and from then
      on sends each spoke that has had no reply an echo every --interval,
      until every spoke has had one or --timeout passes. Prints one JSON
      object:
        up_s          per spoke, seconds from the start to its first reply
                      (null: none came)
        hub_cpu_s     the hub's CPU seconds (user + system, every thread)
                      from the start until the last spoke answered
        hub_rss_kb    the hub's VmRSS before the start and at that moment

  bench_hub.py cpu PID       utime + stime of PID, seconds
  bench_hub.py rss PID       VmRSS of PID, kB
  bench_hub.py table FILE    the results (one JSON object a line, one per
                             hub and spoke count) as one table per count,
                             the two hubs side by side with their ratio

Why ping and not the hub's view: a reply through the tunnel needs the IKE SA,
the CHILD SA on both ends and both data planes, and is measured the same way
whatever the hub is; polling a hub's status would also cost the hub CPU
during the set-up being measured.
"""

import argparse
import ctypes
import json
import os
import resource
import select
import socket
import statistics
import struct
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
CLONE_NEWNET = 0x40000000


def process_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def process_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(ident, seq):
    body = struct.pack("!d", time.time())
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    return struct.pack("!BBHHH", 8, 0, checksum(header + body), ident, seq) + body


def open_sockets(spokes):
    """One raw ICMP socket per spoke, made inside the spoke's namespace."""
    libc = ctypes.CDLL(None, use_errno=True)
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    current = None
    socks = []
    try:
        for ns, source in spokes:
            if ns != current:
                fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns {ns}")
                os.close(fd)
                current = ns
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
            s.setblocking(False)
            s.bind((source, 0))
            socks.append(s)
    finally:
        libc.setns(home, CLONE_NEWNET)
        os.close(home)
    return socks


def ping(args):
    spokes = []
    with open(args.spokes) as f:
        for line in f:
            if line.strip():
                ns, source = line.split()
                spokes.append((ns, source))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    socks = open_sockets(spokes)
    poller = select.epoll()
    index = {}
    for i, s in enumerate(socks):
        poller.register(s.fileno(), select.EPOLLIN)
        index[s.fileno()] = i
    up = [None] * len(socks)
    waiting = set(range(len(socks)))
    rss_before = process_rss_kb(args.hub_pid)
    cpu_start = process_cpu(args.hub_pid)
    start = time.monotonic()
    if args.ready:
        with open(args.ready, "w") as f:
            f.write("ready\n")
    seq = 0
    next_send = start
    cpu_end = None
    while waiting and time.monotonic() - start < args.timeout:
        now = time.monotonic()
        if now >= next_send:
            seq = (seq + 1) & 0xFFFF
            for i in waiting:
                try:
                    socks[i].sendto(echo_request(i & 0xFFFF, seq), (args.dest, 0))
                except OSError:
                    pass   # no route or a blackhole before the tunnel is up
            next_send = now + args.interval
        for fd, _ in poller.poll(max(0.0, next_send - time.monotonic())):
            i = index[fd]
            while True:
                try:
                    packet = socks[i].recv(2048)
                except BlockingIOError:
                    break
                ihl = (packet[0] & 15) * 4
                if len(packet) >= ihl + 8 and packet[ihl] == 0 and socket.inet_ntoa(packet[12:16]) == args.dest:
                    if up[i] is None:
                        up[i] = time.monotonic() - start
                        waiting.discard(i)
        if not waiting:
            cpu_end = process_cpu(args.hub_pid)
    if cpu_end is None:
        cpu_end = process_cpu(args.hub_pid)
    print(json.dumps({"up_s": up, "hub_cpu_s": cpu_end - cpu_start,
                      "hub_rss_kb": [rss_before, process_rss_kb(args.hub_pid)]}))


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(round(p / 100 * len(values) + 0.5)) - 1))]


def rows_of(r):
    """The table's rows for one run: (label, value as text, value for the ratio)."""
    n = r["spokes"]
    up = [t for t in r["up_s"] if t is not None]
    rows = []
    def add(label, value, fmt="%.2f"):
        rows.append((label, "-" if value is None else (fmt % value if fmt else str(value)), value))
    add("spokes up (ping through the tunnel)", len(up), "%d")
    add("time to up: first, s", min(up) if up else None)
    add("time to up: median, s", statistics.median(up) if up else None)
    add("time to up: 90th percentile, s", percentile(up, 90) if up else None)
    add("time to up: all, s", max(up) if len(up) == n else None)
    add("hub CPU during set-up, s", r["hub_cpu_s"])
    add("hub CPU idle, s per minute", r["idle_cpu_s_per_min"], "%.3f")
    add("idle CPU per 1000 spokes, % of a core", r["idle_cpu_s_per_min"] / 60 * 100 * 1000 / n, "%.2f")
    before, after = r["hub_rss_kb"]
    add("hub RSS before the spokes, MB", before / 1024)
    add("hub RSS all up, MB", after / 1024)
    add("hub RSS per spoke, KB", (after - before) / n, "%.1f")
    for key, label in (("ike_sas", "IKE SAs at the hub after --idle"),
                       ("child_sas", "CHILD SAs at the hub after --idle"),
                       ("init_answers", "IKE_SA_INITs answered with a KE"),
                       ("retransmits_in", "retransmitted requests the hub saw, set-up"),
                       ("cookies", "COOKIEs sent by the hub"),
                       ("auth_failures", "AUTH failures (hub)"),
                       ("peers_dead", "peers declared dead by the hub's DPD"),
                       ("spoke_retransmits", "IKE retransmits (spokes)"),
                       ("reinitiations", "re-initiations (spokes)"),
                       ("queue_drops", "IKE datagrams the hub dropped, set-up"),
                       ("idle_queue_drops", "IKE datagrams the hub dropped, idle")):
        add(label, r["counts"].get(key), "%d")
    add("status latency, ms (status --json / swanctl --list-sas)", r["status_ms"], "%.1f")
    return rows


def table(args):
    runs = [json.loads(line) for line in open(args.file) if line.strip()]
    for n in sorted({r["spokes"] for r in runs}):
        mesh = [r for r in runs if r["spokes"] == n and r["hub"] == "mesh-site"]
        swan = [r for r in runs if r["spokes"] == n and r["hub"] == "strongswan"]
        if not mesh and not swan:
            continue
        first = (mesh or swan)[0]
        print(f"\n{n} spokes ({first['spoke_kind']}), mesh-site hub: {first.get('hub_config', '-')}, "
              f"{first['cpus']} CPUs, load before {first['load']}")
        m = rows_of(mesh[0]) if mesh else None
        s = rows_of(swan[0]) if swan else None
        labels = [row[0] for row in (m or s)]
        width = max(len(label) for label in labels)
        print(f"{'':<{width}} {'mesh-site':>11} {'strongSwan':>11} {'ratio':>7}")
        for i, label in enumerate(labels):
            mv = m[i] if m else (label, "-", None)
            sv = s[i] if s else (label, "-", None)
            ratio = "-"
            if isinstance(mv[2], (int, float)) and isinstance(sv[2], (int, float)) and sv[2]:
                ratio = "%.2f" % (mv[2] / sv[2])
            print(f"{label:<{width}} {mv[1]:>11} {sv[1]:>11} {ratio:>7}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ping")
    p.add_argument("--spokes", required=True)
    p.add_argument("--dest", required=True)
    p.add_argument("--hub-pid", type=int, required=True)
    p.add_argument("--timeout", type=float, required=True)
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--ready")
    for name in ("cpu", "rss"):
        sub.add_parser(name).add_argument("pid", type=int)
    sub.add_parser("table").add_argument("file")
    args = parser.parse_args()
    if args.command == "ping":
        ping(args)
    elif args.command == "cpu":
        print("%.2f" % process_cpu(args.pid))
    elif args.command == "rss":
        print(process_rss_kb(args.pid))
    else:
        table(args)


if __name__ == "__main__":
    sys.exit(main())
