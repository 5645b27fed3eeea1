#!/usr/bin/env python3
"""compare/sleepmap.py - how long a map of sleeps takes on an open Pool or
ThreadPool: what compare/sleepmap prints for the C pools.

W workers map time.sleep over the given lengths, chunksize 1, on a pool
opened and warmed up first, so that the figure is the schedule alone. An
idle worker takes the next task from the pool's queue (Lib/multiprocessing/
pool.py, worker, 3.11): sleeps of 4, 3, 2, 1, 0 steps on 2 workers last 5
steps, where a rotation (task i to worker i mod W) would last 6.

Usage: python3 compare/sleepmap.py processes|threads WORKERS SECONDS...
"""

import argparse
import multiprocessing
import multiprocessing.pool
import time


def main():
    kinds = {"processes": multiprocessing.Pool,
             "threads": multiprocessing.pool.ThreadPool}
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=kinds)
    parser.add_argument("workers", type=int)
    parser.add_argument("seconds", type=float, nargs="+")
    args = parser.parse_args()
    with kinds[args.kind](args.workers) as pool:
        pool.map(time.sleep, [0.02] * args.workers, 1)
        start = time.perf_counter()
        pool.map(time.sleep, args.seconds, 1)
        print(f"elapsed: {time.perf_counter() - start:.4f}s")


if __name__ == "__main__":
    main()
