#!/usr/bin/env python3
"""bench/run.py — run the benchmarks; write bench/RESULTS.md and results.png.

    bench/run.py BUILD_DIR [--quick] [--runs N] [--only PART[,PART...]]
                 [--render]

BUILD_DIR is a release build (`make bench` makes build-bench). Each part in
bench/parts (loop, tasks, net, udp, callgrind) runs its workloads with every
contender in turn, A B C ... A B C ..., --runs rounds (default 5), and stores
its figures in bench/results/PART.json; RESULTS.md and results.png are then
built from every stored part: the targets table and the memory per object
table at the top, one section per part, bench/NOTES.md at the end.

--only reruns the named parts and keeps the others' stored figures;
--render rebuilds RESULTS.md and results.png from the stored figures alone.
--results DIR keeps a trial's figures out of bench/results (with --out and
--png pointing elsewhere too).
--quick (`make bench-quick`, under two minutes) runs smaller counts.
"""
import argparse
import datetime
import importlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from parts import common  # noqa: E402

RESULTS = os.path.join(HERE, "results")


def load_parts():
    """The part modules, in RESULTS.md order."""
    mods = []
    for f in sorted(os.listdir(os.path.join(HERE, "parts"))):
        if f.endswith(".py") and f not in ("__init__.py", "common.py"):
            m = importlib.import_module("parts." + f[:-3])
            if hasattr(m, "NAME") and hasattr(m, "run"):
                mods.append(m)
    return sorted(mods, key=lambda m: getattr(m, "ORDER", 50))


def stored(name, results):
    path = os.path.join(results, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def machine():
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{platform.machine()}, {os.cpu_count()} cores"
            f"{' (' + model + ')' if model else ''}, Linux "
            f"{platform.release()}")


def targets_table(parts):
    L = ["## Targets\n",
         "DESIGN §6 and the issues' targets, every backend; *by* how much a "
         "miss missed is against the target itself. Each section below has "
         "the figures behind its rows.\n",
         "| target | backend | measured | met? |", "|---|---|---|---|"]
    misses = []
    for p in parts:
        for t in p["targets"]:
            met = "met" if t["met"] else f"**MISSED** by {t['by']}"
            L.append(f"| {t['target']} | {t['backend']} | {t['measured']} | "
                     f"{met} |")
            if not t["met"]:
                misses.append(t)
    L.append("")
    if misses:
        L.append("Where the time goes, for each miss:\n")
        for t in misses:
            L.append(f"- **{t['target']}, {t['backend']}** (missed by "
                     f"{t['by']}): {t['where'] or 'not yet explained'}")
        L.append("")
    return L


def memory_table(parts):
    rows = [m for p in parts for m in p.get("memory", [])]
    if not rows:
        return []
    objs, cols = [], []
    for m in rows:
        if m["object"] not in objs:
            objs.append(m["object"])
        if m["contender"] not in cols:
            cols.append(m["contender"])
    L = ["## Memory per object\n",
         "Bytes of the process's resident set per live object (growth while "
         "many are held, divided by their number: allocator overhead "
         "included), interloop on each backend against the engine's own "
         "object and asyncio's and uvloop's.\n",
         "| object | " + " | ".join(cols) + " |",
         "|---|" + "---|" * len(cols)]
    for o in objs:
        cells = []
        for c in cols:
            v = [m for m in rows if m["object"] == o and m["contender"] == c]
            cells.append(f"{v[0]['bytes']:.0f} B" if v and
                         v[0]["bytes"] is not None else "—")
        L.append(f"| {o} | " + " | ".join(cells) + " |")
    L.append("")
    for o in objs:
        hows = [m["how"] for m in rows if m["object"] == o and m.get("how")]
        if hows:
            L.append(f"- *{o}*: " + " ".join(dict.fromkeys(hows)))
    L.append("")
    return L


PANELS = [
    ("native", ["uv", "ev", "event"],
     "interloop's cost / the engine's own (time, CPU or instructions per "
     "operation; 1 = the same, lower is better)", False),
    ("python", ["asyncio", "uvloop"],
     "how many times faster interloop on libuv is than asyncio and uvloop "
     "(above 1: interloop is faster or smaller; log scale)", True),
]


def chart(parts, png):
    """results.png: one bar panel per PANELS entry; False when gnuplot is
    missing or failed."""
    gp = shutil.which("gnuplot")
    if not gp:
        common.log("run.py: no gnuplot (scripts/deps.sh bench installs it): "
                   "no chart")
        return False
    bars = [c for p in parts for c in p.get("chart", [])]
    tmp = tempfile.mkdtemp(prefix="ilbench")
    script = ["set terminal pngcairo size 1600,1200 font 'sans,10'"
              if "pngcairo" in subprocess.run(
                  [gp, "-e", "set terminal"], capture_output=True,
                  text=True).stderr + subprocess.run(
                  [gp, "-e", "set terminal"], capture_output=True,
                  text=True).stdout
              else "set terminal png size 1600,1200",
              f"set output '{png}'",
              "set termoption noenhanced",
              "set multiplot layout 2,1",
              "set style data histograms",
              "set style histogram clustered gap 1",
              "set style fill solid 0.8 border -1",
              "set boxwidth 0.9", "set key top left",
              "set xtics rotate by -35 left nomirror",
              "set grid ytics", "set datafile missing '?'",
              "set bmargin 9", "set rmargin 10"]
    drawn = 0
    for panel, series, title, log_y in PANELS:
        pb = [b for b in bars if b["panel"] == panel]
        wls = list(dict.fromkeys(b["workload"] for b in pb))
        path = os.path.join(tmp, panel + ".dat")
        with open(path, "w") as f:
            for w in wls:
                vals = []
                for s in series:
                    v = [b["value"] for b in pb
                         if b["workload"] == w and b["series"] == s]
                    vals.append(f"{v[0]:.4g}" if v and v[0] else "?")
                f.write('"' + w.replace('"', "'") + '" ' + " ".join(vals)
                        + "\n")
        script.append(f"set title \"{title}\"")
        script.append("set logscale y" if log_y else "unset logscale y")
        script.append("set yrange [*:*]" if log_y else "set yrange [0:*]")
        if not wls:
            script.append("set label 1 'no figures yet' at graph 0.45,0.5")
            script.append("unset logscale y")
            script.append("set xrange [0:1]")
            script.append("set yrange [0:1]")
            script.append("plot 2 notitle")
            script.append("unset label 1")
            script.append("set xrange [*:*]")
            continue
        plot = ", ".join(f"'{path}' using {i + 2}:xtic(1) title '{s}'"
                         for i, s in enumerate(series))
        plot += ", 1 with lines lt -1 lw 1 dt 2 notitle"
        script.append("plot " + plot)
        drawn += 1
    script.append("unset multiplot")
    sp = os.path.join(tmp, "chart.gp")
    with open(sp, "w") as f:
        f.write("\n".join(script) + "\n")
    p = subprocess.run([gp, sp], capture_output=True, text=True)
    shutil.rmtree(tmp, ignore_errors=True)
    if p.returncode != 0:
        common.log("run.py: gnuplot failed: " + p.stderr.strip()[-300:])
        return False
    return drawn > 0


def render(mods, out, png, results):
    parts, names = [], []
    for m in mods:
        d = stored(m.NAME, results)
        if d:
            parts.append(d)
            names.append(m.NAME)
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    L = ["# Benchmark results\n",
         f"Written {now} by `bench/run.py` (`make bench`) from "
         f"`bench/results/*.json`, on {machine()}: a shared, noisy "
         f"virtual machine, so compare ratios from one run, not absolute "
         f"figures across runs. Every comparison alternates its contenders "
         f"(A B C … A B C …) and reports medians with the min..max.\n"]
    L.append("| part | run | mode | rounds | took |")
    L.append("|---|---|---|---|---|")
    for d in parts:
        L.append(f"| {d['name']} | {d['when']} | "
                 f"{'quick' if d['quick'] else 'full'} | {d['runs']} | "
                 f"{d['seconds']:.0f} s |")
    L.append("")
    if chart(parts, png):
        L.append("![interloop against the engines, asyncio and uvloop]"
                 "(results.png)\n")
    L += targets_table(parts)
    L += memory_table(parts)
    for d in parts:
        L += d["lines"] + [""]
    notes = os.path.join(HERE, "NOTES.md")
    if os.path.exists(notes):
        L.append(open(notes).read())
    with open(out, "w") as f:
        f.write("\n".join(L).rstrip("\n") + "\n")
    common.log("wrote", out, "and", png, "(parts: " + ", ".join(names) + ")")


def main():
    ap = argparse.ArgumentParser(
        description="Run the benchmarks; write bench/RESULTS.md and "
                    "bench/results.png.")
    ap.add_argument("build")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int,
                    help="rounds of each comparison (5; --quick: 3)")
    ap.add_argument("--only", help="comma-separated parts to run; the "
                    "others' stored figures are kept")
    ap.add_argument("--render", action="store_true",
                    help="run nothing: rebuild RESULTS.md and results.png "
                         "from bench/results/*.json")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--png", default=os.path.join(HERE, "results.png"))
    ap.add_argument("--results", default=RESULTS,
                    help="where each part's figures are stored (PART.json) "
                         "and read from; default bench/results")
    a = ap.parse_args()
    if a.runs is None:
        a.runs = 3 if a.quick else 5
    mods = load_parts()
    names = [m.NAME for m in mods]
    only = a.only.split(",") if a.only else names
    for n in only:
        if n not in names:
            ap.error(f"no part {n!r} (parts: {', '.join(names)})")
    os.makedirs(a.results, exist_ok=True)
    t0 = time.monotonic()
    if not a.render:
        ctx = common.Ctx(a.build, a.quick, a.runs)
        for m in mods:
            if m.NAME not in only:
                continue
            common.log(f"== {m.NAME}")
            t = time.monotonic()
            d = m.run(ctx)
            if d is None:
                common.log(f"== {m.NAME}: not run in this mode; its stored "
                           f"figures are kept")
                continue
            d.update(name=m.NAME, quick=a.quick, runs=a.runs,
                     seconds=time.monotonic() - t,
                     when=datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
            for k in ("targets", "memory", "chart"):
                d.setdefault(k, [])
            with open(os.path.join(a.results, m.NAME + ".json"), "w") as f:
                json.dump(d, f, indent=1, ensure_ascii=False)
            common.log(f"== {m.NAME}: {d['seconds']:.0f} s")
    render(mods, a.out, a.png, a.results)
    common.log(f"run.py: {time.monotonic() - t0:.0f} s in all")


if __name__ == "__main__":
    main()
