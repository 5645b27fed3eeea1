#!/usr/bin/env python3
"""compare/basic.py - factorials mapped by a Pool, then by a ThreadPool.

Our own Python version of the section "Pools": the bytes basic/basic must
print by default. Both pools take their default size (os.cpu_count() in
CPython 3.11). With -n 25 it shows what C cannot: Python's integers do
not overflow, so all 25 factorials come back. With --workers it says how
many workers Pool() started, beside the two counts it could follow.

Usage: python3 compare/basic.py [-n N] [--workers]
"""

import argparse
import math
import multiprocessing
import multiprocessing.pool
import os


def workers():
    """Pool()'s size (its _processes attribute: private, and there since
    2.6), os.cpu_count(), and the CPUs this process may run on."""
    with multiprocessing.Pool() as pool:
        size = pool._processes  # pylint: disable=protected-access
    print(f"Pool() workers: {size}; os.cpu_count() {os.cpu_count()}; "
          f"CPUs we may use {len(os.sched_getaffinity(0))}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10,
                        help="factorial of 0..N-1 (default 10)")
    parser.add_argument("--workers", action="store_true",
                        help="print how many workers Pool() starts")
    args = parser.parse_args()
    if args.workers:
        workers()
        return
    n = args.n
    for kind, pool_class in (("processes", multiprocessing.Pool),
                             ("threads", multiprocessing.pool.ThreadPool)):
        print(f"Running a pool of {kind}...")
        with pool_class() as pool:
            values = pool.map(math.factorial, range(n))
        print(f"{kind.capitalize()} pool results: {values}")


if __name__ == "__main__":
    main()
