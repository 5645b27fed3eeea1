#!/usr/bin/env python3
"""compare/failmap.py - which items of a failing pool.map run, and which
exception it raises, in CPython's Pool or ThreadPool.

Two workers map over range(20) in chunks of 5; item 0 sleeps 0.3 s, items
1 and 7 raise at once. A worker runs a chunk as list(map(f, chunk))
(Lib/multiprocessing/pool.py, mapstar and worker, 3.11), so a chunk stops
at its first exception; the map waits for every chunk and raises the
first exception to arrive (MapResult._set keeps only that one). One line
comes out, the line compare/failmap prints for the C pool:

    ran: 0 1 5 6 7 10 11 12 13 14 15 16 17 18 19; error: item 7

Usage: python3 compare/failmap.py processes|threads
"""

import argparse
import multiprocessing
import multiprocessing.pool
import time

ITEMS, WORKERS, CHUNKSIZE = 20, 2, 5
SLOW_ITEM, SLOW_S = 0, 0.3
FAILING = (1, 7)

ran = None  # ran[i] != 0: item i started; shared memory, for processes


def remember(shared):
    """Pool initializer: the workers' handle on the shared flags."""
    global ran
    ran = shared


def task(i):
    ran[i] = 1
    if i == SLOW_ITEM:
        time.sleep(SLOW_S)
    if i in FAILING:
        raise ValueError(f"item {i}")


def main():
    kinds = {"processes": multiprocessing.Pool,
             "threads": multiprocessing.pool.ThreadPool}
    parser = argparse.ArgumentParser(
        description="Which items of a failing pool.map run, and which "
                    "exception it raises.")
    parser.add_argument("kind", choices=kinds)
    kind = parser.parse_args().kind
    flags = multiprocessing.Array("b", ITEMS, lock=False)
    error = "none"
    with kinds[kind](WORKERS, remember, (flags,)) as pool:
        try:
            pool.map(task, range(ITEMS), CHUNKSIZE)
        except ValueError as exc:
            error = str(exc)
    items = " ".join(str(i) for i in range(ITEMS) if flags[i])
    print(f"ran: {items}; error: {error}")


if __name__ == "__main__":
    main()
