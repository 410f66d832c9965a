#!/usr/bin/python3
"""One measured run of netns-lab/bench-throughput.sh (stdlib only).

  bench_run.py iperf --ns NS --dest IP --seconds N --lab NS1,NS2,...
                     [--ping-load] [-- IPERF3_ARGS...]
      Runs `iperf3 -c IP -t N -J` in NS and prints one JSON object:
        gbps, bytes        received by the server (sum_received)
        lost_percent       UDP only (-u): the datagrams lost
        lab_cpu_s          CPU time (user + system) spent meanwhile by every
                           process in the lab's namespaces (VPN daemons,
                           iperf3 server and client, charon...) and by the
                           kernel's ksoftirqd threads
        host_cpu_s         the whole machine's busy time from /proc/stat
                           (user, nice, system, irq, softirq) over the run
        rtt_load_ms        with --ping-load: the average ping RTT from NS to
                           IP while iperf3 runs (5 pings a second)
        rtt_load_max_ms    with --ping-load: the slowest of those pings
        ping_lost_percent  with --ping-load: pings that got no reply within 1 s

  bench_run.py iperf-many --ns NS --flows BIND/DEST/PORT,... --seconds N
                          --lab NS1,NS2,... [-- IPERF3_ARGS...]
      The same with one iperf3 client per flow, all at once (`-B BIND -c
      DEST -p PORT`): gbps and bytes are their sum, min_gbps and max_gbps
      the slowest and fastest flow; window_gbps, window_min_gbps and
      window_max_gbps the same over the window_s seconds all of them ran.

  bench_run.py rtt --ns NS --dest IP [--count 20]
      Prints the average ping RTT in ms with no load (0 when none came back).

Why two CPU figures: the lab's own processes are what a comparison of VPNs
wants, and with tick-based accounting (no CONFIG_IRQ_TIME_ACCOUNTING) the
softirq work of the veth and TUN paths is charged to the task it interrupts,
so they include the kernel's share; /proc/stat also counts whatever else the
machine is doing, which on a quiet machine is nothing, and on a shared one
is a warning sign when the two differ.
"""

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def netns_inode(name):
    return os.stat(f"/run/netns/{name}").st_ino


def process_ticks(pid):
    """utime + stime of a whole process (all its threads), in ticks."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def lab_ticks(inodes):
    """CPU ticks of every process in the given namespaces, and of ksoftirqd."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            inode = os.stat(f"/proc/{entry}/ns/net").st_ino
            with open(f"/proc/{entry}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if inode in inodes or comm.startswith("ksoftirqd/"):
            total += process_ticks(entry)
    return total


def host_busy_ticks():
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = values[:7]
    return user + nice + system + irq + softirq


def ping_summary(output):
    """avg and max RTT in ms (0 when no reply came) and the loss in %."""
    rtt = re.search(r"= [\d.]+/([\d.]+)/([\d.]+)/", output)
    loss = re.search(r"([\d.]+)% packet loss", output)
    return {"avg": float(rtt.group(1)) if rtt else 0.0, "max": float(rtt.group(2)) if rtt else 0.0,
            "lost_percent": float(loss.group(1)) if loss else 100.0}


def ping(ns, dest, count, interval):
    out = subprocess.run(
        ["ip", "netns", "exec", ns, "ping", "-n", "-q", "-c", str(count), "-i", str(interval), "-W", "1", dest],
        capture_output=True, text=True, check=False).stdout
    return ping_summary(out)


def run_iperf(args):
    command = ["ip", "netns", "exec", args.ns, "iperf3", "-c", args.dest, "-t", str(args.seconds), "-J"]
    command += args.iperf_args
    result, reports = measure(args, [command])
    if "-u" in args.iperf_args:
        result["lost_percent"] = reports[0]["end"]["sum"].get("lost_percent", 0.0)
    print(json.dumps(result))


def run_iperf_many(args):
    commands = []
    for flow in args.flows.split(","):
        bind, dest, port = flow.split("/")
        commands.append(["ip", "netns", "exec", args.ns, "iperf3", "-B", bind, "-c", dest, "-p", port,
                         "-t", str(args.seconds), "-J"] + args.iperf_args)
    starts = []
    result, reports = measure(args, commands, starts)
    flows = [r["end"]["sum_received"]["bits_per_second"] / 1e9 for r in reports]
    result["min_gbps"], result["max_gbps"] = min(flows), max(flows)
    window = common_window(reports, starts, args.seconds)
    if window:
        result["window_s"], result["window_gbps"], result["window_min_gbps"], result["window_max_gbps"] = window
    print(json.dumps(result))


def common_window(reports, starts, seconds):
    """The clients start one after the other (a second or more for 100 of
    them on a loaded machine) and each runs its own `seconds`: the first
    ones run alone for a while and the last ones end alone. Each flow's
    rate over the span all of them ran, from their one-second intervals
    (bytes sent), placed by when each was started: (span in seconds,
    aggregate, slowest, fastest Gbit/s), or None when there is no such span."""
    begin = max(starts) + 0.5
    end = min(starts) + seconds - 0.5
    if end - begin < 1:
        return None
    rates = []
    for report, start in zip(reports, starts):
        sent = 0.0
        for interval in report["intervals"]:
            a, b = start + interval["sum"]["start"], start + interval["sum"]["end"]
            overlap = min(b, end) - max(a, begin)
            if overlap > 0 and b > a:
                sent += interval["sum"]["bytes"] * overlap / (b - a)
        rates.append(sent * 8 / (end - begin) / 1e9)
    return end - begin, sum(rates), min(rates), max(rates)


def measure(args, commands, starts=None):
    """Runs the iperf3 clients at once: the summed result and their reports;
    appends when each was started (time.monotonic()) to starts."""
    inodes = {netns_inode(name) for name in args.lab.split(",")}

    rtt = {}
    pinger = None
    if getattr(args, "ping_load", False):
        # Starts a second into the run and ends a second before it, so every
        # ping meets a queue under load.
        def ping_under_load():
            time.sleep(1)
            rtt.update(ping(args.ns, args.dest, max(1, (args.seconds - 2) * 5), 0.2))
        pinger = threading.Thread(target=ping_under_load)

    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    lab_before, host_before = lab_ticks(inodes), host_busy_ticks()
    clients = []
    for command in commands:
        if starts is not None:
            starts.append(time.monotonic())
        clients.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    if pinger:
        pinger.start()
    outputs = [client.communicate()[0] for client in clients]
    if pinger:
        pinger.join()
    lab_after, host_after = lab_ticks(inodes), host_busy_ticks()
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    for client, output, command in zip(clients, outputs, commands):
        if client.returncode != 0:
            sys.stderr.write(output[-2000:])
            sys.exit(f"bench_run.py: {' '.join(command[4:])} from {args.ns} failed")

    # The client and the pings ended before the second sample: their CPU
    # comes from this process's reaped children instead.
    children = (children_after.ru_utime - children_before.ru_utime) + \
               (children_after.ru_stime - children_before.ru_stime)
    reports = [json.loads(output) for output in outputs]
    received = [report["end"]["sum_received"] for report in reports]
    result = {
        "gbps": sum(r["bits_per_second"] for r in received) / 1e9,
        "bytes": sum(r["bytes"] for r in received),
        "lab_cpu_s": (lab_after - lab_before) / CLK_TCK + children,
        "host_cpu_s": (host_after - host_before) / CLK_TCK,
    }
    if getattr(args, "ping_load", False):
        result["rtt_load_ms"] = rtt.get("avg", 0.0)
        result["rtt_load_max_ms"] = rtt.get("max", 0.0)
        result["ping_lost_percent"] = rtt.get("lost_percent", 100.0)
    return result, reports


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("iperf")
    p.add_argument("--ns", required=True)
    p.add_argument("--dest", required=True)
    p.add_argument("--seconds", type=int, required=True)
    p.add_argument("--lab", required=True, help="the lab's namespaces, comma-separated")
    p.add_argument("--ping-load", action="store_true")
    p.add_argument("iperf_args", nargs=argparse.REMAINDER)
    m = sub.add_parser("iperf-many")
    m.add_argument("--ns", required=True)
    m.add_argument("--flows", required=True, help="BIND/DEST/PORT,...")
    m.add_argument("--seconds", type=int, required=True)
    m.add_argument("--lab", required=True, help="the lab's namespaces, comma-separated")
    m.add_argument("iperf_args", nargs=argparse.REMAINDER)
    r = sub.add_parser("rtt")
    r.add_argument("--ns", required=True)
    r.add_argument("--dest", required=True)
    r.add_argument("--count", type=int, default=20)
    args = parser.parse_args()
    if args.command in ("iperf", "iperf-many"):
        if args.iperf_args[:1] == ["--"]:
            args.iperf_args = args.iperf_args[1:]
        (run_iperf if args.command == "iperf" else run_iperf_many)(args)
    else:
        print("%.3f" % ping(args.ns, args.dest, args.count, 0.05)["avg"])


if __name__ == "__main__":
    main()
