#!/usr/bin/env python3
"""compare/gil.py - CPython's GIL, measured: the figures gil_sim simulates.

Our own Python programs for the GIL paragraph, one per workload, each
printing tab-separated "name<TAB>value" lines:

    cpu     two jobs of pure-Python counting (0.25 s each): one thread
            doing both (serial), two threads, two processes, in 3 rounds;
            the medians of their wall seconds, and the medians of the
            rounds' ratios to serial (threads_per_serial,
            procs_per_serial): a ratio taken within one round is not
            moved by the machine getting faster or slower between rounds,
            and on two shared cores it does, by half at times.
    io      two jobs of 10 x (0.2 ms of counting + a 20 ms sleep): serial,
            then two threads; wall seconds
    convoy  two counting threads (0.25 s each) and one I/O thread doing
            20 x (0.2 ms of counting + a 1 ms sleep), switch interval 5 ms:
            the I/O thread's calls per second
    waits   the same, with --threads counting threads (default 2): how long
            each call's sleep took beyond its 1 ms, in ms, a line a call
            (the wait to take the GIL back, and the timer's slack)

time.sleep releases the GIL around the wait, as a blocking read does. The
counting is calibrated on this machine first, so that its length, not a
count, matches gil_sim's --work.

Usage: python3 compare/gil.py cpu|io|convoy|waits [--threads N]
"""

import argparse
import multiprocessing
import statistics
import sys
import threading
import time

WORK_S = 0.25          # gil_sim --work 250
CPU_ROUNDS = 3
STEP_WORK_S = 0.0002   # gil_sim's 200 us of bytecode before each call
SWITCH_INTERVAL_S = 0.005


def count(n):
    """Pure-Python work: a loop that holds the GIL and checks its drop
    request at every back edge."""
    while n > 0:
        n -= 1


def counts_per_second():
    """How fast count() runs here: the fastest of five short runs (another
    program on the CPU only ever adds time). count() is called 8 times
    first: CPython 3.11 specializes a function's bytecode only on its 8th
    call (RESUME calls _PyCode_Warmup; QUICKENING_WARMUP_DELAY is 8 in
    Include/internal/pycore_code.h), and the specialized loop runs about
    1.6 times as fast here. Without the warm-up the calibration and the
    first serial run would time the slow loop and the rest the fast one."""
    for _ in range(8):
        count(1000)
    n = 200_000
    best = min(timed(count, n) for _ in range(5))
    return n / best


def timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def in_serial(*jobs):
    """Run each (fn, args) in turn, in this thread."""
    for fn, args in jobs:
        fn(*args)


def in_threads(*jobs):
    """Run each (fn, args) in a thread of its own; wait for all."""
    threads = [threading.Thread(target=fn, args=args) for fn, args in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def in_processes(*jobs):
    """Run each (fn, args) in a forked process of its own; wait for all."""
    fork = multiprocessing.get_context("fork")
    procs = [fork.Process(target=fn, args=args) for fn, args in jobs]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()


def io_job(calls, work, sleep_s, rates=None, waits=None):
    """calls x (work counts, then a sleep); the calls per second go into
    rates when given, and what each sleep took beyond sleep_s into waits."""
    start = time.perf_counter()
    for _ in range(calls):
        count(work)
        before = time.perf_counter()
        time.sleep(sleep_s)
        if waits is not None:
            waits.append(time.perf_counter() - before - sleep_s)
    if rates is not None:
        rates.append(calls / (time.perf_counter() - start))


def cpu(speed):
    job = (count, (int(WORK_S * speed),))
    rounds = [(timed(in_serial, job, job), timed(in_threads, job, job),
               timed(in_processes, job, job)) for _ in range(CPU_ROUNDS)]
    serial, threads, procs = (statistics.median(c) for c in zip(*rounds))
    print(f"serial\t{serial:.4f}\nthreads\t{threads:.4f}\nprocs\t{procs:.4f}")
    for name, col in (("threads_per_serial", 1), ("procs_per_serial", 2)):
        ratio = statistics.median(r[col] / r[0] for r in rounds)
        print(f"{name}\t{ratio:.4f}")


def io(speed):
    job = (io_job, (10, int(STEP_WORK_S * speed), 0.020))
    print(f"serial\t{timed(in_serial, job, job):.4f}")
    print(f"threads\t{timed(in_threads, job, job):.4f}")


def convoy(speed):
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    rates = []
    cpu_job = (count, (int(WORK_S * speed),))
    in_threads(cpu_job, cpu_job,
               (io_job, (20, int(STEP_WORK_S * speed), 0.001, rates)))
    print(f"io_calls_per_s\t{rates[0]:.1f}")


def waits(speed, threads):
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    times = []
    cpu_job = (count, (int(WORK_S * speed),))
    in_threads(*[cpu_job] * threads,
               (io_job, (20, int(STEP_WORK_S * speed), 0.001, None, times)))
    for t in times:
        print(f"io_wait_ms\t{t * 1000:.2f}")


def main():
    workloads = {"cpu": cpu, "io": io, "convoy": convoy, "waits": waits}
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=workloads)
    parser.add_argument("--threads", type=int, default=2,
                        help="waits: the counting threads (default 2)")
    args = parser.parse_args()
    if args.workload == "waits":
        waits(counts_per_second(), args.threads)
    else:
        workloads[args.workload](counts_per_second())


if __name__ == "__main__":
    main()
