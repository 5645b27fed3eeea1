#!/usr/bin/env python3
"""compare/shared.py - append 0..19 to a list from a Pool, then a ThreadPool.

Our own Python version of the section "Threads or processes": each worker
process appends to its own copy of the list, so the caller's list stays
empty; worker threads append to the caller's list itself. The two lines
shared/shared must print.

Usage: python3 compare/shared.py
"""

import multiprocessing
import multiprocessing.pool


def appended_by(pool_class):
    """Map list.append over 0..19 in a pool; return the caller's list."""
    numbers = []
    with pool_class() as pool:
        pool.map(numbers.append, range(20))
    return numbers


if __name__ == "__main__":
    for pool_class in (multiprocessing.Pool, multiprocessing.pool.ThreadPool):
        print(appended_by(pool_class))
