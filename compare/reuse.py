#!/usr/bin/env python3
"""compare/reuse.py - a pool opened without `with`, and its lifecycle rules.

Default: open a Pool, map 2.0 ** i (math.pow) over range(10), print the
list, close, join: the list reuse/reuse prints. --rules: for a Pool and a
ThreadPool, join before close, then close and map after close, printing
the words of each ValueError (Pool.join and Pool._check_running in
Lib/multiprocessing/pool.py raise them), then close and join as they
should be.

Usage: python3 compare/reuse.py [--rules]
"""

import functools
import math
import multiprocessing
import multiprocessing.pool
import sys

square = functools.partial(math.pow, 2)


def outcome(action):
    """What calling action() does: 'fine', or the words of its ValueError."""
    try:
        action()
    except ValueError as exc:
        return f'"{exc}"'
    return "fine"


def rules():
    for kind, pool_class in (("processes", multiprocessing.Pool),
                             ("threads", multiprocessing.pool.ThreadPool)):
        pool = pool_class(2)
        print(f"{kind}: join before close -> {outcome(pool.join)}")
        pool.close()
        print(f"{kind}: map after close -> "
              f"{outcome(lambda: pool.map(square, range(10)))}")
        print(f"{kind}: close, then join -> {outcome(pool.join)}")


def main():
    if sys.argv[1:] == ["--rules"]:
        rules()
        return
    pool = multiprocessing.Pool()
    print(pool.map(square, range(10)))
    pool.close()
    pool.join()


if __name__ == "__main__":
    main()
