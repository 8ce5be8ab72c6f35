#!/usr/bin/env python3
"""bench/net_callgrind.py — where an echo server's time goes, in instructions.

    bench/net_callgrind.py BUILD_DIR [--trips N] [--conns C] [--only NAME]...
                           [--keep DIR] [--top K]

Runs each echo server (as bench/run.py's network section does) under
valgrind --tool=callgrind, driven by bench_echo_client's ping-pong (--conns
connections, default 50, 64 B), twice: N and 2 N round trips. The difference of the two
runs' instruction counts divided by N is the user-space cost of one round
trip, without the start-up and shut-down that both runs share. Prints one
line per server, then the functions that make up the 2 N run's profile
(callgrind_annotate, inclusive of nothing: self cost), so two servers can be
put side by side. CPU time in the kernel (read, write, epoll_wait) is not
counted by callgrind: the counts are what the servers' own code and their
libraries add on top of the system calls.

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
from run import ENGINES, Server  # noqa: E402


def servers(bindir):
    srv = os.path.join(bindir, "bench_echo_server")
    S = [("epoll/floor", [os.path.join(bindir, "native_echo_epoll")])]
    for e in ["builtin"] + ENGINES:
        for style in ("protocol", "streams"):
            S.append((f"{e}/{style}", [srv, "--backend", e, "--style", style]))
        native = os.path.join(bindir, "native_echo_" + e)
        if os.path.exists(native):
            S.append((f"{e}/native", [native]))
    return S


def total_ir(path):
    """The "summary:" or "totals:" line of a callgrind output file."""
    for line in open(path):
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError("no totals in " + path)


def profile(bindir, argv, trips, conns, out):
    """Instructions of one run of `trips` round trips (valgrind'd server)."""
    vg = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    srv = Server(vg + argv + ["--once"])
    subprocess.run([os.path.join(bindir, "bench_echo_client"), "pingpong",
                    str(srv.port), "--trips", str(trips), "--warmup", "10",
                    "--conns", str(conns)],
                   check=True, capture_output=True, timeout=600)
    srv.p.wait(timeout=120)  # --once: it ends when the client is gone
    return total_ir(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--trips", type=int, default=20000)
    ap.add_argument("--conns", type=int, default=50)
    ap.add_argument("--only", action="append",
                    help="a server by name (uv/protocol, ev/native, ...)")
    ap.add_argument("--keep", help="keep the callgrind files here")
    ap.add_argument("--top", type=int, default=12)
    a = ap.parse_args()
    bindir = os.path.join(a.build, "bin")
    d = a.keep or tempfile.mkdtemp(prefix="net_callgrind.")
    os.makedirs(d, exist_ok=True)
    for name, argv in servers(bindir):
        if a.only and name not in a.only:
            continue
        tag = name.replace("/", "_")
        f1, f2 = (os.path.join(d, f"{tag}.{k}.out") for k in (1, 2))
        ir1 = profile(bindir, argv, a.trips, a.conns, f1)
        ir2 = profile(bindir, argv, 2 * a.trips, a.conns, f2)
        print(f"{name:18s} {(ir2 - ir1) / a.trips:9.0f} instructions per "
              f"round trip", flush=True)
        ann = subprocess.run(["callgrind_annotate", f2], capture_output=True,
                             text=True).stdout
        rows = [ln for ln in ann.splitlines()
                if re.match(r"^\s*[\d,]+ \(\s*[\d.]+%\)\s+\S", ln)]
        for ln in rows[1:a.top + 1]:  # rows[0] is the program total
            print("    " + ln.strip()[:110])
    if not a.keep:
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        os.rmdir(d)


if __name__ == "__main__":
    main()
