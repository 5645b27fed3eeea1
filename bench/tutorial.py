#!/usr/bin/env python3
"""bench/tutorial.py - the tutorial's timing workloads through CPython's
multiprocessing, so that bench can print C beside Python.

Shows: what the same workloads cost when the pool is CPython's. Each figure
is the median of --repeats runs; a run of a short workload repeats it until
the run lasts a few tens of milliseconds and counts the time per repeat,
exactly as bench does on the C side.

    serial_sleep        sleep steps 0..4 (step --unit seconds), one after another
    processes_sleep     the same mapped by a multiprocessing.Pool opened for it
    threads_sleep       ... by a multiprocessing.pool.ThreadPool opened for it
    serial_square       2 ** i as math.pow for i < 1000, one after another
    processes_square    the same mapped by a Pool opened for it (a `with` block)
    threads_square      ... by a ThreadPool opened for it
    processes_lifecycle Pool: open, map 1000 squares, close, join
    processes_lifecycle_spawn       the same with get_context("spawn").Pool
    processes_lifecycle_forkserver  ... with get_context("forkserver").Pool
    threads_lifecycle   ThreadPool: the same

Pools use the "fork" start method, as the C process pool forks by default
(and as CPython did by default on Linux before 3.14), but for the two
lifecycle figures named after another method.

Output: a line "# CPython X.Y.Z", then one "NAME<TAB>SECONDS" line a figure.
Only the standard library is used.

Usage: python3 bench/tutorial.py [-w N] [-r N] [-u SECONDS] [--quick]

See also: bench/python.c (bench --python runs this), docs/performance.md.
"""

import argparse
import functools
import math
import multiprocessing
import multiprocessing.pool
import os
import platform
import statistics
import sys
import time

STEPS = 5       # sleep steps 0..4
SQUARES = 1000  # 2 ** i for i < 1000


def positive_int(text):
    """An argparse type: an integer >= 1 (argparse exits 2 otherwise)."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'")
    return value


def positive_float(text):
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'")
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got '{text}'")
    return value


def cpu_count():
    """The CPUs this process may run on, as os.process_cpu_count() (3.13+)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def make_workloads(workers, unit):
    """The figures: name -> (function of no arguments, slow?)."""
    ctx = multiprocessing.get_context("fork")
    two_to_the = functools.partial(math.pow, 2)  # picklable: a partial of a builtin
    naps = [i * unit for i in range(STEPS)]
    exponents = range(SQUARES)

    def serial(fn, items):
        return lambda: list(map(fn, items))

    def scoped(pool_class, fn, items):
        def run():
            with pool_class(workers) as pool:
                pool.map(fn, items)
        return run

    def lifecycle(pool_class):
        def run():
            pool = pool_class(workers)
            pool.map(two_to_the, exponents)
            pool.close()
            pool.join()
        return run

    return {
        "serial_sleep": (serial(time.sleep, naps), True),
        "processes_sleep": (scoped(ctx.Pool, time.sleep, naps), True),
        "threads_sleep": (scoped(multiprocessing.pool.ThreadPool, time.sleep, naps), True),
        "serial_square": (serial(two_to_the, exponents), False),
        "processes_square": (scoped(ctx.Pool, two_to_the, exponents), False),
        "threads_square": (scoped(multiprocessing.pool.ThreadPool, two_to_the, exponents), False),
        "processes_lifecycle": (lifecycle(ctx.Pool), False),
        "processes_lifecycle_spawn":
            (lifecycle(multiprocessing.get_context("spawn").Pool), False),
        "processes_lifecycle_forkserver":
            (lifecycle(multiprocessing.get_context("forkserver").Pool), False),
        "threads_lifecycle": (lifecycle(multiprocessing.pool.ThreadPool), False),
    }


def repeats_for(fn, min_batch):
    """How many repeats make a run last min_batch at least (the first calls
    double as a warm-up)."""
    reps = 1
    while True:
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        took = time.perf_counter() - start
        if took >= min_batch / 4:
            return max(1, int(min_batch / (took / reps)) + 1)
        reps *= 4


def measure(fn, slow, runs, min_batch):
    """The median over runs of the seconds one call of fn takes."""
    reps = 1 if slow else repeats_for(fn, min_batch)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        times.append((time.perf_counter() - start) / reps)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(
        description="The tutorial's timing workloads through CPython's multiprocessing.")
    parser.add_argument("-w", "--workers", type=positive_int,
                        default=cpu_count(),
                        help="workers per pool (default: the CPUs we may use)")
    parser.add_argument("-r", "--repeats", type=positive_int, default=5,
                        help="runs per figure; the median is printed (default 5)")
    parser.add_argument("-u", "--unit", type=positive_float, default=0.1,
                        help="sleep step in seconds (default 0.1; the tutorial's is 1)")
    parser.add_argument("--quick", action="store_true",
                        help="short runs, for tests")
    args = parser.parse_args()

    min_batch = 0.002 if args.quick else 0.02
    print(f"# CPython {platform.python_version()}", flush=True)
    for name, (fn, slow) in make_workloads(args.workers, args.unit).items():
        seconds = measure(fn, slow, args.repeats, min_batch)
        print(f"{name}\t{seconds:.9f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
