#!/usr/bin/env python3
"""bench/run.py — run the benchmarks and write bench/RESULTS.md.

    bench/run.py BUILD_DIR [--quick] [--runs N] [--out FILE]
                 [--only loop|tasks|net]

For each engine, interloop on that engine and the same workload written
directly on it (bench/native) run alternately, A B A B ..., so both see the
same machine weather; figures are medians with the min..max, and each
comparison is a ratio of the two medians from this one run. The full
loop_bench matrix (every backend) follows.

"Futures and tasks": interloop-task-bench on every backend against the same
workloads in asyncio and uvloop (bench/py/asyncio_tasks.py), every
contender in turn, A B C ... A B C ..., medians of the runs.

"Network": echo servers — interloop's (protocol API and tasks + streams,
bench/echo_server.c) on every backend, each engine's own (bench/native/
echo_*.c) and a raw epoll floor — driven by bench/echo_client.c: server
CPU time per round trip (ping-pong), throughput (pump) and the resident
set of idle connections. Every contender in turn, A B C ... A B C ...

--only runs one part and keeps the other parts' figures from the existing
--out file, so one section can be refreshed without rerunning the rest.
"""
import argparse
import datetime
import os
import platform
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time

ENGINES = ["uv", "ev", "event"]
TARGET_CHAIN_MPS = 30.0
TARGET_TIMERS_S = 0.5
# Futures and tasks (DESIGN §6 and the tasks issue).
TARGET_AWAIT_MPS = 10.0
TARGET_SPAWN_MPS = 1.0
TARGET_FUTURE_B = 64
SLEEPERS = 100_000
SLEEPERS_QUICK = 10_000
MAX_TIME = (0.25, 1.0)  # --max-time of future_cycle and spawn: quick, full
HERE = os.path.dirname(os.path.abspath(__file__))
TASKS_BEGIN = "<!-- futures-and-tasks: begin (bench/run.py) -->"
TASKS_END = "<!-- futures-and-tasks: end -->"
NET_BEGIN = "<!-- network: begin (bench/run.py) -->"
NET_END = "<!-- network: end -->"
# Network (the transports issue): interloop's echo server on an engine costs
# at most this many times the engine's own server in CPU per round trip.
TARGET_NET_RATIO = 1.03
NET_CONNS = 50
NET_SIZE = 64
NET_TRIPS = (10_000, 100_000)          # round trips per run: quick, full
NET_WARMUP = (10, 100)                 # per connection, before the window
NET_PUMP = (16 << 20, 64 << 20)        # bytes per pump run
NET_CHUNK = 1 << 20                    # the pump's write() size
NET_IDLE = (1_000, 10_000)             # idle connections (one run each)
# With two CPUs or more the server runs on CPU 1. The ping-pong client runs
# there too: they then take turns, the server finding every connection's
# message waiting each time it wakes (one sleep per ~40 round trips), so
# its CPU per round trip is its own code's and spreads by ±2 % between runs.
# On two CPUs the batching depends on which side is faster at that moment
# (±4 % pinned, ±10 % when the scheduler may also put both on one CPU).
# The pump's client runs on CPU 0: throughput wants both running at once.
NET_CPUS = (0, 1) if (os.cpu_count() or 1) >= 2 else None


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    name, wall, cpu, count = out.split()[:4]
    return float(wall), float(cpu), int(count)


def med(xs):
    return statistics.median(xs)


def fmt_range(xs, f="{:.3f}"):
    return (f + " (" + f + ".." + f + ")").format(med(xs), min(xs), max(xs))


def missed(pct):
    return "MISSED by %.0f%%" % pct


# ---- the event loop: interloop against each engine, loop_bench matrix ------

def loop_part(a, runs, bindir):
    """The loop benchmarks; returns the markdown lines of their sections."""
    lb = os.path.join(bindir, "loop_bench")
    n_chain = 2_000_000 if a.quick else 10_000_000
    n_timers = 1_000_000

    backends = subprocess.run([os.path.join(bindir, "interloop-info")],
                              capture_output=True, text=True).stdout
    have = [e for e in ENGINES
            if any(line.startswith(e + " ") for line in backends.splitlines())]

    rows = []  # (engine, workload, il_values, native_values, unit)
    for e in ["builtin"] + have:
        native = os.path.join(bindir, "native_" + e)
        for wl, n in (("chain", n_chain), ("timers", n_timers)):
            il_v, nat_v = [], []
            for _ in range(runs):
                w, c, cnt = run([lb, "--backend", e, "--workload", wl, str(n)])
                il_v.append(n / w / 1e6 if wl == "chain" else c)
                if os.path.exists(native):
                    w, c, cnt = run([native, wl, str(n)])
                    nat_v.append(n / w / 1e6 if wl == "chain" else c)
            rows.append((e, wl, il_v, nat_v))
            print(e, wl, il_v, nat_v, file=sys.stderr)

    matrix = subprocess.run([lb, "--runs", str(runs)] +
                            (["--quick"] if a.quick else []),
                            capture_output=True, text=True, check=True).stdout

    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    L = []
    L.append("# Benchmark results\n")
    L.append(f"Run {now} on {platform.machine()}, {os.cpu_count()} cores "
             f"(shared, noisy: compare ratios from one run, not absolute "
             f"figures across runs). {runs} runs each, alternated A B A B; "
             f"figures are medians (min..max). Written by `bench/run.py`"
             f"{' --quick' if a.quick else ''}.\n")
    L.append("## Targets (DESIGN §6)\n")
    L.append("| target | backend | measured | met? |")
    L.append("|---|---|---|---|")
    for e, wl, il_v, nat_v in rows:
        if wl == "chain":
            ok = med(il_v) >= TARGET_CHAIN_MPS
            L.append(f"| call_soon ≥ {TARGET_CHAIN_MPS:.0f} M/s | {e} | "
                     f"{med(il_v):.1f} M/s | {'met' if ok else 'MISSED by %.0f%%' % (100 * (1 - med(il_v) / TARGET_CHAIN_MPS))} |")
        else:
            ok = med(il_v) <= TARGET_TIMERS_S
            L.append(f"| 1 M timers ≤ {TARGET_TIMERS_S} s (CPU) | {e} | "
                     f"{med(il_v):.3f} s | {'met' if ok else 'MISSED by %.0f%%' % (100 * (med(il_v) / TARGET_TIMERS_S - 1))} |")
    L.append("")
    L.append("## interloop against the engine it runs on\n")
    L.append("`chain`: interloop — each callback schedules the next with "
             "`il_loop_call_soon`; native — the engine's own idiom for "
             "\"run this again soon\" (libuv and libev: an idle watcher, one "
             "loop iteration per callback, like libuv's loop_count; "
             "libevent: an event re-activated from its own callback). "
             "Rate in M callbacks/s, higher is better.\n")
    L.append("`timers`: 1 000 000 one-shot timers scheduled and fired, "
             "libuv's million_timers schedule (1 000 timers per millisecond, "
             "deadlines 1..1000 ms); CPU seconds (user+sys) of the whole "
             "run, lower is better — wall time is ~1 s for everyone, set by "
             "the schedule.\n")
    L.append("| engine | workload | interloop | native | interloop / native |")
    L.append("|---|---|---|---|---|")
    for e, wl, il_v, nat_v in rows:
        unit = "M/s" if wl == "chain" else "s CPU"
        if nat_v:
            ratio = med(il_v) / med(nat_v)
            L.append(f"| {e} | {wl} | {fmt_range(il_v)} {unit} | "
                     f"{fmt_range(nat_v)} {unit} | {ratio:.2f} |")
        else:
            L.append(f"| {e} | {wl} | {fmt_range(il_v)} {unit} | — | — |")
    L.append("")
    L.append("## loop_bench on every backend\n")
    L.append("```")
    L.append(matrix.rstrip())
    L.append("```\n")
    return L


# ---- futures and tasks: every backend against asyncio and uvloop -----------

def python_with_uvloop():
    """A Python that imports uvloop (Debian's python3-uvloop belongs to
    /usr/bin/python3, which a pyenv or venv python3 may hide), or None."""
    for py in (sys.executable, "/usr/bin/python3"):
        if py and os.path.exists(py) and subprocess.run(
                [py, "-c", "import uvloop"], capture_output=True).returncode == 0:
            return py
    return None


def python_versions(py):
    """The interpreter the runs use, as "Python 3.x.y, uvloop a.b.c"."""
    code = ("import platform\n"
            "try:\n import uvloop; u = ', uvloop ' + uvloop.__version__\n"
            "except ImportError:\n u = ''\n"
            "print('Python ' + platform.python_version() + u)")
    return subprocess.run([py or sys.executable, "-c", code],
                          capture_output=True, text=True).stdout.strip()


def run_line(cmd, timeout=300):
    """One single-workload run: {wall, cpu, count, extra keys...}, or a
    {"error": why} when it crashed, failed or hung."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"hung (> {timeout} s)"}
    words = p.stdout.split()
    if p.returncode != 0 or len(words) < 4:
        why = p.stderr.strip().splitlines()[-1:] or [""]
        rc = p.returncode
        sig = f"signal {-rc}" if rc < 0 else f"exit {rc}"
        return {"error": f"{sig} {why[0][:120]}".strip()}
    r = {"wall": float(words[1]), "cpu": float(words[2]),
         "count": int(words[3])}
    for kv in words[4:]:
        k, _, v = kv.partition("=")
        try:
            r[k] = float(v)
        except ValueError:
            r[k] = v
    return r


# Each row: its name in the tables, the workload and extra arguments, N
# (quick, full), how a run's figure is read, the unit, whether higher is
# better. future_cycle and spawn stop after --max-time seconds (MAX_TIME; a
# slow path must not stall the run); their rate is of what was done.
def rate(r):
    return r["count"] / r["wall"] / 1e6


TASK_WORKLOADS = [
    ("await_done", "await_done", [], (1_000_000, 10_000_000), rate, "M/s",
     True),
    ("future_cycle", "future_cycle", ["--max-time", "MAX"],
     (50_000, 1_000_000), rate, "M/s", True),
    ("spawn", "spawn", ["--max-time", "MAX"], (20_000, 500_000), rate,
     "M/s", True),
    ("spawn_b64", "spawn", ["--batch", "64", "--max-time", "MAX"],
     (19_968, 500_032), rate, "M/s", True),
    ("switch", "switch", [], (20_000, 500_000), rate, "M/s", True),
    ("future_mem", "future_mem", [], (1_000_000, 1_000_000),
     lambda r: r["bytes_per_future"], "B/future", False),
]
TASK_DESCRIPTIONS = {
    "await_done": "one task awaits an already-done future N times "
                  "(no suspension: the cost of the call)",
    "future_cycle": "create a future, add a done-callback, set its result, "
                    "drop the creator's reference; batches of 1 000, each "
                    "batch's callbacks run in one loop pass",
    "spawn": "spawn tasks that return at once, batches of 1 000, each "
             "batch run until all finished (spawn + start + finish + free)",
    "spawn_b64": "the same in batches of 64 (no more tasks alive at once "
                 "than interloop's stack pool keeps)",
    "switch": "two tasks taking turns with `il_yield` / `asyncio.sleep(0)`: "
              "a switch out, a loop pass, a switch back; count = yields",
    "future_mem": "resident-set growth per future while 1 000 000 live "
                  "futures are held (allocator overhead included)",
}


def contenders(bindir):
    """[(name, argv prefix)] — every backend, then asyncio and uvloop."""
    tb = os.path.join(bindir, "interloop-task-bench")
    info = subprocess.run([os.path.join(bindir, "interloop-info")],
                          capture_output=True, text=True).stdout
    have = [e for e in ENGINES
            if any(line.startswith(e + " ") for line in info.splitlines())]
    C = [(e, [tb, "--backend", e]) for e in ["builtin"] + have]
    script = os.path.join(HERE, "py", "asyncio_tasks.py")
    py = python_with_uvloop()
    if py:
        C.append(("asyncio", [py, script]))
        C.append(("uvloop", [py, script, "--uvloop"]))
    else:
        print("run.py: no Python with uvloop; asyncio only", file=sys.stderr)
        C.append(("asyncio", [sys.executable, script]))
    return C, py


def cell(vals, errs, f="{:.3f}"):
    if errs and not vals:
        return "failed: " + errs[0]
    s = fmt_range(vals, f) if vals else "—"
    if errs:
        s += f" ({len(errs)} failed: {errs[0]})"
    return s


def tasks_part(a, runs, bindir):
    """The futures-and-tasks benchmarks; returns the markdown lines of their
    section, between TASKS_BEGIN and TASKS_END."""
    C, py = contenders(bindir)
    names = [n for n, _ in C]
    res = {}  # (workload, contender) -> ([values], [errors])
    max_time = str(MAX_TIME[0] if a.quick else MAX_TIME[1])
    for key, wl, args, ns, fig, unit, _ in TASK_WORKLOADS:
        n = ns[0] if a.quick else ns[1]
        args = [max_time if x == "MAX" else x for x in args]
        for _ in range(runs):
            for name, argv in C:
                r = run_line(argv + ["--workload", wl, str(n)] + args)
                v, e = res.setdefault((key, name), ([], []))
                if "error" in r:
                    e.append(r["error"])
                else:
                    v.append(fig(r))
        print(key, {k[1]: v for k, v in res.items() if k[0] == key},
              file=sys.stderr)
    # Sleepers take seconds by design: one run each (quick: fewer tasks, on
    # builtin and Python only, to keep `make bench-quick` short).
    sl_runs = 1
    n_sl = SLEEPERS_QUICK if a.quick else SLEEPERS
    sl_names = [n for n in names if not a.quick or n in
                ("builtin", "asyncio", "uvloop")]
    sleep = {}  # contender -> [runs]
    for _ in range(sl_runs):
        for name, argv in C:
            if name in sl_names:
                sleep.setdefault(name, []).append(
                    run_line(argv + ["--workload", "sleepers", str(n_sl)]))
    print("sleepers", sleep, file=sys.stderr)

    def meds(wl, name):
        return res[(wl, name)][0]

    backends = [n for n in names if n not in ("asyncio", "uvloop")]
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    L = [TASKS_BEGIN, "## Futures and tasks\n"]
    L.append(f"Run {now}{' (--quick)' if a.quick else ''}: "
             f"`interloop-task-bench` on every backend against the same "
             f"workloads in asyncio and uvloop (`bench/py/asyncio_tasks.py`, "
             f"{python_versions(py)}). "
             f"Every contender in turn, A B C … A B C …, {runs} "
             f"run{'s' if runs > 1 else ''}; "
             f"medians (min..max). A fresh process per run.\n")
    L.append("### Targets\n")
    L.append("| target | backend | measured | met? |")
    L.append("|---|---|---|---|")

    def target_row(label, wl, name, goal, higher, unit, f):
        vals, errs = res[(wl, name)]
        if not vals:
            L.append(f"| {label} | {name} | failed: {errs[0] if errs else '?'}"
                     f" | MISSED |")
            return
        m = med(vals)
        ok = m >= goal if higher else m <= goal
        pct = 100 * (1 - m / goal) if higher else 100 * (m / goal - 1)
        L.append(f"| {label} | {name} | {f.format(m)} {unit} | "
                 f"{'met' if ok else missed(pct)} |")

    for name in backends:
        target_row(f"await of a done future ≥ {TARGET_AWAIT_MPS:.0f} M/s",
                   "await_done", name, TARGET_AWAIT_MPS, True, "M/s", "{:.1f}")
    for name in backends:
        target_row(f"spawn + finish ≥ {TARGET_SPAWN_MPS:.0f} M tasks/s "
                   f"(batches of 1 000)", "spawn", name, TARGET_SPAWN_MPS,
                   True, "M/s", "{:.3f}")
    for name in backends:
        target_row(f"spawn + finish ≥ {TARGET_SPAWN_MPS:.0f} M tasks/s "
                   f"(batches of 64)", "spawn_b64", name, TARGET_SPAWN_MPS,
                   True, "M/s", "{:.3f}")
    for name in backends:
        # The object is 64 B (static assert in core/future.c); the RSS figure
        # adds its slab's header (32 B per 1 023 futures) and heap-growth
        # granularity, well under 1 B per future at 1 M futures.
        target_row(f"future ≤ {TARGET_FUTURE_B} B (RSS per live future, 1 M "
                   f"live; < 1 B of slab and heap overhead allowed)",
                   "future_mem", name, TARGET_FUTURE_B + 1, False, "B",
                   "{:.1f}")
    for name in backends:
        label = f"{SLEEPERS:,} sleeping tasks (RSS per task)".replace(",", " ")
        if a.quick:
            L.append(f"| {label} | {name} | not run (--quick: "
                     f"{n_sl} tasks, below) | — |")
            continue
        if name not in sleep:
            L.append(f"| {label} | {name} | not run (--quick) | — |")
            continue
        rs = [r for r in sleep[name] if "error" not in r]
        if len(rs) == len(sleep[name]) and all(
                r["count"] == n_sl for r in rs):
            L.append(f"| {label} | {name} | "
                     f"{med([r['rss_per_task'] for r in rs]):.0f} B/task | "
                     f"met (all ran; no bound on the figure) |")
        else:
            bad = [r.get("error", f"{r.get('count')} finished")
                   for r in sleep[name] if "error" in r
                   or r["count"] != n_sl]
            L.append(f"| {label} | {name} | {bad[0]} | MISSED |")
    L.append("")

    L.append("### Against asyncio and uvloop\n")
    for key, wl, args, ns, fig, unit, higher in TASK_WORKLOADS:
        L.append(f"- `{key}` ({unit}, {'higher' if higher else 'lower'} is "
                 f"better, N = {ns[0] if a.quick else ns[1]}"
                 f"{', at most ' + max_time + ' s' if '--max-time' in args else ''}): "
                 f"{TASK_DESCRIPTIONS[key]}")
    L.append("")
    L.append("| workload | " + " | ".join(names) + " |")
    L.append("|---|" + "---|" * len(names))
    for key, wl, args, ns, fig, unit, higher in TASK_WORKLOADS:
        f = "{:.1f}" if wl == "future_mem" else "{:.3f}"
        L.append(f"| {key} ({unit}) | " + " | ".join(
            cell(*res[(key, n)], f=f) for n in names) + " |")
    L.append("")
    # Ratios: each backend against asyncio and uvloop (× faster, or × less
    # memory), from the medians of this one run.
    refs = [r for r in ("asyncio", "uvloop") if r in names]
    L.append("interloop / " + " and ".join(refs) + " (how many times better, "
             "from the medians above):\n")
    L.append("| workload | " + " | ".join(
        f"{b} / {r}" for r in refs for b in backends) + " |")
    L.append("|---|" + "---|" * (len(refs) * len(backends)))
    for key, wl, args, ns, fig, unit, higher in TASK_WORKLOADS:
        cells = []
        for r in refs:
            for b in backends:
                bv, rv = meds(key, b), meds(key, r)
                if not bv or not rv:
                    cells.append("—")
                    continue
                x = med(bv) / med(rv) if higher else med(rv) / med(bv)
                cells.append(f"{x:.2f}×" if x < 10 else f"{x:.0f}×")
        L.append(f"| {key} | " + " | ".join(cells) + " |")
    L.append("")

    L.append(f"### {n_sl:,} sleeping tasks\n".replace(",", " "))
    L.append(f"{n_sl} tasks each sleep a random 0.5..1 s. *spawn*: "
             f"creating them all; *total*: from the first spawn until the "
             f"last one finished; *RSS* and *virtual* per task: growth of "
             f"the process (`/proc/self/statm`) from before the first spawn "
             f"to the moment the last task started, divided by {n_sl}. "
             f"interloop uses the default 256 KiB stack; *guard* says "
             f"whether each stack had its guard page — off when "
             f"vm.max_map_count cannot hold two mappings per task. "
             f"{sl_runs} run{'s' if sl_runs > 1 else ''} each"
             f"{', medians' if sl_runs > 1 else ''}"
             f"{'; --quick runs it on builtin, asyncio and uvloop only' if a.quick else ''}"
             f".\n")
    L.append("| contender | guard | spawn (s) | total (s) | RSS per task | "
             "virtual per task |")
    L.append("|---|---|---|---|---|---|")
    for name in sl_names:
        rs = [r for r in sleep[name] if "error" not in r]
        if not rs:
            L.append(f"| {name} | failed: {sleep[name][0]['error']} | | | | |")
            continue
        g = rs[0].get("guard")
        gs = "—" if g is None else ("on" if g else "off") + (
            f" (max_map_count {rs[0]['max_map_count']:.0f})"
            if "max_map_count" in rs[0] else "")
        L.append(f"| {name} | {gs} | "
                 f"{med([r['spawn_s'] for r in rs]):.3f} | "
                 f"{med([r['wall'] for r in rs]):.3f} | "
                 f"{med([r['rss_per_task'] for r in rs]):.0f} B | "
                 f"{med([r['virt_per_task'] for r in rs]):.0f} B |")
    L.append("")
    L.append(TASKS_END)
    L.append("")
    return L


# ---- network: echo servers, interloop against each engine's own ------------

def net_contenders(bindir, quick):
    """[(engine, contender, argv)]: the epoll floor, then per engine
    interloop's protocol and streams servers and the engine's own."""
    info = subprocess.run([os.path.join(bindir, "interloop-info")],
                          capture_output=True, text=True).stdout
    have = [e for e in ENGINES
            if any(line.startswith(e + " ") for line in info.splitlines())]
    srv = os.path.join(bindir, "bench_echo_server")
    C = [("epoll", "floor", [os.path.join(bindir, "native_echo_epoll")])]
    for e in ["builtin"] + have:
        for style in ("protocol", "streams"):
            C.append((e, style, [srv, "--backend", e, "--style", style]))
        native = os.path.join(bindir, "native_echo_" + e)
        if os.path.exists(native):
            C.append((e, "native", [native]))
        if e == "event" and os.path.exists(native) and not quick:
            C.append((e, "bufferevent", [native, "--bufferevent"]))
    return C


class Server:
    """An echo server process, started and told apart by its port."""

    def __init__(self, argv):
        self.err = ""

        def pin():
            if NET_CPUS:
                os.sched_setaffinity(0, {NET_CPUS[1]})

        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True,
                                  preexec_fn=pin)
        ready, _, _ = select.select([self.p.stdout], [], [], 10)
        line = self.p.stdout.readline() if ready else ""
        if not line.startswith("port "):
            self.stop()
            raise RuntimeError("no port from " + " ".join(argv) + ": " +
                               (self.err or line).strip()[:120])
        self.port = int(line.split()[1])

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            _, self.err = self.p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            _, self.err = self.p.communicate()


def net_client(bindir, srv, workload, args, timeout=120):
    """One echo_client run against srv: run_line's dict."""
    argv = [os.path.join(bindir, "bench_echo_client"), workload,
            str(srv.port), "--pid", str(srv.p.pid)] + args
    if NET_CPUS and shutil.which("taskset"):
        cpu = NET_CPUS[1] if workload == "pingpong" else NET_CPUS[0]
        argv = ["taskset", "-c", str(cpu)] + argv
    r = run_line(argv, timeout)
    if "error" not in r and not srv.alive():
        r = {"error": "server died"}
    return r


def net_round(bindir, argv, quick):
    """Ping-pong then pump against one fresh server: ({wl: dict})."""
    q = 0 if quick else 1
    out = {}
    try:
        srv = Server(argv)
    except RuntimeError as e:
        return {"pingpong": {"error": str(e)}, "pump": {"error": str(e)}}
    out["pingpong"] = net_client(bindir, srv, "pingpong", [
        "--conns", str(NET_CONNS), "--size", str(NET_SIZE),
        "--trips", str(NET_TRIPS[q]), "--warmup", str(NET_WARMUP[q])])
    out["pump"] = net_client(bindir, srv, "pump", [
        "--bytes", str(NET_PUMP[q]), "--chunk", str(NET_CHUNK)])
    srv.stop()
    return out


def net_idle(bindir, argv, conns):
    try:
        srv = Server(argv)
    except RuntimeError as e:
        return {"error": str(e)}
    r = net_client(bindir, srv, "idle", ["--conns", str(conns)], timeout=300)
    srv.stop()
    return r


def num(n):
    """10000 as "10 000"."""
    return f"{n:,}".replace(",", " ")


def paired(a, b):
    """Per-round ratios a[i] / b[i] (the same round, the same weather)."""
    return [x / y for x, y in zip(a, b) if y]


def net_part(a, runs, bindir):
    """The network benchmarks; returns the markdown lines of their section,
    between NET_BEGIN and NET_END."""
    t_start = time.monotonic()
    q = 0 if a.quick else 1
    C = net_contenders(bindir, a.quick)
    keys = [(e, c) for e, c, _ in C]
    pp, pu = {}, {}  # (engine, contender) -> [dicts]
    for i in range(runs):
        for e, c, argv in C:
            r = net_round(bindir, argv, a.quick)
            pp.setdefault((e, c), []).append(r["pingpong"])
            pu.setdefault((e, c), []).append(r["pump"])
        print("net round", i + 1, {f"{e}/{c}": round(
            pp[(e, c)][-1].get("ns_per_trip", -1)) for e, c in keys},
            file=sys.stderr)
    idle = {}
    for e, c, argv in C:
        idle[(e, c)] = net_idle(bindir, argv, NET_IDLE[q])
    print("net idle", {f"{e}/{c}": r.get("rss_per_conn", r.get("error"))
                       for (e, c), r in idle.items()}, file=sys.stderr)

    def vals(res, key, field, scale=1.0):
        """Per-round figures (None where that round failed) and errors."""
        v = [r.get(field) * scale if "error" not in r else None
             for r in res.get(key, [])]
        return v, [r["error"] for r in res.get(key, []) if "error" in r]

    def good(v):
        return [x for x in v if x is not None]

    def ratio_cell(num, den):
        """Ratio of the medians, and the per-round ratios' min..max."""
        n, d = good(num), good(den)
        if not n or not d:
            return "—", None
        r = med(n) / med(d)
        both = [(x, y) for x, y in zip(num, den)
                if x is not None and y is not None]
        pr = paired([x for x, _ in both], [y for _, y in both])
        rng = f" ({min(pr):.3f}..{max(pr):.3f})" if len(pr) > 1 else ""
        return f"{r:.3f}{rng}", r

    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    trips, pump_b, idle_n = NET_TRIPS[q], NET_PUMP[q], NET_IDLE[q]
    pinning = ""
    if NET_CPUS and shutil.which("taskset"):
        pinning = (f" (the server pinned to CPU {NET_CPUS[1]}; the ping-pong "
                   f"client there too, so the two take turns and each "
                   f"wake-up of the server finds every connection's message "
                   f"waiting; the pump's client on CPU {NET_CPUS[0]})")
    L = [NET_BEGIN, "## Network\n"]
    L.append(
        f"Run {now}{' (--quick)' if a.quick else ''}: echo servers driven "
        f"by `bench_echo_client` (raw epoll) over 127.0.0.1, server and "
        f"client on the same {os.cpu_count()}-core machine"
        f"{pinning}. Contenders: interloop's "
        f"`bench_echo_server` with the protocol API (*protocol*) and with "
        f"tasks + streams (*streams*) on each backend; the same server "
        f"written directly on each engine (*native*: `bench/native/"
        f"echo_uv.c`, `echo_ev.c`, `echo_event.c` with raw events; "
        f"*bufferevent*: libevent's bufferevent idiom, for reference); and "
        f"*floor*, raw epoll (`echo_epoll.c`). Every contender in turn, "
        f"A B C … A B C …, {runs} run{'s' if runs > 1 else ''}, a fresh "
        f"server process per run; medians (min..max). Ratios: of the "
        f"medians, with the min..max of the same ratio taken round by "
        f"round (both sides then saw the same machine weather).\n")
    L.append(
        f"- *ping-pong*: {NET_CONNS} connections each send {NET_SIZE} B, "
        f"wait for the whole echo, repeat; {num(trips)} round trips in the "
        f"measured window (after {NET_WARMUP[q]} per connection). Server "
        f"CPU time (user + system, all threads; `/proc/PID/task/*/"
        f"schedstat`, read by the client before and after the window) per "
        f"round trip, lower is better. *Sleeps per round trip*: the "
        f"server's voluntary context switches in the window per round trip "
        f"— how often it found nothing ready and slept; the fewer, the more "
        f"round trips each poll serves and the cheaper each one is, so a "
        f"difference there (the machine's weather, or a slower server "
        f"finding more work waiting) moves the CPU figure.")
    L.append(
        f"- *pump*: one connection, {pump_b >> 20} MiB offered in 1 MiB "
        f"`write()`s while the echo is read back; MB/s (10^6 bytes echoed "
        f"per second) and server CPU per KiB.")
    L.append(
        f"- *idle*: {num(idle_n)} connections opened one by one, each echoing "
        f"one byte (so its transport exists); the server's resident-set "
        f"growth (`/proc/PID/statm`) divided by {num(idle_n)}: the "
        f"user-space memory of an idle connection (the kernel's socket "
        f"buffers are not in it). One run.\n")

    def ppv(key):
        return vals(pp, key, "ns_per_trip", 1e-3)

    L.append("### Targets\n")
    L.append("| target | engine | interloop | native | ratio | met? |")
    L.append("|---|---|---|---|---|---|")
    for e in [e for e in ENGINES if (e, "native") in pp]:
        nv, _ = ppv((e, "native"))
        for style in ("protocol", "streams"):
            iv, errs = ppv((e, style))
            cell_s, r = ratio_cell(iv, nv)
            if r is None:
                L.append(f"| {style} ≤ {TARGET_NET_RATIO} × native, CPU per "
                         f"round trip | {e} | failed: "
                         f"{errs[0] if errs else '?'} | | | MISSED |")
                continue
            ok = r <= TARGET_NET_RATIO
            L.append(f"| {style} ≤ {TARGET_NET_RATIO} × native, CPU per "
                     f"round trip | {e} | {med(good(iv)):.2f} µs | "
                     f"{med(good(nv)):.2f} µs | {cell_s} | "
                     f"{'met' if ok else 'MISSED by %.1f%%' % (100 * (r / TARGET_NET_RATIO - 1))} |")
    L.append("")

    L.append("### Ping-pong and pump\n")
    L.append("| engine | contender | ping-pong: µs CPU per round trip | "
             "/ native | / floor | sleeps per round trip | pump: MB/s | "
             "pump: µs CPU per KiB | / native |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    fv, _ = ppv(("epoll", "floor"))
    for e, c in keys:
        iv, errs = ppv((e, c))
        wv, _ = vals(pp, (e, c), "waits_per_trip")
        mv, merrs = vals(pu, (e, c), "mb_per_s")
        kv, _ = vals(pu, (e, c), "ns_per_kb", 1e-3)
        nat = (e, "native") if c != "native" and (e, "native") in pp else None
        r_nat = ratio_cell(iv, ppv(nat)[0])[0] if nat else "—"
        r_floor = ratio_cell(iv, fv)[0] if c != "floor" else "—"
        k_nat = ratio_cell(kv, vals(pu, nat, "ns_per_kb", 1e-3)[0])[0] \
            if nat else "—"
        L.append(f"| {e} | {c} | {cell(good(iv), errs, '{:.2f}')} | "
                 f"{r_nat} | {r_floor} | {cell(good(wv), [], '{:.3f}')} | "
                 f"{cell(good(mv), merrs, '{:.0f}')} | "
                 f"{cell(good(kv), [], '{:.3f}')} | {k_nat} |")
    L.append("")

    L.append(f"### {num(idle_n)} idle connections\n")
    L.append("| engine | contender | RSS per connection | setup (s) |")
    L.append("|---|---|---|---|")
    for e, c in keys:
        r = idle[(e, c)]
        if "error" in r:
            L.append(f"| {e} | {c} | failed: {r['error']} | |")
        else:
            L.append(f"| {e} | {c} | {r['rss_per_conn']:.0f} B | "
                     f"{r['wall']:.2f} |")
    L.append("")
    L.append(f"(This section took {time.monotonic() - t_start:.0f} s.)\n")
    L.append(NET_END)
    L.append("")
    return L


# ---- assembling RESULTS.md ----------------------------------------------------

def split_old(path):
    """(loop part, tasks part, network part) of an existing RESULTS.md, as
    line lists; the NOTES.md text at its end is dropped (it is appended
    afresh)."""
    if not os.path.exists(path):
        return [], [], []
    text = open(path).read()
    notes = os.path.join(HERE, "NOTES.md")
    if os.path.exists(notes):
        n = open(notes).read()
        i = text.find(n.split("\n", 1)[0])
        if i >= 0:
            text = text[:i]
    parts = []
    for begin, end in ((TASKS_BEGIN, TASKS_END), (NET_BEGIN, NET_END)):
        m = re.search(re.escape(begin) + ".*?" + re.escape(end) + r"\n*",
                      text, re.S)
        part = []
        if m:
            part = m.group(0).rstrip("\n").split("\n") + [""]
            text = text[:m.start()] + text[m.end():]
        parts.append(part)
    return [text.rstrip("\n").split("\n") + [""]] + parts


def main():
    ap = argparse.ArgumentParser(
        description="Run the benchmarks and write bench/RESULTS.md.")
    ap.add_argument("build")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--only", choices=["loop", "tasks", "net"],
                    help="run only this part; the other parts' figures are "
                         "kept from the existing --out file")
    a = ap.parse_args()
    runs = 3 if a.quick and a.runs == 5 else a.runs
    bindir = os.path.join(a.build, "bin")

    old_loop, old_tasks, old_net = (split_old(a.out) if a.only
                                    else ([], [], []))
    if a.only and not os.path.exists(a.out):
        print(f"run.py: {a.out} does not exist: only the {a.only} part "
              f"will be in it", file=sys.stderr)
    def part(name, old, fn):
        return fn(a, runs, bindir) if a.only in (None, name) else old

    L = part("loop", old_loop, loop_part)
    T = part("tasks", old_tasks, tasks_part)
    N = part("net", old_net, net_part)
    notes = os.path.join(HERE, "NOTES.md")
    out = L + T + N
    if os.path.exists(notes):
        out.append(open(notes).read())
    with open(a.out, "w") as f:
        f.write("\n".join(out).rstrip("\n") + "\n")
    print("wrote", a.out, file=sys.stderr)


if __name__ == "__main__":
    main()
