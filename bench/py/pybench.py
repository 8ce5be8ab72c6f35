"""bench/py/pybench.py — what the asyncio twins of the C benchmarks share:
the clocks of a measured interval and the process's memory."""
import os
import time

PAGE = os.sysconf("SC_PAGESIZE")


def mem_bytes():
    """(resident, virtual) bytes of this process, from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        virt, rss = f.read().split()[:2]
    return int(rss) * PAGE, int(virt) * PAGE


class Clock:
    """Wall and CPU time of one measured interval (start .. stop)."""

    def start(self):
        self.t0, self.c0 = time.perf_counter(), time.process_time()

    def stop(self):
        self.wall = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.c0
