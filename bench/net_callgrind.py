#!/usr/bin/env python3
"""bench/net_callgrind.py — where an echo server's time goes, in
instructions.

    bench/net_callgrind.py BUILD_DIR [--trips N] [--conns C] [--only NAME]...
                           [--keep DIR] [--top K]

Runs each echo server under valgrind --tool=callgrind, driven by
bench_echo_client's ping-pong (--conns connections, default 50, 64 B), as
bench/parts/callgrind.py does for RESULTS.md: twice, N and 2 N round trips;
the difference of the two runs' instruction counts divided by N is the
user-space cost of one round trip, without the start-up and shut-down that
both runs share. Prints one line per server, then the functions that make up
the 2 N run's profile (callgrind_annotate, self cost), so two servers can be
put side by side. The kernel's side of the system calls (read, write,
epoll_wait) is not counted: the counts are what the servers' own code and
their libraries add on top of the system calls.

Under valgrind the server runs ~50 times slower than the client, so each
wake-up finds many connections ready and the per-wake-up cost (the poll,
the loop's pass) is spread thin; --conns 1 shows the other end, one
round trip per wake-up.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in bench/
from parts import callgrind, common  # noqa: E402


def top_functions(path, k):
    """The k functions with the most instructions (self cost) in a
    callgrind output file, as callgrind_annotate prints them."""
    ann = subprocess.run(["callgrind_annotate", path], capture_output=True,
                         text=True).stdout
    rows = [ln for ln in ann.splitlines()
            if re.match(r"^\s*[\d,]+ \(\s*[\d.]+%\)\s+\S", ln)]
    return [ln.strip()[:110] for ln in rows[1:k + 1]]  # rows[0]: the total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--trips", type=int, default=20000)
    ap.add_argument("--conns", type=int, default=50)
    ap.add_argument("--only", action="append",
                    help="a server by name (uv/protocol, ev/native, "
                         "epoll/floor, ...)")
    ap.add_argument("--keep", help="keep the callgrind files here")
    ap.add_argument("--top", type=int, default=12)
    a = ap.parse_args()
    ctx = common.Ctx(a.build, False, 1)
    client = ctx.prog("bench_echo_client")
    d = a.keep or tempfile.mkdtemp(prefix="net_callgrind.")
    os.makedirs(d, exist_ok=True)
    cpu = common.NET_CPUS[1] if common.NET_CPUS else 0
    for backend, who, argv in callgrind.echo_servers(ctx):
        name = f"{backend}/{who}"
        if a.only and name not in a.only:
            continue
        tag = f"{backend}_{who}"
        per, err = callgrind.measure(
            lambda n, out, cpu, argv=argv: callgrind.run_echo(
                argv, client, n, a.conns, out, cpu),
            a.trips, d, tag, cpu)
        if per is None:
            print(f"{name:18s} failed: {err}", flush=True)
            continue
        print(f"{name:18s} {per:9.0f} instructions per round trip",
              flush=True)
        for ln in top_functions(os.path.join(d, tag + ".2.out"), a.top):
            print("    " + ln)
    if not a.keep:
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        os.rmdir(d)


if __name__ == "__main__":
    main()
