#!/usr/bin/env python3
"""bench/py/asyncio_tasks.py — interloop-task-bench's workloads in asyncio.

    asyncio_tasks.py [--uvloop] --workload NAME [N] [--batch N] [--max-time S]

Runs one workload once and prints the line interloop-task-bench prints,
"<workload> <wall s> <cpu s> <count> [key=value]...", so bench/run.py can
put them side by side. --uvloop runs it on uvloop (Debian: python3-uvloop).

Workloads, shaped as in bench/task_bench.c:
  await_done    one task awaits an already-done future N times
  future_cycle  create_future, add_done_callback, set_result, in batches
                of 1 000 (--batch), each batch's callbacks run in one pass
  spawn         coroutines that return at once, create_task'd in batches of
                1 000 (--batch), each batch run until every task finished
  switch        two tasks taking turns with asyncio.sleep(0)
  sleepers      N tasks (default 100 000) each sleeping 0.5..1 s: time to
                spawn, total time, RSS growth per task
  future_mem    RSS growth per future over 100 000 live futures
  task_mem      RSS growth per task over 10 000 tasks awaiting one future
--max-time ends future_cycle and spawn after the batch that passes S
seconds (the rate is of what was done).
"""
import argparse
import asyncio
import random
import sys
import time

from pybench import Clock, mem_bytes

BATCH = 1000
MAX_TIME = 0.0
DEFAULT_N = {
    "await_done": 2_000_000,
    "future_cycle": 1_000_000,
    "spawn": 300_000,
    "switch": 500_000,
    "sleepers": 100_000,
    "future_mem": 100_000,
    "task_mem": 10_000,
}
async def await_done(n, clk):
    fut = asyncio.get_running_loop().create_future()
    fut.set_result(None)
    clk.start()
    for _ in range(n):
        await fut
    clk.stop()
    return n, ""


async def future_cycle(n, clk):
    loop = asyncio.get_running_loop()
    done = 0

    def cb(f):
        nonlocal done
        done += 1

    clk.start()
    for _ in range(n // BATCH):
        for _ in range(BATCH):
            f = loop.create_future()
            f.add_done_callback(cb)
            f.set_result(None)
        await asyncio.sleep(0)  # one pass: the batch's callbacks run
        if MAX_TIME and time.perf_counter() - clk.t0 > MAX_TIME:
            break
    clk.stop()
    return done, ""


async def spawn(n, clk):
    loop = asyncio.get_running_loop()
    done = 0

    async def return_at_once():
        nonlocal done
        done += 1

    clk.start()
    for r in range(n // BATCH):
        for _ in range(BATCH):
            loop.create_task(return_at_once())
        while done < (r + 1) * BATCH:
            await asyncio.sleep(0)
        if MAX_TIME and time.perf_counter() - clk.t0 > MAX_TIME:
            break
    clk.stop()
    return done, ""


async def switch(n, clk):
    done = 0

    async def yielder():
        nonlocal done
        for _ in range(n // 2):
            await asyncio.sleep(0)
            done += 1

    t1 = asyncio.ensure_future(yielder())
    t2 = asyncio.ensure_future(yielder())
    clk.start()
    await t1
    await t2
    clk.stop()
    return done, ""


async def sleepers(n, clk):
    loop = asyncio.get_running_loop()
    rng = random.Random(42)
    state = {"started": 0, "done": 0, "rss1": 0, "virt1": 0}
    all_done = loop.create_future()

    async def sleeper(delay):
        state["started"] += 1
        if state["started"] == n:  # all alive and about to sleep
            state["rss1"], state["virt1"] = mem_bytes()
        await asyncio.sleep(delay)
        state["done"] += 1
        if state["done"] == n:
            all_done.set_result(None)

    rss0, virt0 = mem_bytes()
    clk.start()
    # The tasks are kept in a list, as an application would keep them.
    tasks = [loop.create_task(sleeper(rng.uniform(0.5, 1.0)))
             for _ in range(n)]
    spawn_s = time.perf_counter() - clk.t0
    await all_done
    clk.stop()
    del tasks
    return state["done"], (
        f" spawn_s={spawn_s:.6f}"
        f" rss_per_task={(state['rss1'] - rss0) / n:.0f}"
        f" virt_per_task={(state['virt1'] - virt0) / n:.0f}")


async def future_mem(n, clk):
    loop = asyncio.get_running_loop()
    futs = [None] * n  # the list exists before the first reading
    rss0, _ = mem_bytes()
    clk.start()
    for i in range(n):
        futs[i] = loop.create_future()
    clk.stop()
    rss1, _ = mem_bytes()
    return n, f" bytes_per_future={(rss1 - rss0) / n:.1f}"


async def task_mem(n, clk):
    """RSS growth per live task: n tasks suspended awaiting one future."""
    loop = asyncio.get_running_loop()
    gate = loop.create_future()
    state = {"suspended": 0, "rss1": 0, "virt1": 0}
    all_in = loop.create_future()

    async def parked():
        state["suspended"] += 1
        if state["suspended"] == n:
            state["rss1"], state["virt1"] = mem_bytes()
            all_in.set_result(None)
        await gate

    tasks = [None] * n  # the list exists before the first reading
    rss0, virt0 = mem_bytes()
    clk.start()
    for i in range(n):
        tasks[i] = loop.create_task(parked())
    await all_in
    clk.stop()
    gate.set_result(None)
    await asyncio.gather(*tasks)
    return n, (f" bytes_per_task={(state['rss1'] - rss0) / n:.1f}"
               f" virt_per_task={(state['virt1'] - virt0) / n:.0f}")


WORKLOADS = {f.__name__: f for f in
             (await_done, future_cycle, spawn, switch, sleepers, future_mem,
              task_mem)}


def main():
    global BATCH, MAX_TIME
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--uvloop", action="store_true")
    ap.add_argument("--workload", required=True, nargs="+",
                    metavar=("NAME", "N"))
    ap.add_argument("--batch", type=int, default=BATCH)
    ap.add_argument("--max-time", type=float, default=0.0)
    a = ap.parse_args()
    BATCH, MAX_TIME = max(a.batch, 1), a.max_time
    name = a.workload[0]
    if name not in WORKLOADS:
        ap.error(f"unknown workload {name}; one of {', '.join(WORKLOADS)}")
    n = int(a.workload[1]) if len(a.workload) > 1 else DEFAULT_N[name]
    if a.uvloop:
        import uvloop
        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    clk = Clock()
    count, extra = loop.run_until_complete(WORKLOADS[name](n, clk))
    loop.close()
    print(f"{name} {clk.wall:.6f} {clk.cpu:.6f} {count}{extra}")


if __name__ == "__main__":
    sys.exit(main())
