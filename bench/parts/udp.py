"""bench/parts/udp.py — UDP ping-pong: UDP echo servers against each other.

Contenders: a raw epoll floor (bench/native/udp_epoll.c); interloop's
bench_udp_server (a datagram endpoint, bench/udp_server.c) on every backend;
each engine's own server (bench/native/udp_uv.c, udp_ev.c, udp_event.c); and
asyncio and uvloop with loop.create_datagram_endpoint (bench/py/
asyncio_udp.py). All are driven by bench_udp_client (raw epoll, bench/
udp_client.c), which reads the server's CPU time from /proc/PID/task/*/
schedstat around the measured window.

Per round every contender in turn gets one fresh server process that serves
every configuration (64 B and 1 KiB datagrams; 1 and 50 client sockets, each
keeping one datagram in flight).
"""
import shutil
import time

from .common import (NET_CPUS, Server, cell, log, num, pinned,
                     python_contenders, python_versions, ratio_cell, run_line,
                     size_label, target)

NAME = "udp"
ORDER = 40

TARGET_RATIO = 1.03  # interloop / native, server CPU per round trip
TARGET_CFG = (64, 50)
# (size, sockets): round trips in the measured window, full and quick (0:
# not in quick runs); each run ~0.2-0.4 s of wall time for the C servers.
CONFIGS = [
    ((64, 50), (20_000, 3_000)),
    ((64, 1), (8_000, 1_500)),
    ((1024, 50), (20_000, 0)),
    ((1024, 1), (8_000, 0)),
]
WARMUP = (1_000, 100)  # round trips before the window, over all sockets
# asyncio's round trip costs 15-40 times the others' here (see describe()):
# it runs this fraction of the round trips, so that it takes about as long.
ASYNCIO_SHARE = 10
QUICK_ROUNDS = 3
LOSS_MS = 500  # nothing arrived for this long: the datagrams awaited are lost
CLIENT_TIMEOUT = 60

# Where the time goes when interloop misses the ratio: callgrind on the
# servers by hand (64 B × 50, user-space instructions per round trip, the
# difference of a 3 000 and a 9 000 round-trip run over 6 000).
WHERE = (
    "callgrind (64 B × 50, user-space instructions per round trip): "
    "interloop 172 on ev, 184 on event, 175 on uv against the native "
    "servers' 50, 56 and 224 and the epoll floor's 38; interloop adds ~100 "
    "in il_transport_sendto (the transport check — thread, state — then "
    "udp_sendto's checks of the address's family and length, the connected "
    "remote, the size and the queue) and ~30 in the endpoint's read loop "
    "and the datagram_received call, some tens of ns in all. The system "
    "calls (strace) are the same, a recvfrom and a sendto per datagram and "
    "a failing recvfrom and an epoll_wait per wake-up, but for libevent, "
    "where interloop's base (EVENT_BASE_FLAG_PRECISE_TIMER) adds a "
    "timerfd_settime per wake-up, one per ~50 round trips here. Together "
    "~1-2 % of a ~5 µs round trip spent almost all in the kernel; the rest "
    "of a larger ratio is not in these counts (this VM has no hardware "
    "counters for perf) and moves with the machine's load: see the "
    "per-round range in the UDP section")




def contenders(ctx):
    """[((engine, contender), argv)] in the order each round runs them."""
    C = []
    if ctx.have("native_udp_epoll"):
        C.append((("epoll", "floor"), [ctx.prog("native_udp_epoll")]))
    for e in ctx.backends() if ctx.have("bench_udp_server") else []:
        C.append(((e, "interloop"),
                  [ctx.prog("bench_udp_server"), "--backend", e]))
        if e != "builtin" and ctx.have("native_udp_" + e):
            C.append(((e, "native"), [ctx.prog("native_udp_" + e)]))
    for name, argv in python_contenders("asyncio_udp.py"):
        C.append((("python", name), argv))
    return C


def trips_for(key, n):
    """Round trips in the window for contender `key` (asyncio: a share)."""
    return max(50, n // ASYNCIO_SHARE) if key == ("python", "asyncio") else n


def client(ctx, srv, cfg, trips):
    """One bench_udp_client run against srv: run_line's dict."""
    size, socks = cfg
    warm = max(2, (WARMUP[1] if ctx.quick else WARMUP[0]) // socks)
    argv = [ctx.prog("bench_udp_client"), str(srv.port), "--socks",
            str(socks), "--size", str(size), "--trips", str(trips),
            "--warmup", str(warm), "--loss-ms", str(LOSS_MS), "--pid",
            str(srv.p.pid)]
    # The client shares the server's CPU: see describe().
    r = run_line(pinned(argv, NET_CPUS[1] if NET_CPUS else 0), CLIENT_TIMEOUT)
    if "error" not in r and not srv.alive():
        r = {"error": "server died"}
    return r


def one_round(ctx, key, argv, cfgs):
    """A fresh server for contender `key`, every configuration against it:
    {cfg: dict}."""
    try:
        srv = Server(argv)
    except (RuntimeError, OSError) as e:
        return {cfg: {"error": str(e)[:120]} for cfg, _ in cfgs}
    out = {}
    for cfg, n in cfgs:
        # After a failure (a silent or dead server) the rest would only
        # wait for their own timeouts.
        failed = [r["error"] for r in out.values() if "error" in r]
        out[cfg] = ({"error": "skipped after: " + failed[0]} if failed
                    else client(ctx, srv, cfg, trips_for(key, n)))
    srv.stop()
    return out


class Results:
    """(contender key, cfg) -> one dict per round."""

    def __init__(self):
        self.d = {}

    def add(self, key, cfg, r):
        self.d.setdefault((key, cfg), []).append(r)

    def vals(self, key, cfg, field, scale=1.0):
        """Per-round figures (None where the round failed) and the
        errors."""
        rs = self.d.get((key, cfg), [])
        v = [r[field] * scale if "error" not in r else None for r in rs]
        return v, [r["error"] for r in rs if "error" in r]

    def cpu(self, key, cfg):
        """µs of server CPU per round trip, per round."""
        return self.vals(key, cfg, "ns_per_trip", 1e-3)


def good(v):
    return [x for x in v if x is not None]


def ratio_of(res, num_key, den_key, cfg):
    """ratio_cell of the CPU per round trip of two contenders."""
    if den_key is None:
        return "—", None
    return ratio_cell(res.cpu(num_key, cfg)[0], res.cpu(den_key, cfg)[0])


def table(res, keys, cfg):
    """The markdown table of one configuration."""
    L = [f"### {size_label(*cfg)} socket{'s' if cfg[1] > 1 else ''}\n",
         "| engine | contender | µs server CPU per round trip | / native | "
         "/ floor | asyncio / this | uvloop / this | round trips/s | "
         "sleeps per round trip | lost (late) |",
         "|---|---|---|---|---|---|---|---|---|---|"]
    floor = ("epoll", "floor")
    for key in keys:
        e, c = key
        v, errs = res.cpu(key, cfg)
        nat = (e, "native") if c == "interloop" and (e, "native") in keys \
            else None
        r_nat = ratio_of(res, key, nat, cfg)[0]
        r_floor = ratio_of(res, key, floor, cfg)[0] if key != floor else "—"
        py = ["—", "—"]
        if c == "interloop":
            py = [ratio_of(res, ("python", p), key, cfg)[0]
                  if ("python", p) in keys else "—"
                  for p in ("asyncio", "uvloop")]
        tps, _ = res.vals(key, cfg, "trips_per_s")
        waits, _ = res.vals(key, cfg, "waits_per_trip")
        lost = sum(good(res.vals(key, cfg, "lost")[0]))
        late = sum(good(res.vals(key, cfg, "late")[0]))
        L.append(f"| {e} | {c} | {cell(good(v), errs, '{:.2f}')} | {r_nat} | "
                 f"{r_floor} | {py[0]} | {py[1]} | "
                 f"{cell(good(tps), [], '{:.0f}')} | "
                 f"{cell(good(waits), [], '{:.3f}')} | "
                 f"{lost:.0f} ({late:.0f}) |")
    L.append("")
    return L


def targets(res, keys, engines):
    """Target rows (every engine) only when interloop misses the ratio on
    one of them; none otherwise (no DESIGN target covers UDP)."""
    rows = []
    for e in engines:
        if (e, "native") not in keys:
            continue
        iv, errs = res.cpu((e, "interloop"), TARGET_CFG)
        nv, _ = res.cpu((e, "native"), TARGET_CFG)
        s, r = ratio_cell(iv, nv)
        rows.append((e, s, r, errs))
    if all(r is not None and r <= TARGET_RATIO for _, _, r, _ in rows):
        return []
    T = []
    what = (f"UDP ping-pong {size_label(*TARGET_CFG)}, server CPU per round "
            f"trip ≤ {TARGET_RATIO} × native")
    for e, s, r, errs in rows:
        if r is None:
            T.append(target(what, e, "failed: " + (errs[0] if errs else "?"),
                            False, "—", "the run failed"))
            continue
        T.append(target(what, e, f"{s} × native", r <= TARGET_RATIO,
                        f"{100 * (r / TARGET_RATIO - 1):.1f}%", WHERE))
    return T


def chart_rows(res, keys, engines, cfgs):
    C = []
    for cfg, _ in cfgs:
        for e in engines:
            if (e, "native") in keys:
                _, r = ratio_of(res, (e, "interloop"), (e, "native"), cfg)
                if r is not None:
                    C.append({"panel": "native",
                              "workload": f"udp {size_label(*cfg, compact=True)}",
                              "series": e, "value": r})
    for cfg in ((64, 50), (64, 1)):
        for p in ("asyncio", "uvloop"):
            if ("uv", "interloop") in keys and ("python", p) in keys:
                _, r = ratio_of(res, ("python", p), ("uv", "interloop"), cfg)
                if r is not None:
                    C.append({"panel": "python",
                              "workload": f"udp {size_label(*cfg, compact=True)}",
                              "series": p, "value": r})
    return C


def describe(ctx, rounds, cfgs):
    q = 1 if ctx.quick else 0
    pin = ""
    if NET_CPUS and shutil.which("taskset"):
        pin = (f" Server and client both run on CPU {NET_CPUS[1]}: they take "
               f"turns, so with 50 sockets each wake-up of the server finds "
               f"many datagrams waiting and its CPU per round trip is its "
               f"own code's (as in the TCP part); with one socket the two "
               f"hand the CPU to each other on every round trip and the "
               f"server sleeps on about every other one.")
    sizes = ", ".join(f"{size_label(*cfg)}: {num(n)}" for cfg, n in cfgs)
    return [
        f"UDP echo servers on 127.0.0.1 driven by `bench_udp_client` (raw "
        f"epoll, `bench/udp_client.c`).{pin} Contenders: *floor*, raw epoll "
        f"(`bench/native/udp_epoll.c`); *interloop*, `bench_udp_server` — "
        f"one datagram endpoint (`il_create_datagram_endpoint`) whose "
        f"datagram_received sends each datagram back with "
        f"`il_transport_sendto` — on every backend; *native*, the same "
        f"server written directly on each engine (`bench/native/udp_uv.c`: "
        f"`uv_udp_recv_start` + `uv_udp_try_send`; `udp_ev.c`, "
        f"`udp_event.c`: one io watcher / event, recvfrom + sendto); "
        f"*asyncio* and *uvloop*, `loop.create_datagram_endpoint` with a "
        f"DatagramProtocol echoing with `transport.sendto` "
        f"(`bench/py/asyncio_udp.py`, {python_versions()}). The floor "
        f"and native servers read up to 32 datagrams per readiness, as "
        f"interloop and libuv do. Every contender in turn, A B C … A B C "
        f"…, {rounds} rounds, a fresh server process per contender and "
        f"round serving every configuration; medians (min..max). Ratios: "
        f"of the medians, with the min..max of the same ratio taken round "
        f"by round.\n",
        f"- *ping-pong*: N client sockets, each connected to the server, "
        f"each keep one datagram in flight: send it, wait for its echo "
        f"(checked byte for byte), send the next. Round trips in the "
        f"measured window ({sizes}; asyncio a {ASYNCIO_SHARE}th of that, "
        f"see below), after {num(WARMUP[q])} in all (at least 2 per socket). "
        f"*µs server CPU per round trip*: the server's CPU time (user + "
        f"system, all threads; `/proc/PID/task/*/schedstat`, read by the "
        f"client before and after the window) divided by the round trips, "
        f"lower is better. *Round trips/s*: of the client's wall clock, "
        f"client and server sharing one CPU. *Sleeps per round trip*: the "
        f"server's voluntary context switches in the window per round trip. "
        f"*Lost (late)*: datagrams counted lost over all rounds — when "
        f"nothing arrives for {LOSS_MS} ms every datagram awaited is "
        f"counted lost and its socket sends the next — and echoes of those "
        f"that came later; loopback does not drop them, so both should be "
        f"0. *asyncio / this*, *uvloop / this*: their CPU per round trip "
        f"over that interloop server's.",
        "- *asyncio* reads each datagram with `sock.recvfrom(256 KiB)`: "
        "CPython allocates the 256 KiB bytes object with mmap and "
        "shrinks it with mremap, then munmap frees it (strace: one "
        "mmap, mremap and munmap per datagram), and page-table changes are "
        "expensive on this virtual machine (how expensive varies from run "
        "to run: see its min..max); hence a cost per round trip an order "
        "of magnitude above the others' and its smaller share of round "
        "trips. uvloop reads into libuv's buffer.",
        "- *System calls* (strace, one socket): every C server makes one "
        "recvfrom (libuv: recvmsg) and one sendto (sendmsg) per datagram, "
        "and one failing recvfrom and one epoll_wait per wake-up. Interloop "
        "on libevent adds a timerfd_settime before each epoll_wait: "
        "libevent does that on a base made with "
        "EVENT_BASE_FLAG_PRECISE_TIMER, which interloop's adapter sets and "
        "the native server does not; it shows where the server wakes often "
        "(one socket), not with 50.\n"]


def run(ctx):
    t0 = time.monotonic()
    q = 1 if ctx.quick else 0
    cfgs = [(cfg, ns[q]) for cfg, ns in CONFIGS if ns[q]]
    rounds = min(ctx.runs, QUICK_ROUNDS) if ctx.quick else ctx.runs
    if not ctx.have("bench_udp_client"):
        return {"lines": ["## UDP ping-pong\n", "failed: bench_udp_client "
                          "is not built (bench/udp.cmake)\n"]}
    C = contenders(ctx)
    keys = [k for k, _ in C]
    engines = ctx.engines()
    res = Results()
    for i in range(rounds):
        for key, argv in C:
            for cfg, r in one_round(ctx, key, argv, cfgs).items():
                res.add(key, cfg, r)
        log(f"udp round {i + 1}/{rounds}:", {
            f"{e}/{c}": round(res.d[((e, c), cfgs[0][0])][-1].get(
                "ns_per_trip", -1)) for e, c in keys})
    L = ["## UDP ping-pong\n"] + describe(ctx, rounds, cfgs)
    for cfg, _ in cfgs:
        L += table(res, keys, cfg)
    L.append(f"(This section took {time.monotonic() - t0:.0f} s.)\n")
    return {"lines": L, "targets": targets(res, keys, engines),
            "memory": [], "chart": chart_rows(res, keys, engines, cfgs)}
