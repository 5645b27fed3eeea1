#!/usr/bin/env python3
"""compare/basic.py - factorials mapped by a Pool, then by a ThreadPool.

Our own Python version of the section "Pools": the bytes basic/basic must
print by default. Both pools take their default size (os.cpu_count() in
CPython 3.11). With -n 25 it shows what C cannot: Python's integers do
not overflow, so all 25 factorials come back.

Usage: python3 compare/basic.py [-n N]
"""

import argparse
import math
import multiprocessing
import multiprocessing.pool


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10,
                        help="factorial of 0..N-1 (default 10)")
    n = parser.parse_args().n
    for kind, pool_class in (("processes", multiprocessing.Pool),
                             ("threads", multiprocessing.pool.ThreadPool)):
        print(f"Running a pool of {kind}...")
        with pool_class() as pool:
            values = pool.map(math.factorial, range(n))
        print(f"{kind.capitalize()} pool results: {values}")


if __name__ == "__main__":
    main()
