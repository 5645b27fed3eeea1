#!/usr/bin/env python3
"""compare/timing.py - serial, processes and threads, on sleep and square.

Our own Python version of the section "Timings", printing in
timing/timing's format. Task i of the sleep group sleeps i steps, i < 5;
the square group computes 2.0 ** i (math.pow) for i < N. Every
measurement opens and closes its own pool, as in the tutorial, and prints
the mean time of its repeats.

Usage: python3 compare/timing.py [-u S] [-r N] [-n N] [-w N] [-d D]
"""

import argparse
import functools
import math
import multiprocessing
import multiprocessing.pool
import time


def options():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-u", type=float, default=1.0,
                        help="seconds per sleep step (default 1)")
    parser.add_argument("-r", type=int, default=0,
                        help="repeats (default 3 for sleep, 100 for square)")
    parser.add_argument("-n", type=int, default=1000,
                        help="squares: 2 ** i for i < N (default 1000)")
    parser.add_argument("-w", type=int, default=None,
                        help="workers per pool (default os.cpu_count())")
    parser.add_argument("-d", type=int, default=4,
                        help="decimals in the figures (default 4)")
    return parser.parse_args()


def serial(fn, args):
    list(map(fn, args))


def pooled(pool_class, workers):
    """A style that maps on a pool opened for the map and closed after."""
    def run(fn, args):
        with pool_class(workers) as pool:
            pool.map(fn, args)
    return run


def main():
    opt = options()
    styles = (("serial", serial),
              ("processes", pooled(multiprocessing.Pool, opt.w)),
              ("threads", pooled(multiprocessing.pool.ThreadPool, opt.w)))
    groups = (("sleep", time.sleep, [i * opt.u for i in range(5)], 3),
              ("square", functools.partial(math.pow, 2), range(opt.n), 100))
    for group, fn, args, repeats in groups:
        repeats = opt.r or repeats
        for style, run in styles:
            start = time.perf_counter()
            for _ in range(repeats):
                run(fn, args)
            mean = (time.perf_counter() - start) / repeats
            print(f"Time elapsed for {style}_{group}: {mean:.{opt.d}f}s")
        print()


if __name__ == "__main__":
    main()
