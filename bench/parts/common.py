"""bench/parts/common.py — what every benchmark part shares.

A part is a module in bench/parts with

    NAME = "loop"                 # --only NAME, bench/results/NAME.json
    ORDER = 10                    # where its section goes in RESULTS.md
    def run(ctx): -> dict         # runs it; JSON-serialisable result

and the dict it returns has

    lines    the markdown of its section, beginning with "## Title"
    targets  [{"target", "backend", "measured", "met": bool, "by",
               "where"}] — one row per target and backend for the table at
             the top of RESULTS.md; "by" says by how much a miss missed
             ("5.0%"), "where" (required for a miss) where the time goes
    memory   [{"object", "contender", "bytes", "how"}] — rows of the
             "memory per object" table at the top
    chart    [{"panel", "workload", "series", "value"}] — bars of
             bench/results.png: panel "native" is interloop's cost over
             the engine's own (1 = the same, lower is better; series uv, ev,
             event), panel "python" is how many times faster interloop on
             libuv is than asyncio and uvloop (series asyncio, uvloop)

run.py stores each part's dict in bench/results/NAME.json and builds
RESULTS.md and results.png from every stored part, so one part can be rerun
(--only NAME) without the others.
"""
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINES = ["uv", "ev", "event"]
# With two CPUs or more, servers run on CPU 1 and clients on CPU 0 or 1
# (see parts/net.py for why the ping-pong client shares the server's CPU).
NET_CPUS = (0, 1) if (os.cpu_count() or 1) >= 2 else None


class Ctx:
    """What a part is given: the options and where the programs are."""

    def __init__(self, build, quick, runs):
        self.build = build
        self.bindir = os.path.join(build, "bin")
        self.quick = quick
        self.runs = runs

    def prog(self, name):
        return os.path.join(self.bindir, name)

    def have(self, name):
        return os.path.exists(self.prog(name))

    def engines(self):
        """The engines interloop was built with (uv, ev, event)."""
        info = subprocess.run([self.prog("interloop-info")],
                              capture_output=True, text=True).stdout
        return [e for e in ENGINES
                if any(l.startswith(e + " ") for l in info.splitlines())]

    def backends(self):
        return ["builtin"] + self.engines()


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def med(xs):
    return statistics.median(xs)


def fmt_range(xs, f="{:.3f}"):
    """median (min..max)"""
    return (f + " (" + f + ".." + f + ")").format(med(xs), min(xs), max(xs))


def cell(vals, errs, f="{:.3f}"):
    """A table cell: median (min..max), or why the runs failed."""
    if errs and not vals:
        return "failed: " + errs[0]
    s = fmt_range(vals, f) if vals else "—"
    if errs:
        s += f" ({len(errs)} failed: {errs[0]})"
    return s


def num(n):
    """10000 as "10 000"."""
    return f"{n:,}".replace(",", " ")


def paired(a, b):
    """Per-round ratios a[i] / b[i] (the same round, the same weather)."""
    return [x / y for x, y in zip(a, b) if y]


def ratio_cell(num_v, den_v):
    """("median ratio (per-round min..max)", ratio or None) of two lists of
    per-round figures (None where a round failed)."""
    n = [x for x in num_v if x is not None]
    d = [x for x in den_v if x is not None]
    if not n or not d:
        return "—", None
    r = med(n) / med(d)
    both = [(x, y) for x, y in zip(num_v, den_v)
            if x is not None and y is not None]
    pr = paired([x for x, _ in both], [y for _, y in both])
    rng = f" ({min(pr):.3f}..{max(pr):.3f})" if len(pr) > 1 else ""
    return f"{r:.3f}{rng}", r


def target(label, backend, measured, ok, by="", where=""):
    """A row of the targets table."""
    return {"target": label, "backend": backend, "measured": measured,
            "met": bool(ok), "by": "" if ok else by, "where": where}


def size_label(size, n, compact=False):
    """(64, 50) as "64 B × 50" (compact, for the chart: "64B×50")."""
    if compact:
        s = f"{size >> 10}K" if size >= 1024 else f"{size}B"
        return f"{s}×{n}"
    s = f"{size >> 10} KiB" if size >= 1024 else f"{size} B"
    return f"{s} × {n}"


def parse_line(text):
    """{wall, cpu, count, key: value...} from a program's line "<name>
    <wall s> <cpu s> <count> [key=value ...]", or None."""
    words = text.split()
    if len(words) < 4:
        return None
    r = {"wall": float(words[1]), "cpu": float(words[2]),
         "count": int(words[3])}
    for kv in words[4:]:
        k, _, v = kv.partition("=")
        try:
            r[k] = float(v)
        except ValueError:
            r[k] = v
    return r


def run_line(cmd, timeout=300):
    """One run of a program that prints "<name> <wall s> <cpu s> <count>
    [key=value ...]": {wall, cpu, count, key: value...}, or {"error": why}
    when it crashed, failed or hung."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"hung (> {timeout} s)"}
    r = parse_line(p.stdout) if p.returncode == 0 else None
    if r is None:
        why = p.stderr.strip().splitlines()[-1:] or [""]
        rc = p.returncode
        sig = f"signal {-rc}" if rc < 0 else f"exit {rc}"
        return {"error": f"{sig} {why[0][:120]}".strip()}
    return r


def python_with_uvloop():
    """A Python that imports uvloop (Debian's python3-uvloop belongs to
    /usr/bin/python3, which a pyenv or venv python3 may hide), or None."""
    for py in ("/usr/bin/python3", sys.executable):
        if py and os.path.exists(py) and subprocess.run(
                [py, "-c", "import uvloop"], capture_output=True).returncode == 0:
            return py
    return None


def python_contenders(script):
    """[(name, argv prefix)] for asyncio and uvloop running bench/py/SCRIPT
    (asyncio alone when no Python has uvloop)."""
    script = os.path.join(HERE, "py", script)
    py = python_with_uvloop()
    if py:
        return [("asyncio", [py, script]), ("uvloop", [py, script, "--uvloop"])]
    log("bench: no Python with uvloop; asyncio only")
    return [("asyncio", [sys.executable, script])]


def python_versions():
    """The interpreter the runs use, as "Python 3.x.y, uvloop a.b.c"."""
    code = ("import platform\n"
            "try:\n import uvloop; u = ', uvloop ' + uvloop.__version__\n"
            "except ImportError:\n u = ''\n"
            "print('Python ' + platform.python_version() + u)")
    return subprocess.run([python_with_uvloop() or sys.executable, "-c", code],
                          capture_output=True, text=True).stdout.strip()


class Server:
    """A server process that prints "port N" once it listens, pinned to
    NET_CPUS[1]; stop() ends it with SIGTERM."""

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


def pinned(argv, cpu):
    """argv run on CPU cpu (when there are two CPUs and taskset)."""
    if NET_CPUS and shutil.which("taskset"):
        return ["taskset", "-c", str(cpu)] + argv
    return argv
