#!/usr/bin/python3
"""A probe flow for failover measurements (stdlib only).

  probe.py run --peer IP [--port 7777] [--rate 100] --log FILE
      Sends datagrams to PEER:PORT at exactly RATE per second, each carrying
      a sequence number and its send time, and at the same time receives
      the peer's; every datagram received is logged as
      "seq send_time receive_time" (CLOCK_REALTIME, which every namespace
      shares, so the two ends' times compare). Stops on SIGTERM or SIGINT.

  probe.py analyze --rate 100 --events FILE --flow NAME=LOG...
      EVENTS holds lines "TIME cut|restore LABEL". Each gap in a flow's
      sequence numbers is charged to the last event at or before its first
      lost packet was sent. For each event it prints, per flow, the packets
      lost and the time from the event to the first packet received after
      the gap ("recovery"); then, over the cuts, the median and the worst.
      With --csv it prints one line: cuts, recovery median and worst (s),
      lost median and worst (the worse flow of each cut).
      Events of kind "load" (traffic, no cut) print instead, per flow, the
      packets lost and the longest gap after them (--csv: the worse flow's
      lost and longest gap).

Why not ping: `ping -i 0.01` sends ~63 packets a second here (docs/lab.md
"Lab"), and its reply timestamps cannot tell which direction lost a packet.
"""
import argparse
import select
import signal
import socket
import statistics
import struct
import sys
import time

PACKET = struct.Struct("!Qd")  # seq, send time
EPSILON = 0.05  # packets in flight when the cut happens were sent just before it


def run(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", args.port))
    sock.setblocking(False)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    out = open(args.log, "w", buffering=1 << 16)
    period = 1.0 / args.rate
    start = time.monotonic()
    seq = 0
    flushed = start
    while not stop:
        if time.monotonic() - flushed > 0.5:
            out.flush()  # the scenario watches the log grow
            flushed = time.monotonic()
        # Absolute schedule: a late wake-up does not slow the flow down.
        due = start + seq * period
        now = time.monotonic()
        if now >= due:
            try:
                sock.sendto(PACKET.pack(seq, time.time()), (args.peer, args.port))
            except OSError:
                pass  # no route for a moment: that packet is lost, as it should be
            seq += 1
            continue
        wait = due - now
        try:
            ready, _, _ = select.select([sock], [], [], wait)
        except InterruptedError:
            continue
        if ready:
            receive(sock, out)
    out.close()


def receive(sock, out):
    while True:
        try:
            data = sock.recv(64)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # an ICMP error queued on the socket
        if len(data) >= PACKET.size:
            seq, sent = PACKET.unpack_from(data)
            out.write("%d %.6f %.6f\n" % (seq, sent, time.time()))


def load_flow(path):
    records = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3:
                records.append((int(parts[0]), float(parts[1]), float(parts[2])))
    records.sort()
    return records


def gaps(records, period):
    """(first lost send time, lost, receive time of the packet after the gap)"""
    for (s1, t1, _), (s2, _, r2) in zip(records, records[1:]):
        if s2 > s1 + 1:
            yield t1 + period, s2 - s1 - 1, r2


def analyze(args):
    events = []
    with open(args.events) as f:
        for line in f:
            parts = line.split(None, 2)
            if len(parts) >= 2:
                events.append((float(parts[0]), parts[1], parts[2].strip() if len(parts) > 2 else ""))
    events.sort()
    period = 1.0 / args.rate
    flows = []
    for spec in args.flow:
        name, _, path = spec.partition("=")
        flows.append((name, load_flow(path)))
    # result[event index][flow name] = [lost, recovery, longest gap]
    result = [{name: [0, 0.0, 0.0] for name, _ in flows} for _ in events]
    before = 0
    for name, records in flows:
        if not records:
            sys.exit("probe: flow %s received nothing" % name)
        for first_lost, lost, back in gaps(records, period):
            owner = None
            for i, (t, _, _) in enumerate(events):
                if t <= first_lost + EPSILON:
                    owner = i
            if owner is None:
                before += lost
                continue
            entry = result[owner][name]
            entry[0] += lost
            entry[1] = max(entry[1], back - events[owner][0])
            entry[2] = max(entry[2], back - first_lost)
        # A flow that never came back after its last event.
        last_rx = records[-1][2]
        for i, (t, _, _) in enumerate(events):
            if last_rx < t:
                result[i][name] = [-1, float("inf"), float("inf")]
    cut_recovery, cut_lost, load = [], [], []
    for (t, kind, label), per_flow in zip(events, result):
        parts = []
        for name, _ in flows:
            lost, rec, gap = per_flow[name]
            if lost < 0:
                parts.append("%s never recovered" % name)
            elif lost == 0:
                parts.append("%s no loss" % name)
            elif kind == "load":
                parts.append("%s %d lost, longest gap %.3f s" % (name, lost, gap))
            else:
                text = "%s %.3f s, %d lost" % (name, rec, lost)
                later = [e for e in events if e[0] > t]
                if later and t + rec > later[0][0]:
                    # No other path: traffic came back only after the restore.
                    text += " (%.3f s after the %s)" % (t + rec - later[0][0], later[0][1])
                parts.append(text)
        if kind == "cut":
            cut_recovery.append(max(v[1] for v in per_flow.values()))
            cut_lost.append(max(v[0] if v[0] >= 0 else float("inf") for v in per_flow.values()))
        if kind == "load":
            load.append(max((v[0] if v[0] >= 0 else float("inf"), v[2]) for v in per_flow.values()))
        if not args.csv:
            print("  %-7s %-14s %s" % (kind, label, "; ".join(parts)))
    if before and not args.csv:
        print("  (%d packets lost before the first cut)" % before)
    if not cut_recovery and load:
        lost, gap = max(load)
        if args.csv:
            print("%s,%.3f" % ("%d" % lost if lost != float("inf") else "all", gap))
        return
    if not cut_recovery:
        sys.exit("probe: no cut in %s" % args.events)
    rec_med, rec_max = statistics.median(cut_recovery), max(cut_recovery)
    lost_med, lost_max = statistics.median(cut_lost), max(cut_lost)
    def count(x):  # a flow that never came back lost an unknown number
        return "%d" % x if x != float("inf") else "all"
    if args.csv:
        print("%d,%.3f,%.3f,%s,%s" % (len(cut_recovery), rec_med, rec_max, count(lost_med), count(lost_max)))
    else:
        print("  over %d cuts (worse direction of each): recovery median %.3f s, worst %.3f s;"
              " lost median %s, worst %s" % (len(cut_recovery), rec_med, rec_max, count(lost_med), count(lost_max)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--peer", required=True)
    r.add_argument("--port", type=int, default=7777)
    r.add_argument("--rate", type=float, default=100)
    r.add_argument("--log", required=True)
    a = sub.add_parser("analyze")
    a.add_argument("--rate", type=float, default=100)
    a.add_argument("--events", required=True)
    a.add_argument("--flow", action="append", required=True)
    a.add_argument("--csv", action="store_true")
    args = p.parse_args()
    run(args) if args.command == "run" else analyze(args)


if __name__ == "__main__":
    main()
