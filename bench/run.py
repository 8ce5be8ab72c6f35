#!/usr/bin/env python3
"""bench/run.py — run the benchmarks and write bench/RESULTS.md.

    bench/run.py BUILD_DIR [--quick] [--runs N] [--out FILE]

For each engine, interloop on that engine and the same workload written
directly on it (bench/native) run alternately, A B A B ..., so both see the
same machine weather; figures are medians with the min..max, and each
comparison is a ratio of the two medians from this one run. The full
loop_bench matrix (every backend) follows.
"""
import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys

ENGINES = ["uv", "ev", "event"]
TARGET_CHAIN_MPS = 30.0
TARGET_TIMERS_S = 0.5


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    name, wall, cpu, count = out.split()[:4]
    return float(wall), float(cpu), int(count)


def med(xs):
    return statistics.median(xs)


def fmt_range(xs, f="{:.3f}"):
    return (f + " (" + f + ".." + f + ")").format(med(xs), min(xs), max(xs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__),
                                                  "RESULTS.md"))
    a = ap.parse_args()
    runs = 3 if a.quick and a.runs == 5 else a.runs
    bindir = os.path.join(a.build, "bin")
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
    notes = os.path.join(os.path.dirname(__file__), "NOTES.md")
    if os.path.exists(notes):
        L.append(open(notes).read())
    with open(a.out, "w") as f:
        f.write("\n".join(L) + "\n")
    print("wrote", a.out, file=sys.stderr)


if __name__ == "__main__":
    main()
