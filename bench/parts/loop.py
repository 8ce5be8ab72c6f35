"""bench/parts/loop.py — the event loop: call_soon chain, loop iteration,
timers fired and cancelled, thread-safe ping-pong, memory per timer.

Every workload runs on each interloop backend (`loop_bench`), the same work
written directly on each engine (`native_uv`, `native_ev`,
`native_event`), the raw epoll floor where one applies
(`native_loop_epoll`), and asyncio and uvloop (`bench/py/asyncio_loop.py`):
every contender in turn, A B C … A B C …, ctx.runs rounds, a fresh process
per run.
"""
import time

from parts import common
from parts.common import cell, med, num, ratio_cell

NAME = "loop"
ORDER = 10

TARGET_CHAIN_MPS = 30.0
TARGET_TIMERS_S = 0.5
THREADS = (1, 2, 4)
# Seconds a run may take (quick, full) before it counts as hung: a few
# times the slowest contender's run on a busy machine.
TIMEOUT = {"threadsafe": (3, 10)}
TIMEOUT_OTHERS = (10, 30)

# N per run, (quick, full), by contender class: "c" interloop, natives and
# the floor; "idle" native uv and ev chains (one poll per callback, ~60 x
# slower); "py" asyncio and uvloop. Figures are per operation, so a smaller
# N for the slow contenders changes no ratio — except that a shorter
# million_timers schedule spans fewer milliseconds (said in the section).
SIZES = {
    "chain": {"c": (1_000_000, 10_000_000), "idle": (100_000, 500_000),
              "py": (10_000, 200_000)},
    "iteration": {"c": (20_000, 200_000), "py": (10_000, 100_000)},
    "timers": {"c": (50_000, 1_000_000), "py": (10_000, 200_000)},
    "timers_cancel": {"c": (50_000, 1_000_000), "py": (10_000, 100_000)},
    "threadsafe": {"c": (2_000, 20_000), "py": (500, 5_000)},
    "timer_mem": {"c": (50_000, 1_000_000), "py": (10_000, 100_000)},
}
# Which workloads have a raw epoll floor.
FLOOR = ("iteration", "threadsafe")


class Workload:
    """One table: how to read a run's figure (fig, shown) and its cost per
    operation (cost, for every ratio; lower is better)."""

    def __init__(self, key, wl, threads, unit, fmt, fig, cost, text):
        self.key, self.wl, self.threads = key, wl, threads
        self.unit, self.fmt, self.fig, self.cost = unit, fmt, fig, cost
        self.text = text


def _per_m(r):
    return r["cpu"] / r["count"] * 1e6


WORKLOADS = [
    Workload("chain", "chain", 0, "M callbacks/s, higher is better",
             "{:.2f}", lambda r: r["count"] / r["cpu"] / 1e6,
             lambda r: r["cpu"] / r["count"] * 1e9,
             "each callback schedules the next with `il_loop_call_soon` "
             "(libuv's loop_count); native: the engine's own idiom for \"run "
             "this again soon\" — libuv and libev an idle watcher (one loop "
             "iteration, with its non-blocking poll, per callback), libevent "
             "an event re-activated from its own callback; asyncio and "
             "uvloop `loop.call_soon`. Rate over the CPU time (user + system) "
             "of the run: these runs never sleep, so on a quiet machine "
             "that is their wall-clock time, and on a busy one it leaves out "
             "the time they waited for a CPU."),
    Workload("iteration", "iteration", 0, "ns per iteration, lower is "
             "better", "{:.0f}", lambda r: r["cpu"] / r["count"] * 1e9,
             lambda r: r["cpu"] / r["count"] * 1e9,
             "one loop iteration with nothing ready and one idle fd (an "
             "eventfd nobody writes) registered for reading: interloop "
             "`il_loop_run(IL_RUN_NOWAIT)` N times, native `uv_run("
             "UV_RUN_NOWAIT)`, `ev_run(EVRUN_NOWAIT)`, `event_base_loop("
             "EVLOOP_NONBLOCK)`, the floor `epoll_wait(ep, ev, 64, 0)`. "
             "asyncio has no public \"one iteration without waiting\": its "
             "figure is the call_soon chain with the idle fd registered, "
             "where each callback costs one `_run_once` (a zero-timeout "
             "poll, the timer check, the callback) — uvloop likewise runs "
             "one libuv iteration per chained callback; so theirs include "
             "a callback that the others do not run. CPU time per iteration "
             "(these runs never sleep either)."),
    Workload("timers", "timers", 0, "s CPU per 1 M timers, lower is better",
             "{:.3f}", _per_m, _per_m,
             "libuv's million_timers: N one-shot timers scheduled (1 000 "
             "per millisecond step, deadlines 1 ms .. N/1000 ms) and all "
             "fired; interloop `il_loop_call_later`, native `uv_timer_start`"
             ", `ev_timer_start`, `evtimer_add` (the benchmark owns the "
             "watchers, in one array), asyncio `loop.call_later`. CPU time "
             "(user + system) of the whole run per 1 000 000 timers — the "
             "wall time is set by the schedule."),
    Workload("timers_cancel", "timers_cancel", 0, "s CPU per 1 M timers, "
             "lower is better", "{:.3f}", _per_m, _per_m,
             "the same N timers scheduled, then all cancelled, then one "
             "non-blocking loop pass (interloop and asyncio drop cancelled "
             "timers from the heap lazily, in a pass); interloop "
             "`il_handle_cancel` + `il_handle_release`, native "
             "`uv_timer_stop`, `ev_timer_stop`, `evtimer_del`, asyncio "
             "`TimerHandle.cancel()`. CPU time per 1 000 000 timers."),
] + [
    Workload(f"threadsafe×{t}", "threadsafe", t, "k round trips/s (all "
             "threads together), higher is better", "{:.1f}",
             lambda r: r["count"] / r["wall"] / 1e3,
             lambda r: r["wall"] / r["count"] * 1e6,
             f"libuv's async{t} shape: "
             f"{'one thread sends' if t == 1 else f'{t} threads each send'}"
             f" to the loop, the loop's "
             f"callback answers (a semaphore post; asyncio: a lock "
             f"release), the thread waits for the answer and sends again; "
             f"interloop `il_loop_call_soon_threadsafe`, native one "
             f"`uv_async_send` / `ev_async_send` watcher per thread, "
             f"libevent `event_active` from the thread "
             f"(`evthread_use_pthreads`), the floor one eventfd per thread "
             f"(write; `epoll_wait` + read), asyncio "
             f"`call_soon_threadsafe`. N round trips in all"
             f"{f' (N / {t} per thread)' if t > 1 else ''}, over the "
             f"wall-clock time (the threads sleep while they wait, so CPU "
             f"time would leave the latency out).")
    for t in THREADS
] + [
    Workload("timer_mem", "timer_mem", 0, "bytes of RSS per pending timer, "
             "lower is better", "{:.1f}", lambda r: r["bytes_per_timer"],
             lambda r: r["bytes_per_timer"],
             "N timers pending an hour ahead: the process's resident-set "
             "growth (`/proc/self/statm`) while scheduling them, over N — "
             "the handle, the engine's heap entry and allocator overhead. "
             "interloop: `il_loop_call_later` with no handle kept (the loop "
             "holds it); native: one watcher per timer with `malloc` as a "
             "library would (`uv_timer_t`, `ev_timer`; libevent "
             "`event_new`); asyncio and uvloop: `loop.call_later` "
             "TimerHandles."),
]


def contenders(ctx, w):
    """[(name, kind, engine, argv(n), size class)] for workload w."""
    targs = ["--threads", str(w.threads)] if w.threads else []
    nargs = [str(w.threads)] if w.threads else []  # the natives' THREADS
    C = []
    for b in ctx.backends():
        C.append((b, "interloop", b,
                  lambda n, b=b: [ctx.prog("loop_bench"), "--backend", b,
                                  "--workload", w.wl, str(n)] + targs, "c"))
    for e in ctx.engines():
        if ctx.have("native_" + e):
            cls = "idle" if w.wl == "chain" and e != "event" else "c"
            C.append(("native " + e, "native", e,
                      lambda n, e=e: [ctx.prog("native_" + e), w.wl, str(n)]
                      + nargs, cls))
    if w.wl in FLOOR and ctx.have("native_loop_epoll"):
        C.append(("floor", "floor", None,
                  lambda n: [ctx.prog("native_loop_epoll"), w.wl, str(n)]
                  + nargs, "c"))
    for name, argv in common.python_contenders("asyncio_loop.py"):
        C.append((name, "python", None,
                  lambda n, argv=argv: argv + ["--workload", w.wl, str(n)]
                  + targs, "py"))
    return C


def size(ctx, w, cls):
    return SIZES[w.wl][cls][0 if ctx.quick else 1]


def measure(ctx, w):
    """{contender: [run dicts]} over ctx.runs rounds, A B C … A B C …"""
    t0 = time.monotonic()
    C = contenders(ctx, w)
    res = {c[0]: [] for c in C}
    for _ in range(ctx.runs):
        for name, _, _, argv, cls in C:
            limit = TIMEOUT.get(w.wl, TIMEOUT_OTHERS)[0 if ctx.quick else 1]
            res[name].append(common.run_line(argv(size(ctx, w, cls)), limit))
    common.log(w.key, f"{time.monotonic() - t0:.1f} s",
               {n: [round(w.fig(r), 3) if "error" not in r else r["error"]
                    for r in rs] for n, rs in res.items()})
    return C, res


def per_round(runs, f):
    """f of each round's run, None where the run failed."""
    return [None if "error" in r else f(r) for r in runs]


def good(xs):
    return [x for x in xs if x is not None]


def table(w, C, res):
    """The markdown table of one workload."""
    cost = {n: per_round(rs, w.cost) for n, rs in res.items()}
    kinds = {c[0]: (c[1], c[2]) for c in C}
    pys = [n for n, (k, _) in kinds.items() if k == "python"]
    L = [f"| contender | {w.unit} | cost / native | cost / floor | " +
         " | ".join(f"{p} ÷ this" for p in pys) + " |",
         "|---|---|---|---|" + "---|" * len(pys)]
    for name, (kind, engine) in kinds.items():
        figs = figs_of(w, res[name])
        errs = [r["error"] for r in res[name] if "error" in r]
        label = f"interloop {name}" if kind == "interloop" else name
        row = [label, cell(figs, errs, w.fmt)]
        nat = "native " + str(engine)
        row.append(ratio_cell(cost[name], cost[nat])[0]
                   if kind == "interloop" and nat in cost else "—")
        row.append(ratio_cell(cost[name], cost["floor"])[0]
                   if kind in ("interloop", "native") and "floor" in cost
                   else "—")
        for p in pys:
            row.append(ratio_cell(cost[p], cost[name])[0]
                       if kind != "python" else "—")
        L.append("| " + " | ".join(row) + " |")
    L.append("")
    return L


def chart_bars(w, res):
    bars = []
    cost = {n: per_round(rs, w.cost) for n, rs in res.items()}
    for e in common.ENGINES:
        if e in cost and "native " + e in cost:
            r = ratio_cell(cost[e], cost["native " + e])[1]
            if r:
                bars.append({"panel": "native", "workload": w.key,
                             "series": e, "value": r})
    for p in ("asyncio", "uvloop"):
        if p in cost and "uv" in cost:
            r = ratio_cell(cost[p], cost["uv"])[1]
            if r:
                bars.append({"panel": "python", "workload": w.key,
                             "series": p, "value": r})
    return bars


def figs_of(w, runs):
    return good(per_round(runs, w.fig))


def chain_where(b, figs, res):
    """Where the time of a missed call_soon target goes."""
    w = WORKLOADS[0]
    s = ("the core's ~150 instructions per link (NOTES.md: the thread "
         "check, a handle from the free list, the ready queue, the pass; "
         "the callgrind section has this run's instructions per call_soon)")
    base = figs_of(w, res.get("builtin", []))
    if b != "builtin" and base and figs:
        extra = 1e3 / med(figs) - 1e3 / med(base)
        s += (f"; on {b}, {extra:.1f} ns per callback more than builtin in "
              f"the same rounds — the engine iteration every 128 passes "
              f"and the adapter's per-pass hooks")
    return s + ". A miss on a busy machine can also be weather: see the " \
        "min..max."


def timers_where(b, res):
    """Where the time of a missed timers target goes."""
    w = WORKLOADS[2]
    s = ("the core's part: the 4-ary heap's sift-down (under callgrind "
         "~57 % of the ~785 instructions per timer) and the first touch of "
         "a million 64-byte handles and 24-byte heap entries: ~21 600 page "
         "faults per run, 0.14-0.17 s of system time in a fast run on this "
         "VM and ~0.14 s more in a slow one "
         "(NOTES.md, *timers*)")
    base = figs_of(w, res.get("builtin", []))
    mine = figs_of(w, res.get(b, []))
    if mine:
        s += (f"; this backend's rounds spread from {min(mine):.3f} to "
              f"{max(mine):.3f} s"
              + (" (the fastest under the target)"
                 if min(mine) <= TARGET_TIMERS_S else ""))
    if b != "builtin" and base and mine:
        s += (f"; on {b}, {med(mine) - med(base):+.3f} s against builtin in "
              f"the same rounds: per wake-up, the adapter re-arms the "
              f"engine's one timer for the next deadline (on libevent an "
              f"event_add and, with its precise timer, a timerfd_settime "
              f"system call) and the engine dispatches")
    nat = figs_of(w, res.get("native " + b, []))
    if nat:
        s += f"; native {b} took {med(nat):.3f} s CPU in the same rounds"
    return s + "."


def targets(ctx, res_by_key):
    T = []
    chain, tim = res_by_key["chain"], res_by_key["timers"]
    for b in ctx.backends():
        figs = figs_of(WORKLOADS[0], chain.get(b, []))
        if not figs:
            T.append(common.target(
                f"call_soon ≥ {TARGET_CHAIN_MPS:.0f} M/s", b, "failed",
                False, "—", "the run failed"))
            continue
        m = med(figs)
        ok = m >= TARGET_CHAIN_MPS
        T.append(common.target(
            f"call_soon ≥ {TARGET_CHAIN_MPS:.0f} M/s", b, f"{m:.1f} M/s", ok,
            f"{100 * (1 - m / TARGET_CHAIN_MPS):.1f}%",
            "" if ok else chain_where(b, figs, chain)))
    n = size(ctx, WORKLOADS[2], "c")
    scaled = "" if n == 1_000_000 else f" ({num(n)} timers, scaled to 1 M)"
    for b in ctx.backends():
        figs = figs_of(WORKLOADS[2], tim.get(b, []))
        label = f"1 M timers scheduled and fired ≤ {TARGET_TIMERS_S} s (CPU)"
        if not figs:
            T.append(common.target(label, b, "failed", False, "—",
                                   "the run failed"))
            continue
        m = med(figs)
        ok = m <= TARGET_TIMERS_S
        T.append(common.target(
            label, b, f"{m:.3f} s CPU{scaled}", ok,
            f"{100 * (m / TARGET_TIMERS_S - 1):.1f}%",
            "" if ok else timers_where(b, tim)))
    return T


def memory(ctx, C, res):
    """Rows of the memory per object table: one per contender."""
    w = WORKLOADS[-1]
    how = (f"RSS growth per pending timer with {num(size(ctx, w, 'c'))} "
           f"pending an hour ahead (asyncio and uvloop: "
           f"{num(size(ctx, w, 'py'))}): handle, heap entry and allocator "
           f"overhead. interloop `il_loop_call_later` with no handle kept; "
           f"native one malloc'd `uv_timer_t` / `ev_timer` / `event_new` "
           f"per timer; asyncio and uvloop `loop.call_later` (*timer_mem* "
           f"in the event loop section).")
    rows = []
    for name, *_ in C:
        figs = figs_of(w, res[name])
        rows.append({"object": "timer handle", "contender": name,
                     "bytes": med(figs) if figs else None, "how": how})
    return rows


def run(ctx):
    t0 = time.monotonic()
    res_by_key, C_by_key = {}, {}
    for w in WORKLOADS:
        C_by_key[w.key], res_by_key[w.key] = measure(ctx, w)
    L = ["## The event loop\n"]
    L.append(
        f"`loop_bench` on every backend against the same work written "
        f"directly on each engine (`bench/native/native_uv.c`, "
        f"`native_ev.c`, `native_event.c`), a raw epoll floor where one "
        f"applies (`bench/native/loop_epoll.c`), and asyncio and uvloop "
        f"(`bench/py/asyncio_loop.py`, {common.python_versions()}). Every "
        f"contender in turn, A B C … A B C …, {ctx.runs} round"
        f"{'s' if ctx.runs > 1 else ''}, a fresh process per run; figures "
        f"are medians (min..max). *cost / native* and *cost / floor*: this "
        f"contender's cost per operation (time, CPU or bytes) over the "
        f"engine's own (same engine) and the floor's — below 1 is cheaper; "
        f"*asyncio ÷ this*, *uvloop ÷ this*: their cost over this one's, "
        f"how many times cheaper this is. Each ratio is of the medians, "
        f"with the min..max of the same ratio taken round by round.\n")
    for w in WORKLOADS:
        s = SIZES[w.wl]
        q = 0 if ctx.quick else 1
        ns = f"N = {num(s['c'][q])}"
        if "idle" in s:
            ns += f" (native uv and ev: {num(s['idle'][q])})"
        ns += f", asyncio and uvloop N = {num(s['py'][q])}"
        L.append(f"### {w.key}\n")
        L.append(f"{w.text} {ns}.\n")
        L += table(w, C_by_key[w.key], res_by_key[w.key])
    L.append(f"(This section took {time.monotonic() - t0:.0f} s.)\n")
    chart = [b for w in WORKLOADS for b in chart_bars(w, res_by_key[w.key])]
    return {"lines": L, "targets": targets(ctx, res_by_key),
            "memory": memory(ctx, C_by_key["timer_mem"],
                             res_by_key["timer_mem"]),
            "chart": chart}
