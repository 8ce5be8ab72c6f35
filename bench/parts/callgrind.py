"""bench/parts/callgrind.py — instruction counts of the hot paths
(valgrind --tool=callgrind): per call_soon, per timer, per echo round trip;
interloop on every backend against the same work written on each engine
(bench/native) and, for the echo, the raw-epoll floor.

Each figure is the difference of two runs, N and 2 N operations, divided by
N: start-up and shut-down, which both runs share, cancel. Callgrind counts
the instructions the process executes in user space (its own code and its
libraries, not the kernel's side of a system call), so the counts do not
depend on the machine's load: one run each, not ctx.runs. Quick mode keeps
the stored figures (callgrind is too slow for it).

bench/net_callgrind.py uses measure() and echo_servers() to print where an
echo server's instructions go, function by function.
"""
import concurrent.futures
import os
import queue
import shutil
import subprocess
import tempfile
import time

from parts.common import NET_CPUS, Server, log, num, pinned

NAME = "callgrind"
ORDER = 60

CHAIN_N = 50_000    # call_soon links (and 2 N)
TIMERS_N = 20_000   # million_timers schedule: 1 000 timers per ms
ECHO_TRIPS = {1: 5_000, 50: 20_000}   # round trips (and 2 N) by connections
ECHO_SIZE = 64
ECHO_WARMUP = 10    # round trips per connection before the counted ones
TIMEOUT = 60        # seconds for one valgrind run (they take 1-5 s)
JOBS = 2 if NET_CPUS else 1


def total_ir(path):
    """Instructions of a callgrind output file ("summary:" or "totals:")."""
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError("no totals in " + os.path.basename(path))


def valgrind(out):
    return ["valgrind", "-q", "--tool=callgrind",
            f"--callgrind-out-file={out}"]


def why(rc, stderr):
    """A failed process's exit status and last line of stderr."""
    last = (stderr or "").strip().splitlines()[-1:] or [""]
    sig = f"signal {-rc}" if rc < 0 else f"exit {rc}"
    return f"{sig} {last[0][:100]}".strip()


def run_program(argv, out, cpu):
    """Instructions of one run of a program that exits by itself."""
    p = subprocess.run(pinned(valgrind(out) + argv, cpu), capture_output=True,
                       text=True, timeout=TIMEOUT)
    if p.returncode != 0:
        raise RuntimeError(why(p.returncode, p.stderr))
    return total_ir(out)


def run_echo(server, client, trips, conns, out, cpu):
    """Instructions of one echo server run (under valgrind, --once) that
    serves `trips` ping-pong round trips of bench_echo_client over `conns`
    connections; server and client share CPU `cpu` and take turns."""
    try:
        srv = Server(pinned(valgrind(out) + server + ["--once"], cpu))
    except RuntimeError as e:  # "no port from ARGV: why"
        raise RuntimeError("no port: " + str(e).rpartition(": ")[2])
    try:
        c = subprocess.run(pinned([client, "pingpong", str(srv.port),
                                   "--trips", str(trips), "--warmup",
                                   str(ECHO_WARMUP), "--conns", str(conns),
                                   "--size", str(ECHO_SIZE)], cpu),
                           capture_output=True, text=True, timeout=TIMEOUT)
        if c.returncode != 0:
            raise RuntimeError("client: " + why(c.returncode, c.stderr))
        _, err = srv.p.communicate(timeout=TIMEOUT)  # --once: it ends
    except BaseException:
        srv.stop()
        raise
    if srv.p.returncode != 0:
        raise RuntimeError(why(srv.p.returncode, err))
    return total_ir(out)


def measure(run1, n, tmp, tag, cpu):
    """(instructions per operation, None) from run1(n) and run1(2 n), or
    (None, why) when a run failed or hung. run1(count, out, cpu) returns a
    run's instruction count; the output files are tmp/tag.{1,2}.out."""
    try:
        f1, f2 = (os.path.join(tmp, f"{tag}.{k}.out") for k in (1, 2))
        ir1 = run1(n, f1, cpu)
        ir2 = run1(2 * n, f2, cpu)
        return (ir2 - ir1) / n, None
    except subprocess.TimeoutExpired:
        return None, f"hung (> {TIMEOUT} s)"
    except (RuntimeError, OSError) as e:
        return None, str(e)[:120]


def loop_jobs(ctx):
    """{(measure, backend, contender): run1} for call_soon and timers."""
    jobs = {}
    for wl in ("chain", "timers"):
        for b in ctx.backends():
            jobs[(wl, b, "interloop")] = (
                lambda n, out, cpu, b=b, wl=wl: run_program(
                    [ctx.prog("loop_bench"), "--backend", b, "--workload",
                     wl, str(n)], out, cpu))
            if b != "builtin" and ctx.have("native_" + b):
                jobs[(wl, b, "native")] = (
                    lambda n, out, cpu, b=b, wl=wl: run_program(
                        [ctx.prog("native_" + b), wl, str(n)], out, cpu))
    return jobs


def echo_servers(ctx):
    """[(backend, contender, server argv)]: interloop's protocol and streams
    servers on every backend, each engine's own, the raw-epoll floor."""
    srv = ctx.prog("bench_echo_server")
    S = [("epoll", "floor", [ctx.prog("native_echo_epoll")])]
    for b in ctx.backends():
        for style in ("protocol", "streams"):
            S.append((b, style, [srv, "--backend", b, "--style", style]))
        if b != "builtin" and ctx.have("native_echo_" + b):
            S.append((b, "native", [ctx.prog("native_echo_" + b)]))
    return S


def echo_jobs(ctx):
    jobs = {}
    client = ctx.prog("bench_echo_client")
    for conns in ECHO_TRIPS:
        for b, who, argv in echo_servers(ctx):
            jobs[(f"echo{conns}", b, who)] = (
                lambda n, out, cpu, argv=argv, conns=conns: run_echo(
                    argv, client, n, conns, out, cpu))
    return jobs


def count(key):
    if key[0] == "chain":
        return CHAIN_N
    if key[0] == "timers":
        return TIMERS_N
    return ECHO_TRIPS[int(key[0][4:])]


def run_all(jobs, tmp):
    """{key: (per operation, why)}, JOBS valgrind runs at a time, each on
    its own CPU."""
    cpus = queue.Queue()
    for c in (NET_CPUS or (0,))[:JOBS]:
        cpus.put(c)

    def one(key):
        cpu = cpus.get()
        try:
            r = measure(jobs[key], count(key), tmp, "_".join(key), cpu)
        finally:
            cpus.put(cpu)
        log(f"callgrind: {' '.join(key)}: "
            f"{r[1] if r[0] is None else round(r[0])}")
        return key, r

    with concurrent.futures.ThreadPoolExecutor(JOBS) as ex:
        return dict(ex.map(one, jobs))


# ---- the section -----------------------------------------------------------

def fig(res, key):
    """A table cell: instructions per operation, or why they are missing."""
    v, err = res.get(key, (None, None))
    if v is None:
        return f"failed: {err}" if err else "—"
    return num(round(v))


def ratio(res, a, b):
    x, y = res.get(a, (None,))[0], res.get(b, (None,))[0]
    return x / y if x is not None and y else None


def signed(x):
    """-241.3 as "−241", 334 as "+334"."""
    return ("+" if x >= 0 else "−") + num(abs(round(x)))


def rcell(r):
    return "—" if r is None else f"{r:.2f}"


def loop_table(res, wl, backends):
    L = ["| backend | interloop | native | interloop / native | "
         "interloop − native |", "|---|---|---|---|---|"]
    for b in backends:
        il, nat = (wl, b, "interloop"), (wl, b, "native")
        x, y = res.get(il, (None,))[0], res.get(nat, (None,))[0]
        diff = "—" if x is None or y is None else signed(x - y)
        L.append(f"| {b} | {fig(res, il)} | {fig(res, nat)} | "
                 f"{rcell(ratio(res, il, nat))} | {diff} |")
    return L + [""]


def echo_table(res, conns, backends):
    m = f"echo{conns}"
    L = ["| backend | protocol | streams | native | protocol / native | "
         "streams / native |", "|---|---|---|---|---|---|",
         f"| floor (raw epoll) | | | {fig(res, (m, 'epoll', 'floor'))} | | |"]
    for b in backends:
        nat = (m, b, "native")
        L.append(f"| {b} | {fig(res, (m, b, 'protocol'))} | "
                 f"{fig(res, (m, b, 'streams'))} | "
                 f"{fig(res, nat) if b != 'builtin' else '—'} | "
                 f"{rcell(ratio(res, (m, b, 'protocol'), nat))} | "
                 f"{rcell(ratio(res, (m, b, 'streams'), nat))} |")
    return L + [""]


def chart(res, engines):
    bars = []
    for label, a, b in (("instr/call_soon", ("chain", "interloop"),
                         ("chain", "native")),
                        ("instr/timer", ("timers", "interloop"),
                         ("timers", "native")),
                        ("instr/echo ×50 proto", ("echo50", "protocol"),
                         ("echo50", "native")),
                        ("instr/echo ×50 streams", ("echo50", "streams"),
                         ("echo50", "native"))):
        for e in engines:
            r = ratio(res, (a[0], e, a[1]), (b[0], e, b[1]))
            if r is not None:
                bars.append({"panel": "native", "workload": label,
                             "series": e, "value": r})
    return bars


def section(res, backends, seconds):
    L = ["## Instruction counts (callgrind)\n",
         "Instructions executed in user space per operation, counted by "
         "`valgrind --tool=callgrind`: each figure is the difference of two "
         "runs, N and 2 N operations, divided by N, so start-up and "
         "shut-down cancel; the kernel's side of a system call is not "
         "counted. The counts do not depend on the machine's load, so each "
         "run is made once (not alternated, no min..max): repeated, the "
         "call_soon, timer and one-connection echo counts come out the same "
         "to the instruction (libevent's native timers and the 50-connection "
         "echo, whose batching depends on timing, within 5 % and 0.5 %). "
         "Two valgrind processes run at a time, each pinned to its own CPU. "
         "Lower is better; *interloop / native* is the ratio of the two "
         "counts.\n",
         f"**Per call_soon** (`loop_bench --workload chain` against "
         f"`native_E chain`, N = {num(CHAIN_N)}): interloop — each callback "
         f"schedules the next with `il_loop_call_soon`; native — the "
         f"engine's own idiom for \"run this again soon\" (libuv and libev: "
         f"an idle watcher, one loop iteration and poll per callback; "
         f"libevent: an event re-activated from its own callback).\n"]
    L += loop_table(res, "chain", backends)
    L.append(f"**Per timer** (`--workload timers`, N = {num(TIMERS_N)}): "
             f"a one-shot timer's whole life in libuv's million_timers "
             f"schedule (1 000 timers per ms): scheduled, fired, its handle "
             f"freed or closed. Under valgrind scheduling takes longer than "
             f"the deadlines, so most timers are already due when the loop "
             f"first runs and fire in large batches. A heap's cost grows with "
             f"the log of the timers pending: these are counts at "
             f"{num(TIMERS_N)}-{num(2 * TIMERS_N)} pending.\n")
    L += loop_table(res, "timers", backends)
    L.append("**Per echo round trip**: the echo servers of the network "
             "section (`bench_echo_server --style protocol|streams`, "
             "`native_echo_E`, `native_echo_epoll` as the floor), run "
             "under valgrind with `--once`, driven by `bench_echo_client "
             f"pingpong` ({ECHO_SIZE} B messages, {ECHO_WARMUP} warm-up "
             "round trips per connection in both runs) on the same CPU as "
             "the server; the figure counts the server's instructions "
             "only. With one connection each wake-up serves one round trip; "
             "with 50, the server (slowed ~50× by valgrind) finds many "
             "connections ready at each wake-up and the per-wake-up cost "
             "(the poll, the loop's pass) is spread over them.\n")
    for conns in ECHO_TRIPS:
        L.append(f"*{conns} connection{'s' if conns > 1 else ''}, "
                 f"N = {num(ECHO_TRIPS[conns])} round trips:*\n")
        L += echo_table(res, conns, backends)
    L.append(f"The part took {seconds:.0f} s. `bench/net_callgrind.py` "
             f"shows where an echo server's instructions go, function by "
             f"function.")
    return L


def run(ctx):
    if ctx.quick:
        return None
    if not shutil.which("valgrind"):
        log("callgrind: no valgrind (scripts/deps.sh installs it)")
        return {"lines": ["## Instruction counts (callgrind)\n",
                          "Not run: valgrind is not installed "
                          "(`scripts/deps.sh` installs it)."]}
    t0 = time.monotonic()
    jobs = {**loop_jobs(ctx), **echo_jobs(ctx)}
    with tempfile.TemporaryDirectory(prefix="il-callgrind.") as tmp:
        res = run_all(jobs, tmp)
    backends = ctx.backends()
    return {"lines": section(res, backends, time.monotonic() - t0),
            "chart": chart(res, ctx.engines()),
            "counts": {" ".join(k): v for k, (v, _) in res.items()}}
