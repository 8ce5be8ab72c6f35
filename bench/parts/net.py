"""bench/parts/net.py — TCP: echo servers against each other.

Contenders: a raw epoll floor (bench/native/echo_epoll.c); interloop's
bench_echo_server on every backend with the protocol API and with tasks +
streams; each engine's own server (bench/native/echo_uv.c, echo_ev.c,
echo_event.c, and libevent's bufferevent idiom in full runs); asyncio and
uvloop with a Protocol server and a streams server (bench/py/asyncio_echo.py).
All are driven by bench_echo_client (raw epoll, bench/echo_client.c), which
reads the server's CPU time from /proc/PID/task/*/schedstat around the
measured window.

Per round every contender in turn gets one fresh server process that serves
the six ping-pong configurations (64 B, 1 KiB, 64 KiB; 1 and 50 connections)
and then the pump; the idle connections get one more server each, once.
"""
import os
import select
import shutil
import signal
import subprocess
import time

from . import common
from .common import (NET_CPUS, Server, cell, log, med, num, pinned,
                     python_contenders, python_versions, ratio_cell, run_line,
                     parse_line, size_label, target)

NAME = "net"
ORDER = 30

TARGET_RATIO = 1.03  # interloop / native, server CPU per round trip
TARGET_IDLE_B = 512  # an idle TCP transport, its buffers aside
TARGET_CFG = (64, 50)
# (size, connections): round trips in the measured window, full and quick.
# Full: ~0.15-0.25 s of wall time per run for the C servers on a quiet
# 2-core VM (11-36 µs per round trip, client included), up to ~2 × that for
# asyncio; the part then takes ~5 minutes there. Quick: ~0.02-0.05 s.
CONFIGS = [
    ((64, 50), (20_000, 2_000)),
    ((64, 1), (8_000, 1_000)),
    ((1024, 50), (20_000, 2_000)),
    ((1024, 1), (8_000, 1_000)),
    ((65536, 50), (5_000, 0)),
    ((65536, 1), (4_000, 0)),
]
WARMUP = {1: (200, 20), 50: (20, 2)}  # round trips per connection first
PUMP_BYTES = (64 << 20, 16 << 20)
PUMP_CHUNK = 1 << 20
IDLE_CONNS = (10_000, 1_000)
QUICK_ROUNDS = 3
CLIENT_TIMEOUT = 60

# Where the time goes when interloop misses the ratio (callgrind, see
# bench/NOTES.md, "Network: instructions per round trip" and "streams").
WHERE_PROTOCOL = (
    "user-space work on top of the same system calls (bench/NOTES.md, "
    "callgrind): per round trip ~180 instructions in the core's path — the "
    "adapter's io callback, il__host_io, il__io_run, the transport's "
    "on_readable (recv into the loop's shared buffer), data_received, "
    "il_transport_write → writev → send — against ~40 in a native read "
    "callback; per wake-up ~100 in host_dispatch plus what the adapter asks "
    "of the engine each iteration (ev: one more watcher, ~70; event: an "
    "event_active and an event_del, ~250)")
WHERE_STREAMS = (
    "tasks + streams run ~750 instructions per round trip over the protocol "
    "path (bench/NOTES.md, callgrind): the two stack switches per wake-up "
    "of the connection's task, its wake-up handle through the loop's pass, "
    "and the copies into and out of the reader's buffer")




# ---- contenders -------------------------------------------------------------

def contenders(ctx):
    """[(group, contender, argv, heap)]: the floor; per backend interloop's
    protocol and streams servers and the engine's own; asyncio and uvloop.
    heap: the server answers SIGUSR1 with "heap N" when given --heap."""
    srv = ctx.prog("bench_echo_server")
    C = [("epoll", "floor", [ctx.prog("native_echo_epoll")], False)]
    for b in ctx.backends():
        for style in ("protocol", "streams"):
            C.append((b, style, [srv, "--backend", b, "--style", style],
                      style == "protocol"))
        native = ctx.prog("native_echo_" + b)
        if b != "builtin" and os.path.exists(native):
            C.append((b, "native", [native], False))
            if b == "event" and not ctx.quick:
                C.append((b, "bufferevent", [native, "--bufferevent"], False))
    for name, argv in python_contenders("asyncio_echo.py"):
        for style in ("protocol", "streams"):
            C.append((name, style, argv + ["--style", style], False))
    return C


# ---- one server, one round --------------------------------------------------

def client(ctx, srv, workload, args, timeout=CLIENT_TIMEOUT):
    """One bench_echo_client run against srv: run_line's dict. The ping-pong
    client shares the server's CPU (see NOTES.md, "measuring it"), the
    others run on the other CPU."""
    cpu = (NET_CPUS or (0, 0))[1 if workload == "pingpong" else 0]
    argv = pinned([ctx.prog("bench_echo_client"), workload, str(srv.port),
                   "--pid", str(srv.p.pid)] + args, cpu)
    r = run_line(argv, timeout)
    if "error" not in r and not srv.alive():
        r = {"error": "server died"}
    return r


def warm_up(ctx, srv):
    """An unmeasured run against a fresh server: 50 connections, one round
    trip each, then closed. asyncio's first connections cost a mmap, a
    mremap and a munmap per recv (strace) of its 256 KiB buffer until
    glibc's dynamic mmap threshold has adapted, which it has once the first
    connections have closed (without this, asyncio's first configuration
    ran at ~200 µs of CPU per round trip, the next at ~10); and the loop's
    one-off buffers (interloop's 64 KiB read buffer and first handle slab)
    then exist before anything is counted. Every contender gets it."""
    return client(ctx, srv, "pingpong", ["--conns", "50", "--size", "64",
                                         "--trips", "50", "--warmup", "0"])


def configs(ctx):
    """[((size, conns), trips)] of this mode."""
    q = 1 if ctx.quick else 0
    return [(c, t[q]) for c, t in CONFIGS if t[q]]


def one_round(ctx, argv):
    """Every ping-pong configuration, then the pump, against one fresh
    server: ({(size, conns): dict}, pump dict)."""
    q = 1 if ctx.quick else 0
    cfgs = configs(ctx)
    try:
        srv = Server(argv)
    except (RuntimeError, OSError) as e:
        return {c: {"error": str(e)} for c, _ in cfgs}, {"error": str(e)}
    w = warm_up(ctx, srv)
    if "error" in w:
        srv.stop()
        why = "warm-up: " + w["error"]
        return {c: {"error": why} for c, _ in cfgs}, {"error": why}
    pp = {}
    for (size, conns), trips in cfgs:
        pp[(size, conns)] = client(ctx, srv, "pingpong", [
            "--conns", str(conns), "--size", str(size), "--trips", str(trips),
            "--warmup", str(WARMUP[conns][q])])
    pump = client(ctx, srv, "pump", ["--bytes", str(PUMP_BYTES[q]),
                                     "--chunk", str(PUMP_CHUNK)])
    srv.stop()
    return pp, pump


# ---- idle connections -------------------------------------------------------


def heap_now(srv, timeout=10):
    """The server's heap in use (bytes), asked with SIGUSR1; None if it
    does not answer."""
    srv.p.send_signal(signal.SIGUSR1)
    ready, _, _ = select.select([srv.p.stdout], [], [], timeout)
    line = srv.p.stdout.readline() if ready else ""
    return int(line.split()[1]) if line.startswith("heap ") else None


def idle(ctx, argv, heap, conns, timeout=300):
    """One idle run: the client's dict, with heap_per_conn when the server
    reports its heap (measured while the client holds the connections)."""
    try:
        srv = Server(argv + (["--heap"] if heap else []))
    except (RuntimeError, OSError) as e:
        return {"error": str(e)}
    w = warm_up(ctx, srv)
    if "error" in w:
        srv.stop()
        return {"error": "warm-up: " + w["error"]}
    h0 = heap_now(srv) if heap else None
    cmd = pinned([ctx.prog("bench_echo_client"), "idle", str(srv.port),
                  "--conns", str(conns), "--pid", str(srv.p.pid), "--hold"],
                 (NET_CPUS or (0, 0))[0])
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([p.stdout], [], [], timeout)
    r = parse_line(p.stdout.readline()) if ready else None
    if r and h0 is not None:
        h1 = heap_now(srv)
        if h1 is not None:
            r["heap_per_conn"] = (h1 - h0) / conns
    try:
        _, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    if r is None:
        why = (err.strip().splitlines() or ["no output"])[-1]
        r = {"error": ("hung: " if not ready else "") + why[:120]}
    elif not srv.alive():
        r = {"error": "server died"}
    srv.stop()
    return r


# ---- the section ------------------------------------------------------------

class Figures:
    """Per-round figures of one workload: {key: [dict per round]}."""

    def __init__(self):
        self.d = {}

    def add(self, key, r):
        self.d.setdefault(key, []).append(r)

    def vals(self, key, field, scale=1.0):
        """Per-round values (None where the round failed), errors."""
        rs = self.d.get(key, [])
        v = [r[field] * scale if "error" not in r and field in r else None
             for r in rs]
        return v, [r["error"] for r in rs if "error" in r]


def good(v):
    return [x for x in v if x is not None]


def reference(key, keys):
    """What a row's ratio column compares with: the engine's native server
    for interloop, interloop on libuv with the same style for Python."""
    g, c = key
    if g in ("asyncio", "uvloop"):
        return ("uv", c) if ("uv", c) in keys else None
    if c in ("protocol", "streams", "bufferevent") and (g, "native") in keys:
        return (g, "native")
    return None


def pingpong_table(pp, keys, cfg, trips):
    size, conns = cfg
    L = [f"### Ping-pong, {size_label(size, conns)} connection"
         f"{'s' if conns > 1 else ''} ({num(trips)} round trips)\n",
         "| engine | contender | µs server CPU per round trip | / reference "
         "| / floor | k round trips/s (wall) | sleeps per round trip |",
         "|---|---|---|---|---|---|---|"]
    floor, _ = pp.vals((("epoll", "floor"), cfg), "ns_per_trip", 1e-3)
    for key in keys:
        cv, errs = pp.vals((key, cfg), "ns_per_trip", 1e-3)
        ref = reference(key, keys)
        r_ref = ratio_cell(cv, pp.vals((ref, cfg), "ns_per_trip", 1e-3)[0]
                           )[0] if ref else "—"
        r_floor = ratio_cell(cv, floor)[0] if key[1] != "floor" else "—"
        rate = [r["count"] / r["wall"] / 1e3 if "error" not in r and
                r["wall"] > 0 else None for r in pp.d.get((key, cfg), [])]
        wv, _ = pp.vals((key, cfg), "waits_per_trip")
        L.append(f"| {key[0]} | {key[1]} | {cell(good(cv), errs, '{:.2f}')} "
                 f"| {r_ref} | {r_floor} | {cell(good(rate), [], '{:.1f}')} "
                 f"| {cell(good(wv), [], '{:.3f}')} |")
    L.append("")
    return L


def pump_table(pu, keys):
    L = ["### Pump\n",
         "| engine | contender | MB/s | µs server CPU per KiB "
         "| / reference |",
         "|---|---|---|---|---|"]
    for key in keys:
        mv, errs = pu.vals(key, "mb_per_s")
        kv, _ = pu.vals(key, "ns_per_kb", 1e-3)
        ref = reference(key, keys)
        r_ref = ratio_cell(kv, pu.vals(ref, "ns_per_kb", 1e-3)[0])[0] \
            if ref else "—"
        L.append(f"| {key[0]} | {key[1]} | {cell(good(mv), errs, '{:.0f}')} "
                 f"| {cell(good(kv), [], '{:.3f}')} | {r_ref} |")
    L.append("")
    return L


def idle_table(idl, keys, n):
    L = [f"### {num(n)} idle connections\n",
         "| engine | contender | RSS per connection | heap per connection "
         "| setup (s) |", "|---|---|---|---|---|"]
    for key in keys:
        r = idl[key]
        if "error" in r:
            L.append(f"| {key[0]} | {key[1]} | failed: {r['error']} | | |")
            continue
        h = r.get("heap_per_conn")
        L.append(f"| {key[0]} | {key[1]} | {r['rss_per_conn']:.0f} B | "
                 f"{'—' if h is None else f'{h:.0f} B'} | {r['wall']:.2f} |")
    L.append("")
    return L


def ratio_targets(pp, keys, engines):
    """The 1.03 × native rows, protocol and streams on each engine."""
    T = []
    cfg = TARGET_CFG
    for e in engines:
        if (e, "native") not in keys:
            continue
        nv, nerrs = pp.vals(((e, "native"), cfg), "ns_per_trip", 1e-3)
        for style in ("protocol", "streams"):
            lab = (f"echo ping-pong {size_label(*cfg)} connections, server CPU per "
                   f"round trip ≤ {TARGET_RATIO} × native ({style})")
            iv, errs = pp.vals(((e, style), cfg), "ns_per_trip", 1e-3)
            s, r = ratio_cell(iv, nv)
            if r is None:
                why = (errs or nerrs or ["no figures"])[0]
                T.append(target(lab, e, "failed: " + why, False, "—",
                                "the run failed: " + why))
                continue
            where = WHERE_STREAMS if style == "streams" else WHERE_PROTOCOL
            T.append(target(
                lab, e, f"{med(good(iv)):.2f} µs against {med(good(nv)):.2f} "
                f"µs: {s}", r <= TARGET_RATIO,
                f"{100 * (r / TARGET_RATIO - 1):.1f}%", where))
    return T


def idle_targets(idl, backends, n):
    """"idle TCP transport ≤ 512 B plus its buffers" on each backend, from
    the heap's growth per idle connection (what malloc handed out, so the
    transport, its chunk headers and whatever per-fd state the adapter and
    the engine allocate for it; the kernel's socket buffers are not in it,
    and the transport's own buffers are empty when it is idle)."""
    T = []
    lab = (f"idle TCP transport ≤ {TARGET_IDLE_B} B plus its buffers (heap "
           f"growth per idle connection, {num(n)} held)")
    for b in backends:
        r = idl.get((b, "protocol"), {"error": "not run"})
        h = r.get("heap_per_conn")
        if h is None:
            why = r.get("error", "the server did not report its heap")
            T.append(target(lab, b, "failed: " + why, False, "—",
                            "not measured: " + why))
            continue
        T.append(target(
            lab, b, f"{h:.1f} B heap (RSS: {r['rss_per_conn']:.0f} B)",
            h <= TARGET_IDLE_B, f"{100 * (h / TARGET_IDLE_B - 1):.1f}%",
            f"of the heap growth, 376 B are interloop's own (the 240-byte "
            f"stream transport and the core's 120-byte io record with their "
            f"malloc headers; massif); the rest is "
            f"{IDLE_ADAPTER.get(b, 'the backend’s per-fd state')}"))
    return T


# Per idle connection, what the heap holds beyond interloop's own 376 B
# (valgrind --tool=massif on bench_echo_server, 2 000 idle connections,
# 2026-11-24: the 240-byte stream transport and the core's 120-byte io
# record, each with its 8-byte malloc header).
IDLE_ADAPTER = {
    "builtin": "the builtin backend's 40-byte per-fd entry",
    "uv": "the uv adapter's 184-byte watcher (a uv_poll_t, the host, its "
          "argument and the interest) and libuv's fd-indexed watcher array",
    "ev": "the ev adapter's 88-byte watcher (an ev_io, list links and its "
          "argument) and libev's fd-indexed ANFD array",
    "event": "the event adapter's 168-byte watcher (a struct event, list "
             "links and its argument) and libevent's evmap entry (~16 B) "
             "for the fd",
}


def memory_rows(idl, keys, n):
    M = []
    for key in keys:
        g, c = key
        if c == "protocol":
            who = g
        elif c == "native":
            who = "native " + g
        elif c == "floor":
            who = "raw epoll"
        else:
            continue
        r = idl[key]
        M.append({"object": "idle TCP connection", "contender": who,
                  "bytes": r.get("rss_per_conn"),
                  "how": f"the echo server's resident-set growth "
                         f"(/proc/PID/statm) over {num(n)} idle connections "
                         f"(each has echoed one byte), divided by their "
                         f"number: the transport (or the engine's or "
                         f"Python's connection objects), the loop's and "
                         f"engine's per-fd state and malloc overhead; "
                         f"interloop with the protocol API, asyncio and "
                         f"uvloop with a Protocol (`bench/parts/net.py`)."})
    return M


def chart_rows(pp, keys, engines, cfgs):
    C = []
    for cfg, _ in cfgs:
        for style, tag in (("protocol", "proto"), ("streams", "streams")):
            for e in engines:
                if (e, "native") not in keys:
                    continue
                iv, _ = pp.vals(((e, style), cfg), "ns_per_trip")
                nv, _ = pp.vals(((e, "native"), cfg), "ns_per_trip")
                _, r = ratio_cell(iv, nv)
                if r is not None:
                    C.append({"panel": "native",
                              "workload": f"tcp {size_label(*cfg, compact=True)} {tag}",
                              "series": e, "value": r})
    for cfg in ((64, 50), (64, 1)):
        for style, tag in (("protocol", "proto"), ("streams", "streams")):
            uv, _ = pp.vals((("uv", style), cfg), "ns_per_trip")
            for py in ("asyncio", "uvloop"):
                pv, _ = pp.vals(((py, style), cfg), "ns_per_trip")
                _, r = ratio_cell(pv, uv)
                if r is not None:
                    C.append({"panel": "python",
                              "workload": f"tcp {size_label(*cfg, compact=True)} {tag}",
                              "series": py, "value": r})
    return C


def describe(ctx, rounds, cfgs):
    q = 1 if ctx.quick else 0
    pin = ""
    if NET_CPUS and shutil.which("taskset"):
        pin = (f" The server runs on CPU {NET_CPUS[1]} and the ping-pong "
               f"client there too, so the two take turns and each wake-up "
               f"of the server finds every connection's message waiting "
               f"(bench/NOTES.md, \"measuring it\"); the pump's and the idle "
               f"client on CPU {NET_CPUS[0]}.")
    bev = "" if ctx.quick else ("; *bufferevent*: libevent's bufferevent "
                                "idiom, for reference")
    fewer = ("; --quick leaves out 64 KiB and runs fewer round trips"
             if ctx.quick else "")
    sizes = ", ".join(dict.fromkeys(size_label(s, 1).split(" ×")[0]
                                    for (s, _), _ in cfgs))
    return [
        f"Echo servers over 127.0.0.1 driven by `bench_echo_client` (raw "
        f"epoll), on this {os.cpu_count()}-core machine.{pin} Contenders: "
        f"*floor*, raw epoll (`bench/native/echo_epoll.c`); interloop's "
        f"`bench_echo_server` on each backend with the protocol API "
        f"(*protocol*) and with tasks + streams (*streams*); the same server "
        f"written directly on each engine (*native*: `bench/native/"
        f"echo_uv.c`, `echo_ev.c`, `echo_event.c` with raw events"
        f"{bev}"
        f"); asyncio and uvloop with a `loop.create_server` Protocol "
        f"(*protocol*) and an `asyncio.start_server` handler (*streams*) "
        f"(`bench/py/asyncio_echo.py`, {python_versions()}). Every "
        f"contender in turn, A B C … A B C …, {rounds} rounds; each round "
        f"one fresh server process per contender serves every ping-pong "
        f"configuration in turn and then the pump. Medians (min..max); "
        f"ratios are of the medians, with the min..max of the same ratio "
        f"taken round by round (both sides saw the same machine weather). "
        f"*/ reference* is against the engine's native server for "
        f"interloop's rows and against interloop on libuv with the same "
        f"style for asyncio's and uvloop's.\n",
        f"- *ping-pong* ({sizes}; 1 and 50 connections"
        f"{fewer}): "
        f"each connection sends its message, waits for the whole echo "
        f"(checked byte for byte), repeats; after a warm-up ({WARMUP[1][q]} "
        f"round trips for one connection, {WARMUP[50][q]} per connection "
        f"for 50) the measured window is the number of round trips in the "
        f"table's title, spread evenly over the connections. *µs server CPU "
        f"per round trip*: the server's CPU time (user + system, all "
        f"threads; `/proc/PID/task/*/schedstat` read by the client before "
        f"and after the window) over the round trips, lower is better. *k "
        f"round trips/s*: round trips over the window's wall time — client "
        f"and server share one CPU, so it is the pair's throughput, the "
        f"client's own cost included. *Sleeps per round trip*: the "
        f"server's voluntary context switches in the window per round trip "
        f"(how often it found nothing ready and slept; fewer means more "
        f"round trips served per poll, which moves the CPU figure).",
        f"- *pump*: one connection, {PUMP_BYTES[q] >> 20} MiB offered in "
        f"1 MiB `write()`s while the echo is read back; MB/s (10^6 bytes "
        f"echoed per second, wall) and server CPU per KiB.",
        f"- *idle*: {num(IDLE_CONNS[q])} connections opened one by one, each "
        f"echoing one byte (so its transport exists), held open; *RSS*: the "
        f"server's resident-set growth (`/proc/PID/statm`) over them per "
        f"connection (the kernel's socket buffers are not in it); *heap* "
        f"(interloop's protocol servers, started with `--heap`): the growth "
        f"of what malloc has handed out (`mallinfo2()` uordblks + hblkhd, "
        f"chunk headers included, asked by SIGUSR1 before the first "
        f"connection and while all are held) per connection — the "
        f"transport, the adapter's per-fd watcher and the engine's per-fd "
        f"state, without the free memory and page granularity the RSS "
        f"figure also counts. One run each. Where interloop's heap goes "
        f"(valgrind --tool=massif, 2 000 idle connections): per connection "
        f"the 240-byte stream transport and the core's 120-byte io record "
        f"(376 B with malloc headers), then the backend's watcher — builtin "
        f"40 B, ev 88 B, event 168 B, uv 184 B — and the engines' "
        f"fd-indexed arrays.\n"]


def run(ctx):
    t_start = time.monotonic()
    q = 1 if ctx.quick else 0
    rounds = min(ctx.runs, QUICK_ROUNDS) if ctx.quick else ctx.runs
    C = contenders(ctx)
    keys = [(g, c) for g, c, _, _ in C]
    cfgs = configs(ctx)
    pp, pu = Figures(), Figures()
    for i in range(rounds):
        for g, c, argv, _ in C:
            rp, rpump = one_round(ctx, argv)
            for cfg, r in rp.items():
                pp.add(((g, c), cfg), r)
            pu.add((g, c), rpump)
        log(f"net round {i + 1}/{rounds}:", {
            f"{g}/{c}": round(pp.d[((g, c), TARGET_CFG)][-1].get(
                "ns_per_trip", -1)) for g, c in keys})
    t_idle = time.monotonic()
    idl = {}
    for g, c, argv, heap in C:
        idl[(g, c)] = idle(ctx, argv, heap, IDLE_CONNS[q])
    log(f"net: ping-pong and pump {t_idle - t_start:.0f} s, idle "
        f"{time.monotonic() - t_idle:.0f} s:",
        {f"{g}/{c}": r.get("rss_per_conn", r.get("error"))
         for (g, c), r in idl.items()})

    engines = [e for e in common.ENGINES if e in ctx.backends()]
    L = ["## Network: TCP\n"] + describe(ctx, rounds, cfgs)
    for cfg, trips in cfgs:
        L += pingpong_table(pp, keys, cfg, trips)
    L += pump_table(pu, keys)
    L += idle_table(idl, keys, IDLE_CONNS[q])
    L.append(f"(This section took {time.monotonic() - t_start:.0f} s.)\n")
    targets = ratio_targets(pp, keys, engines) + idle_targets(
        idl, ctx.backends(), IDLE_CONNS[q])
    return {"lines": L, "targets": targets,
            "memory": memory_rows(idl, keys, IDLE_CONNS[q]),
            "chart": chart_rows(pp, keys, engines, cfgs)}
