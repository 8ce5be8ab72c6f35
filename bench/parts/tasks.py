"""bench/parts/tasks.py — futures and tasks: interloop-task-bench on every
backend against the same workloads in asyncio and uvloop
(bench/py/asyncio_tasks.py). The engines have no futures or tasks, so there
is no native contender: the comparison is with what users would pick
instead."""
from parts.common import (cell, log, med, num, python_contenders,
                          python_versions, run_line, target)

NAME = "tasks"
ORDER = 20

TARGET_AWAIT_MPS = 10.0
TARGET_SPAWN_MPS = 1.0
TARGET_FUTURE_B = 64
SLEEPERS = (10_000, 100_000)       # quick, full
MAX_TIME = (0.25, 1.0)             # --max-time of future_cycle and spawn


def rate(r):
    return r["count"] / r["wall"] / 1e6


# (key, workload, extra args, N (quick, full), figure of a run, unit,
# higher is better). future_cycle and spawn stop after --max-time seconds
# (a slow path must not stall the run); their rate is of what was done.
WORKLOADS = [
    ("await_done", "await_done", [], (1_000_000, 10_000_000), rate, "M/s",
     True),
    ("future_cycle", "future_cycle", ["--max-time", "MAX"],
     (50_000, 1_000_000), rate, "M/s", True),
    ("spawn", "spawn", ["--max-time", "MAX"], (200_000, 500_000), rate,
     "M/s", True),
    ("spawn_b64", "spawn", ["--batch", "64", "--max-time", "MAX"],
     (199_936, 500_032), rate, "M/s", True),
    ("switch", "switch", [], (20_000, 500_000), rate, "M/s", True),
    ("future_mem", "future_mem", [], (200_000, 1_000_000),
     lambda r: r["bytes_per_future"], "B/future", False),
    ("task_mem", "task_mem", [], (2_000, 10_000),
     lambda r: r["bytes_per_task"], "B/task", False),
]
DESCRIPTIONS = {
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
    "future_mem": "resident-set growth per future while N live futures "
                  "are held (allocator overhead included)",
    "task_mem": "resident-set growth per task while N tasks are suspended "
                "awaiting one pending future: the task and the stack pages "
                "it touched (interloop: default 256 KiB stack, guard page "
                "on; asyncio: the Task and its coroutine frame)",
}
# Rows of the chart's "python" panel: interloop on libuv against asyncio and
# uvloop (uvloop runs on libuv too).
CHART = ["await_done", "future_cycle", "spawn", "switch", "future_mem",
         "task_mem"]


def contenders(ctx):
    tb = ctx.prog("interloop-task-bench")
    return ([(b, [tb, "--backend", b]) for b in ctx.backends()] +
            python_contenders("asyncio_tasks.py"))


def run(ctx):
    q = 0 if ctx.quick else 1
    C = contenders(ctx)
    names = [n for n, _ in C]
    backends = [n for n in names if n not in ("asyncio", "uvloop")]
    refs = [n for n in names if n in ("asyncio", "uvloop")]
    res = {}  # (key, contender) -> ([values], [errors])
    max_time = str(MAX_TIME[q])
    for key, wl, args, ns, fig, unit, _ in WORKLOADS:
        args = [max_time if x == "MAX" else x for x in args]
        for _ in range(ctx.runs):
            for name, argv in C:
                r = run_line(argv + ["--workload", wl, str(ns[q])] + args)
                v, e = res.setdefault((key, name), ([], []))
                if "error" in r:
                    e.append(r["error"])
                else:
                    v.append(fig(r))
        log(key, {k[1]: v for k, v in res.items() if k[0] == key})
    # Sleepers take seconds by design: one run each (quick: fewer tasks, on
    # builtin and Python only).
    n_sl = SLEEPERS[q]
    sl_names = [n for n in names
                if not ctx.quick or n in ("builtin", "asyncio", "uvloop")]
    sleep = {name: run_line(argv + ["--workload", "sleepers", str(n_sl)])
             for name, argv in C if name in sl_names}
    log("sleepers", sleep)

    def vals(key, name):
        return res[(key, name)][0]

    targets, memory, chart = [], [], []

    def target_row(label, key, name, goal, higher, unit, f):
        v, errs = res[(key, name)]
        if not v:
            targets.append(target(label, name, "failed: " +
                                  (errs[0] if errs else "?"), False, "—",
                                  "the runs failed"))
            return
        m = med(v)
        ok = m >= goal if higher else m <= goal
        pct = 100 * (1 - m / goal) if higher else 100 * (m / goal - 1)
        targets.append(target(label, name, f"{f.format(m)} {unit}", ok,
                              f"{pct:.1f}%", WHERE.get(key, "")))

    for name in backends:
        target_row(f"await of a done future ≥ {TARGET_AWAIT_MPS:.0f} M/s",
                   "await_done", name, TARGET_AWAIT_MPS, True, "M/s",
                   "{:.1f}")
    for name in backends:
        target_row(f"task spawn + finish ≥ {TARGET_SPAWN_MPS:.0f} M/s "
                   f"(batches of 1 000)", "spawn", name, TARGET_SPAWN_MPS,
                   True, "M/s", "{:.2f}")
    for name in backends:
        target_row(f"task spawn + finish ≥ {TARGET_SPAWN_MPS:.0f} M/s "
                   f"(batches of 64)", "spawn_b64", name, TARGET_SPAWN_MPS,
                   True, "M/s", "{:.2f}")
    for name in backends:
        # The object is 64 B (static assert in core/future.c); the RSS figure
        # adds its slab's header (32 B per 1 023 futures) and heap-growth
        # granularity, well under 1 B per future at 1 M futures.
        target_row(f"future ≤ {TARGET_FUTURE_B} B (RSS per live future, 1 M "
                   f"live; < 1 B of slab overhead allowed)", "future_mem",
                   name, TARGET_FUTURE_B + 1, False, "B", "{:.1f}")

    for key, obj, n in (("future_mem", "future", WORKLOADS[5][3][q]),
                        ("task_mem", "task (touched stack)",
                         WORKLOADS[6][3][q])):
        for name in names:
            v = vals(key, name)
            memory.append({"object": obj, "contender": name,
                           "bytes": med(v) if v else None,
                           "how": f"{DESCRIPTIONS[key]}; N = {num(n)} "
                                  f"(`interloop-task-bench --workload "
                                  f"{key}`)."})

    if "uv" in backends:
        for key in CHART:
            higher = [w for w in WORKLOADS if w[0] == key][0][6]
            for r in refs:
                iv, rv = vals(key, "uv"), vals(key, r)
                if iv and rv:
                    x = med(iv) / med(rv) if higher else med(rv) / med(iv)
                    chart.append({"panel": "python", "workload": key,
                                  "series": r, "value": x})

    L = ["## Futures and tasks\n"]
    L.append(f"`interloop-task-bench` on every backend against the same "
             f"workloads in asyncio and uvloop (`bench/py/asyncio_tasks.py`, "
             f"{python_versions()}). The engines have no futures or tasks of "
             f"their own, so there is no native column. Every contender in "
             f"turn, A B C … A B C …, {ctx.runs} rounds, a fresh process per "
             f"run; medians (min..max).\n")
    for key, wl, args, ns, fig, unit, higher in WORKLOADS:
        L.append(f"- `{key}` ({unit}, {'higher' if higher else 'lower'} is "
                 f"better, N = {num(ns[q])}"
                 f"{', at most ' + max_time + ' s' if '--max-time' in args else ''}"
                 f"): {DESCRIPTIONS[key]}")
    L.append("")
    L.append("| workload | " + " | ".join(names) + " |")
    L.append("|---|" + "---|" * len(names))
    for key, wl, args, ns, fig, unit, higher in WORKLOADS:
        f = "{:.1f}" if unit.startswith("B/") else "{:.3f}"
        L.append(f"| {key} ({unit}) | " + " | ".join(
            cell(*res[(key, n)], f=f) for n in names) + " |")
    L.append("")
    L.append("interloop against " + " and ".join(refs) + ": how many times "
             "faster (or smaller), from the medians above.\n")
    L.append("| workload | " + " | ".join(
        f"{b} / {r}" for r in refs for b in backends) + " |")
    L.append("|---|" + "---|" * (len(refs) * len(backends)))
    for key, wl, args, ns, fig, unit, higher in WORKLOADS:
        cells = []
        for r in refs:
            for b in backends:
                bv, rv = vals(key, b), vals(key, r)
                if not bv or not rv:
                    cells.append("—")
                    continue
                x = med(bv) / med(rv) if higher else med(rv) / med(bv)
                cells.append(f"{x:.2f}×" if x < 10 else f"{x:.0f}×")
        L.append(f"| {key} | " + " | ".join(cells) + " |")
    L.append("")

    L.append(f"### {num(n_sl)} sleeping tasks\n")
    L.append(f"{num(n_sl)} tasks each sleep a random 0.5..1 s. *spawn*: "
             f"creating them all; *total*: from the first spawn until the "
             f"last one finished; *RSS* and *virtual* per task: growth of "
             f"the process (`/proc/self/statm`) from before the first spawn "
             f"to the moment the last task started, divided by {num(n_sl)}. "
             f"interloop uses the default 256 KiB stack; *guard* says "
             f"whether each stack had its guard page — off when "
             f"vm.max_map_count cannot hold two mappings per task. One run "
             f"each (it takes seconds by design)"
             f"{'; --quick runs it on builtin, asyncio and uvloop only' if ctx.quick else ''}"
             f".\n")
    L.append("| contender | guard | spawn (s) | total (s) | RSS per task | "
             "virtual per task |")
    L.append("|---|---|---|---|---|---|")
    for name in sl_names:
        r = sleep[name]
        if "error" in r:
            L.append(f"| {name} | failed: {r['error']} | | | | |")
            continue
        g = r.get("guard")
        gs = "—" if g is None else ("on" if g else "off") + (
            f" (max_map_count {r['max_map_count']:.0f})"
            if "max_map_count" in r else "")
        ran = "" if r["count"] == n_sl else f" ({r['count']} finished)"
        L.append(f"| {name} | {gs} | {r['spawn_s']:.3f} | "
                 f"{r['wall']:.3f}{ran} | {r['rss_per_task']:.0f} B | "
                 f"{r['virt_per_task']:.0f} B |")
    L.append("")
    return {"lines": L, "targets": targets, "memory": memory,
            "chart": chart}


# Where the time goes when a target is missed (from perf and callgrind; see
# bench/NOTES.md for the measurements behind them).
WHERE = {
    "await_done": "the call is a thread check and a state read; a miss "
                  "means the machine was busy (compare the min..max)",
    "spawn": "beyond the stack pool (1 024 stacks per loop) each task pays "
             "an mmap, a guard mprotect and a first-touch fault, and its "
             "munmap's TLB shoot-down (NOTES.md: the stack pool)",
    "spawn_b64": "see spawn: the pool keeps 1 024 stacks, so batches of 64 "
                 "should never map; a miss points at the pool",
    "future_mem": "a future is a 64-byte slab object (static assert in "
                  "core/future.c); more means slab or heap overhead",
}
