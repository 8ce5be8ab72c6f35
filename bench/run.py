#!/usr/bin/env python3
"""bench/run.py — run the benchmarks and write bench/RESULTS.md.

    bench/run.py BUILD_DIR [--quick] [--runs N] [--out FILE] [--only loop|tasks]

For each engine, interloop on that engine and the same workload written
directly on it (bench/native) run alternately, A B A B ..., so both see the
same machine weather; figures are medians with the min..max, and each
comparison is a ratio of the two medians from this one run. The full
loop_bench matrix (every backend) follows.

"Futures and tasks": interloop-task-bench on every backend against the same
workloads in asyncio and uvloop (bench/py/asyncio_tasks.py), every
contender in turn, A B C ... A B C ..., medians of the runs.

--only runs one part and keeps the other part's figures from the existing
--out file, so one section can be refreshed without rerunning the rest.
"""
import argparse
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys

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


# ---- assembling RESULTS.md ----------------------------------------------------

def split_old(path):
    """(loop part, tasks part) of an existing RESULTS.md, as line lists;
    the NOTES.md text at its end is dropped (it is appended afresh)."""
    if not os.path.exists(path):
        return [], []
    text = open(path).read()
    notes = os.path.join(HERE, "NOTES.md")
    if os.path.exists(notes):
        n = open(notes).read()
        i = text.find(n.split("\n", 1)[0])
        if i >= 0:
            text = text[:i]
    m = re.search(re.escape(TASKS_BEGIN) + ".*?" + re.escape(TASKS_END) +
                  r"\n*", text, re.S)
    tasks = []
    if m:
        tasks = m.group(0).rstrip("\n").split("\n") + [""]
        text = text[:m.start()] + text[m.end():]
    return text.rstrip("\n").split("\n") + [""], tasks


def main():
    ap = argparse.ArgumentParser(
        description="Run the benchmarks and write bench/RESULTS.md.")
    ap.add_argument("build")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--only", choices=["loop", "tasks"],
                    help="run only this part; the other part's figures are "
                         "kept from the existing --out file")
    a = ap.parse_args()
    runs = 3 if a.quick and a.runs == 5 else a.runs
    bindir = os.path.join(a.build, "bin")

    old_loop, old_tasks = split_old(a.out) if a.only else ([], [])
    if a.only and not os.path.exists(a.out):
        print(f"run.py: {a.out} does not exist: only the {a.only} part "
              f"will be in it", file=sys.stderr)
    L = old_loop if a.only == "tasks" else loop_part(a, runs, bindir)
    T = old_tasks if a.only == "loop" else tasks_part(a, runs, bindir)
    notes = os.path.join(HERE, "NOTES.md")
    out = L + T
    if os.path.exists(notes):
        out.append(open(notes).read())
    with open(a.out, "w") as f:
        f.write("\n".join(out).rstrip("\n") + "\n")
    print("wrote", a.out, file=sys.stderr)


if __name__ == "__main__":
    main()
