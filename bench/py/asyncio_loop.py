#!/usr/bin/env python3
"""bench/py/asyncio_loop.py — loop_bench's workloads in asyncio (or uvloop).

    asyncio_loop.py [--uvloop] --workload NAME N [--threads T]

Runs one workload once and prints the line loop_bench prints,
"<workload> <wall s> <cpu s> <count> [key=value]", so bench/parts/loop.py
can put them side by side. --uvloop runs it on uvloop (Debian:
python3-uvloop).

Workloads, shaped as in bench/loop_bench.c:
  chain          each callback schedules the next with loop.call_soon
  iteration      the same chain with one idle fd registered (add_reader):
                 asyncio has no public "run one iteration without waiting",
                 and with one ready callback each of its iterations polls
                 with a zero timeout and runs that callback, so this is the
                 closest honest equivalent (uvloop: one libuv iteration per
                 callback too); N callbacks, so N iterations
  timers         libuv's million_timers schedule: N call_later timers, 1 000
                 per millisecond step, all fired
  timers_cancel  the same N timers scheduled, then cancelled, then one pass
                 (which drops them from the heap)
  threadsafe     T threads ping-pong with the loop: call_soon_threadsafe,
                 the loop's callback answers by releasing the thread's lock
  timer_mem      RSS growth per pending call_later TimerHandle
"""
import argparse
import asyncio
import os
import sys
import threading

from pybench import Clock, mem_bytes


def rss_bytes():
    return mem_bytes()[0]


def timer_delay(i):
    """million_timers: 1 000 timers per millisecond step, from 1 ms."""
    return (1 + i // 1000) / 1000.0


def run_chain(loop, n, clk):
    left = n

    def cb():
        nonlocal left
        left -= 1
        if left == 0:
            loop.stop()
        else:
            loop.call_soon(cb)

    loop.call_soon(cb)
    clk.start()
    loop.run_forever()
    clk.stop()
    return n, ""


def chain(loop, n, threads, clk):
    return run_chain(loop, n, clk)


def iteration(loop, n, threads, clk):
    fd = os.eventfd(0, os.EFD_NONBLOCK)
    loop.add_reader(fd, lambda: None)
    try:
        return run_chain(loop, n, clk)
    finally:
        loop.remove_reader(fd)
        os.close(fd)


def timers(loop, n, threads, clk):
    fired = 0

    def cb():
        nonlocal fired
        fired += 1
        if fired == n:
            loop.stop()

    clk.start()
    for i in range(n):
        loop.call_later(timer_delay(i), cb)
    loop.run_forever()
    clk.stop()
    return fired, ""


def one_pass(loop):
    loop.call_soon(loop.stop)
    loop.run_forever()


def timers_cancel(loop, n, threads, clk):
    def cb():
        pass

    clk.start()
    handles = [loop.call_later(timer_delay(i), cb) for i in range(n)]
    for h in handles:
        h.cancel()
    one_pass(loop)
    clk.stop()
    return n, ""


def threadsafe(loop, n, threads, clk):
    per = max(n // threads, 1)
    left = per * threads

    def answer(lock):
        nonlocal left
        lock.release()
        left -= 1
        if left == 0:
            loop.stop()

    def pinger(lock):
        for _ in range(per):
            loop.call_soon_threadsafe(answer, lock)
            lock.acquire()

    locks = [threading.Lock() for _ in range(threads)]
    for lock in locks:
        lock.acquire()
    ts = [threading.Thread(target=pinger, args=(lock,)) for lock in locks]
    clk.start()
    for t in ts:
        t.start()
    loop.run_forever()
    for t in ts:
        t.join()
    clk.stop()
    return per * threads, f" threads={threads}"


def timer_mem(loop, n, threads, clk):
    def cb():
        pass

    one_pass(loop)  # the loop's own first-run allocations are not timers'
    rss = rss_bytes()
    clk.start()
    for i in range(n):
        loop.call_later(3600.0 + timer_delay(i), cb)
    clk.stop()
    return n, f" bytes_per_timer={(rss_bytes() - rss) / n:.1f}"


WORKLOADS = {f.__name__: f for f in (chain, iteration, timers, timers_cancel,
                                     threadsafe, timer_mem)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--uvloop", action="store_true")
    ap.add_argument("--workload", required=True, nargs=2,
                    metavar=("NAME", "N"))
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    name, n = a.workload[0], int(a.workload[1])
    if name not in WORKLOADS:
        ap.error(f"unknown workload {name}; one of {', '.join(WORKLOADS)}")
    if a.uvloop:
        import uvloop
        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    clk = Clock()
    count, extra = WORKLOADS[name](loop, n, max(a.threads, 1), clk)
    loop.close()
    print(f"{name} {clk.wall:.6f} {clk.cpu:.6f} {count}{extra}")


if __name__ == "__main__":
    sys.exit(main())
