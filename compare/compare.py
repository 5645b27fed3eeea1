#!/usr/bin/env python3
"""compare/compare.py - the C programs beside our Python ones: does the
suite say only what is true of CPython?

Runs every comparison in turn and prints one line for each, as it goes:

    agree   basic: identical output (4 lines)
    differ  failure, processes: C ran 0-19, item 1; Python ran 0-1 5-7 ...
    info    square, threads: C 0.000087s, Python 0.005585s (C 64x faster)

then "compare: N agree, M differ", and exits 1 when anything differs
("info" lines report and do not count). The exact comparisons come
first, the timed ones after. Timed figures are medians of runs that
alternate between C and Python, so that a busy moment of the machine
falls on both, with their range. Each timed line holds both sides to
the claim the pages make (CLAIMS below), not only to each other, and
says what it held them to. docs/compare.md says what each line compares,
why its tolerance, and which part of CPython's source backs the claim.

Usage: python3 compare/compare.py [--quick | --runs N] [--only NAME]...
                                  [--claim KEY=VALUE]...
(from the project root, after make; make compare does both). --quick:
one run of each timed comparison and shorter sleeps, reported as info,
not judged (one short run proves nothing). --runs N: N runs of each
timed comparison, judged (fewer than the default say less). --only:
just the comparisons named (as in COMPARISONS). --claim: judge against
another claim, e.g.
--claim schedule=rotation or --claim procs_per_serial=1.0: a comparison
that cannot fail on a false claim proves nothing, and the tests use this
to show that each can.
"""

import argparse
import itertools
import math
import os
import re
import shutil
import statistics
import subprocess
import sys

PY = [sys.executable, "-B"]

# How long the timed comparisons run; --quick makes them shorter.
opt = argparse.Namespace(
    unit=0.2,           # seconds per sleep step in the sleep comparisons
    cpu_runs=5,         # alternating runs for the CPU-bound ratios
    io_runs=3,          # ... for the I/O-bound ratio (sleeps: steadier)
    convoy_runs=31)     # alternating runs for the convoy figure (see convoy)
QUICK = argparse.Namespace(unit=0.05, cpu_runs=1, io_runs=1, convoy_runs=1)
SLEEP_RUNS = 3          # runs of each sleep-order map (1 with --quick)
JUDGED = True           # False with --quick: timed lines are info

# Whether this CPython has a GIL: the free-threaded builds (3.13t, 3.14t)
# have sys._is_gil_enabled() and answer False.
GIL = getattr(sys, "_is_gil_enabled", lambda: True)()
# The CPUs this process may run on: what "serial / cores" divides by.
CPUS = len(os.sched_getaffinity(0))

# What the pages claim, which the timed comparisons hold both sides to.
# Each is a value and a tolerance; --claim KEY=VALUE replaces a value.
CLAIMS = {
    # The order in which idle workers get tasks: "idle" (the worker free
    # first takes the next task) or "rotation" (task i to worker i mod W).
    "schedule": "idle",
    # CPU-bound work in 2 threads over serial: about 1 with a GIL (one
    # thread runs at a time), about 1 / cores without one.
    "threads_per_serial": 1.0 if GIL else 1 / min(2, CPUS),
    # ... in 2 processes over serial: about 1 / cores.
    "procs_per_serial": 1 / min(2, CPUS),
    # 2 threads that sleep, over serial: they overlap, about a half.
    "io_per_serial": 0.5,
    # Switch intervals the I/O thread waits a call next to two CPU-bound
    # threads: one to three with a GIL (docs/gil_sim.md), none without.
    "convoy_intervals": 2.0 if GIL else 0.0,
}
TOLERANCE = {"threads_per_serial": 0.2, "procs_per_serial": 0.2,
             "io_per_serial": 0.1, "convoy_intervals": 1.0}

# Every C command the comparisons run, in one place: when a program's
# flags change, this is where to follow them.
C_BASIC = ["basic/basic"]
C_BASIC_25 = ["basic/basic", "-n", "25"]
# timing/timing names its default pool size; run on one CPU.
C_WORKERS = ["taskset", "-c", "0", "timing/timing", "-u", "0.001", "-r", "1"]
C_SHARED = ["shared/shared"]
C_REUSE = ["reuse/reuse"]
C_RULES = ["reuse/reuse", "--rules"]
C_FAILMAP = ["compare/failmap"]                 # + processes|threads
C_SLEEP = ["timing/timing", "-r", "1"]          # + -u UNIT -w W
C_SLEEPMAP = ["compare/sleepmap"]               # + KIND W SECONDS...
C_SQUARE = ["timing/timing", "-n", "1000", "-u", "0.001", "-r", "20",
            "-w", "2", "-d", "6"]
GIL_SIM_CPU = ["gil_sim/gil_sim", "--tsv", "--workload", "cpu",
               "--mode", "all", "--threads", "2", "--work", "250"]
GIL_SIM_IO = ["gil_sim/gil_sim", "--tsv", "--workload", "io", "--mode", "all",
              "--threads", "2", "--io-ops", "10", "--io-ms", "20"]
GIL_SIM_CONVOY = ["gil_sim/gil_sim", "--tsv", "--workload", "mixed",
                  "--mode", "gil", "--threads", "2", "--work", "250",
                  "--interval", "5000", "--io-ops", "20", "--io-ms", "1"]

# The same for our Python programs.
PY_BASIC = PY + ["compare/basic.py"]
PY_BASIC_25 = PY + ["compare/basic.py", "-n", "25"]
PY_WORKERS = ["taskset", "-c", "0"] + PY + ["compare/basic.py", "--workers"]
PY_SHARED = PY + ["compare/shared.py"]
PY_REUSE = PY + ["compare/reuse.py"]
PY_RULES = PY + ["compare/reuse.py", "--rules"]
PY_FAILMAP = PY + ["compare/failmap.py"]        # + processes|threads
PY_SLEEP = PY + ["compare/timing.py", "-r", "1"]  # + -u UNIT -w W
PY_SLEEPMAP = PY + ["compare/sleepmap.py"]      # + KIND W SECONDS...
PY_SQUARE = PY + ["compare/timing.py", "-n", "1000", "-u", "0.001",
                  "-r", "20", "-w", "2", "-d", "6"]
PY_GIL = PY + ["compare/gil.py"]                # + cpu|io|convoy

tally = {"agree": 0, "differ": 0}


class Failed(Exception):
    """A program failed or printed something we cannot read."""


def say(word, text):
    print(f"{word:<8}{text}", flush=True)


def verdict(ok, text):
    word = "agree" if ok else "differ"
    tally[word] += 1
    say(word, text)


def timed_verdict(ok, text):
    """A timed line: judged, or with --quick only reported."""
    if JUDGED:
        verdict(ok, text)
    else:
        say("info", f"{text} (--quick: not judged)")


def run(cmd, status=0):
    """The stdout of cmd; Failed unless it exits with `status`."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Failed(f"{cmd[-1]}: {exc}") from exc
    if done.returncode != status:
        why = done.stderr.strip().splitlines()[-1:] or [""]
        raise Failed(f"{' '.join(cmd)}: exit {done.returncode} {why[0]}")
    return done.stdout


def find(pattern, text, what):
    """The groups of pattern's first match in text; Failed without one."""
    match = re.search(pattern, text, re.M)
    if not match:
        raise Failed(f"no {what} in the output")
    return match.groups()


def ranges(numbers):
    """[0, 1, 5, 6, 7] -> '0-1 5-7'."""
    spans = []
    for n in numbers:
        if spans and spans[-1][1] == n - 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return " ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in spans)


def brief(pylist):
    """'[1.0, 2.0, 4.0, 8.0]' -> '[1.0, 2.0, ..., 8.0] (4 items)'."""
    items = pylist.strip("[]").split(", ")
    if len(items) <= 3:
        return pylist
    return f"[{items[0]}, {items[1]}, ..., {items[-1]}] ({len(items)} items)"


def ints(text):
    return [int(x) for x in re.findall(r"-?\d+", text)]


# ------------------------------------------------------------------------
# Exact comparisons: the same bytes, the same items, the same error.
# ------------------------------------------------------------------------

def basic():
    c, py = run(C_BASIC), run(PY_BASIC)
    if c == py:
        verdict(True, f"basic: identical output ({len(c.splitlines())} lines)")
        return
    pairs = itertools.zip_longest(c.splitlines(True), py.splitlines(True),
                                  fillvalue="(nothing)")
    cl, pl = next((a, b) for a, b in pairs if a != b)
    verdict(False, f"basic: C {cl!r}, Python {pl!r}")


def basic_25():
    """Python prints all 25 factorials and exits 0; C stops at 21!, which
    does not fit in 64 bits, and exits 1."""
    values = [ints(line.split(":")[1])
              for line in run(PY_BASIC_25).splitlines() if "results" in line]
    run(C_BASIC_25, status=1)
    ok = len(values) == 2 and all(len(v) == 25 for v in values)
    last = values[-1][-1] if ok else None
    verdict(ok and last == 620448401733239439360000,
            f"basic -n 25: Python 25 values, last {last}, exit 0; C exit 1")


def default_workers():
    """On one allowed CPU of several: C's default follows the CPUs it may
    use (as os.process_cpu_count(), 3.13); Python's Pool() follows
    os.cpu_count() before 3.13 and os.process_cpu_count() from 3.13
    (Lib/multiprocessing/pool.py, Pool.__init__)."""
    if not shutil.which("taskset"):
        say("info", "default workers: no taskset here, not compared")
        return
    c, = find(r"^Predicted for a pool of (\d+) workers?:", run(C_WORKERS),
              "pool size")
    size, cpus, usable = ints(run(PY_WORKERS))
    want = cpus if sys.version_info < (3, 13) else usable
    rule = ("os.cpu_count()" if sys.version_info < (3, 13)
            else "os.process_cpu_count()")
    verdict(int(c) == usable == 1 and size == want,
            f"default workers on 1 CPU of {cpus}: C {c}, "
            f"Python {size} ({rule})")


def shared():
    c, py = run(C_SHARED).splitlines(), run(PY_SHARED).splitlines()
    if len(c) != 2 or len(py) != 2:
        raise Failed(f"shared: {len(c)} lines from C, {len(py)} from Python")
    verdict(c[0] == py[0], f"shared, processes: C {c[0]}, Python {py[0]}")
    same = sorted(ints(c[1])) == sorted(ints(py[1])) == list(range(20))
    order = "same" if ints(c[1]) == ints(py[1]) else "another"
    verdict(same, f"shared, threads: C and Python hold 0..19 once each "
                  f"(in {order} order)")


def reuse():
    c_list, = find(r"^print\(pool\.map\(square, range\(10\)\)\)\n(\[.*\])$",
                   run(C_REUSE), "result list")
    py_list = run(PY_REUSE).strip()
    verdict(c_list == py_list,
            f"reuse list: C {brief(c_list)}, Python {brief(py_list)}")


def rules():
    """Each lifecycle rule: the same words for both kinds of pool."""
    line = r"^\s*(processes|threads): (.+?) -> (.*)$"
    c = {(k, r): w for k, r, w in re.findall(line, run(C_RULES), re.M)}
    py = {(k, r): w for k, r, w in re.findall(line, run(PY_RULES), re.M)}
    if not py:
        raise Failed("no rules in the Python output")
    for rule in dict.fromkeys(r for _, r in py):
        words = {re.sub(r'^.*?("[^"]*")$', r"\1", c.get((k, rule), "none"))
                 for k in ("processes", "threads")}
        py_words = {py.get((k, rule)) for k in ("processes", "threads")}
        verdict(words == py_words,
                f"lifecycle, {rule}: C {' / '.join(sorted(words))}, "
                f"Python {' / '.join(sorted(py_words))}")


def failure(kind):
    """The failing map: which items ran and whose error came back."""
    def read(out):
        items, error = find(r"^ran:([\d ]*); error: (.*)$", out, "ran: line")
        return f"ran {ranges(ints(items))}, {error}"
    c = read(run(C_FAILMAP + [kind]))
    py = read(run(PY_FAILMAP + [kind]))
    verdict(c == py, f"failure, {kind}: C {c}; Python {py}")


# ------------------------------------------------------------------------
# Timed comparisons: each figure within a stated tolerance.
# ------------------------------------------------------------------------

def elapsed(out, name):
    return float(find(rf"^Time elapsed for {name}: ([\d.]+)s$", out, name)[0])


def near(t, predicted):
    """A sleep figure against its prediction: at most 5% under (a sleep is
    never shorter) and half a step over (a schedule one step off cannot
    pass)."""
    return predicted * 0.95 <= t <= predicted + opt.unit / 2


def sleep_schedule():
    """Each pool's sleep time against the schedule timing/timing predicts,
    for the tutorial's sleeps (task i sleeps i steps), and that prediction
    against the claimed rule's (busiest() below). On these sleeps "idle"
    and "rotation" predict the same: sleep_order tells them apart."""
    for workers in range(2, 6):
        flags = ["-u", str(opt.unit), "-w", str(workers)]
        c, py = run(C_SLEEP + flags), run(PY_SLEEP + flags)
        if workers == 2:
            steps, = find(r"^Predicted for serial_sleep: .* = (\d+) steps",
                          c, "serial prediction")
            pred = int(steps) * opt.unit
            cs, ps = elapsed(c, "serial_sleep"), elapsed(py, "serial_sleep")
            timed_verdict(near(cs, pred) and near(ps, pred),
                          f"sleep, serial: predicted {pred:.2f}s; "
                          f"C {cs:.2f}, Python {ps:.2f}")
        steps, = find(r"^Predicted for a pool of \d+ workers?: "
                      r"the busiest worker's (\d+) steps", c, "prediction")
        model = busiest(range(5), workers, CLAIMS["schedule"])
        if int(steps) != model:
            raise Failed(f"{workers} workers: timing predicts {steps} steps, "
                         f"the {CLAIMS['schedule']} rule {model}")
        pred = int(steps) * opt.unit
        figures = [elapsed(out, f"{style}_sleep") for out in (c, py)
                   for style in ("processes", "threads")]
        timed_verdict(all(near(t, pred) for t in figures),
                      f"sleep, {workers} workers: predicted {pred:.2f}s; C "
                      "{:.2f}/{:.2f}, Python {:.2f}/{:.2f} (procs/threads)"
                      .format(*figures))


def busiest(steps, workers, schedule):
    """When a map of one-task chunks of `steps` ends on `workers`: "idle",
    each task to the worker free first (the lowest-numbered of a tie), or
    "rotation", task i to worker i mod workers."""
    free = [0] * workers
    for i, step in enumerate(steps):
        k = free.index(min(free)) if schedule == "idle" else i % workers
        free[k] += step
    return max(free)


# Sleeps where the two rules part: the longest first, so that a worker
# done early takes the next task under "idle" but not under "rotation".
SLEEP_ORDER = ((2, (4, 3, 2, 1, 0)), (3, (4, 3, 2, 1, 0)))


def sleep_order():
    """Who takes the next task: sleeps of 4, 3, 2, 1, 0 steps on an open
    pool, the map alone timed, against the claimed schedule's prediction.
    Each case is one where "idle" and "rotation" predict times a step or
    more apart, so a pool that dealt in rotation could not pass."""
    claim = CLAIMS["schedule"]
    for workers, steps in SLEEP_ORDER:
        other = "rotation" if claim == "idle" else "idle"
        pred = busiest(steps, workers, claim) * opt.unit
        if busiest(steps, workers, other) == busiest(steps, workers, claim):
            raise Failed(f"{workers} workers: {claim} and {other} predict "
                         "the same: the case cannot tell them apart")
        secs = [f"{step * opt.unit:g}" for step in steps]
        times = {}
        for _ in range(SLEEP_RUNS):
            for lang, cmd in (("C", C_SLEEPMAP), ("Python", PY_SLEEPMAP)):
                for kind in ("processes", "threads"):
                    out = run(cmd + [kind, str(workers)] + secs)
                    t = float(find(r"^elapsed: ([\d.]+)s$", out, "elapsed")[0])
                    times.setdefault((lang, kind), []).append(t)
        ok = all(near(statistics.median(t), pred) for t in times.values())
        short = {"processes": "procs", "threads": "threads"}
        shown = ", ".join(
            f"{lang} {short[kind]} {spread(t, 2)}"
            for (lang, kind), t in times.items())
        timed_verdict(ok, f"sleep order, {workers} workers, "
                          f"{'+'.join(map(str, steps))} steps: {claim} "
                          f"predicts {pred:.2f}s; {shown}")


def spread(values, digits):
    """'0.50 (0.48-0.55)': the median and the range of values."""
    mid = statistics.median(values)
    if len(values) == 1:
        return f"{mid:.{digits}f}"
    return f"{mid:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def tsv_rows(out):
    """gil_sim --tsv: {mode: {column: value}}, read by the header's names."""
    lines = [line.split("\t") for line in out.splitlines() if line]
    return {row[1]: dict(zip(lines[0], row)) for row in lines[1:]}


def py_rows(out):
    """compare/gil.py: {name: value}."""
    return {k: float(v) for k, v in
            (line.split("\t") for line in out.splitlines() if line)}


# The gil_sim row that stands for CPython's threads: "gil", or "nogil"
# beside a free-threaded CPython.
C_THREADS_ROW = "gil" if GIL else "nogil"


def ratios_cpu():
    c = tsv_rows(run(GIL_SIM_CPU))
    py = py_rows(run(PY_GIL + ["cpu"]))
    serial = float(c["serial"]["wall_s"])
    return (float(c[C_THREADS_ROW]["wall_s"]) / serial,
            float(c["procs"]["wall_s"]) / serial,
            py["threads_per_serial"], py["procs_per_serial"])


def ratios_io():
    c = tsv_rows(run(GIL_SIM_IO))
    py = py_rows(run(PY_GIL + ["io"]))
    return (float(c["gil"]["wall_s"]) / float(c["serial"]["wall_s"]),
            py["threads"] / py["serial"])


def columns(measure, runs):
    """Each figure measure() returns, over `runs` calls: a list per figure."""
    return [list(column) for column in zip(*(measure() for _ in range(runs)))]


def claimed(key, c, py, apart, what):
    """One timed line: the medians of C's and Python's figures each within
    the claim's tolerance, and within `apart` of each other."""
    claim, tol = CLAIMS[key], TOLERANCE[key]
    cm, pm = statistics.median(c), statistics.median(py)
    ok = abs(cm - claim) <= tol and abs(pm - claim) <= tol \
        and abs(cm - pm) <= apart
    timed_verdict(ok, f"{what}: C {spread(c, 2)}, Python {spread(py, 2)}; "
                      f"claim {claim:.2f} +- {tol}, C-Python within {apart}")


def gil_ratios():
    """Wall time over serial, each side against the claim (about 1 for
    threads with a GIL, about 1 / cores for processes: 0.5 apart on two
    cores, so within 0.2 a figure cannot pass for the other claim) and
    within 0.25 of the other side; I/O-bound within 0.1 of a half (sleeps
    dominate, noise hardly moves them)."""
    c_threads, c_procs, py_threads, py_procs = columns(ratios_cpu,
                                                       opt.cpu_runs)
    claimed("threads_per_serial", c_threads, py_threads, 0.25,
            "gil, CPU-bound threads/serial")
    claimed("procs_per_serial", c_procs, py_procs, 0.25,
            "gil, CPU-bound processes/serial")
    c_io, py_io = columns(ratios_io, opt.io_runs)
    claimed("io_per_serial", c_io, py_io, 0.1, "gil, I/O-bound threads/serial")


# The convoy's I/O call: 1 ms of sleep after 0.2 ms of work, and the
# switch interval it waits in: what GIL_SIM_CONVOY and gil.py convoy run.
CONVOY_CALL_S, CONVOY_INTERVAL_S = 0.0012, 0.005


def intervals(rate):
    """Switch intervals waited a call, from calls per second."""
    return (1 / rate - CONVOY_CALL_S) / CONVOY_INTERVAL_S


def convoy():
    """The I/O thread's calls per second next to two CPU-bound threads:
    medians of alternating runs, each side's wait a call (in switch
    intervals) against the claim, and C within 20% of CPython's. A run's
    rate swings widely (the I/O thread waits 1, 2 or 3 whole intervals a
    call, and a run tends to keep one of them), so a median of 31 runs is
    compared, and the line gives the ranges (docs/compare.md)."""
    c, py = [], []
    cmd = GIL_SIM_CONVOY + ["--mode", C_THREADS_ROW]
    for _ in range(opt.convoy_runs):
        c.append(float(tsv_rows(run(cmd))[C_THREADS_ROW]["io_ops_per_s"]))
        py.append(py_rows(run(PY_GIL + ["convoy"]))["io_calls_per_s"])
    cm, pm = statistics.median(c), statistics.median(py)
    claim, tol = CLAIMS["convoy_intervals"], TOLERANCE["convoy_intervals"]
    ok = abs(intervals(cm) - claim) <= tol and \
        abs(intervals(pm) - claim) <= tol and abs(cm - pm) <= 0.2 * pm
    timed_verdict(ok, f"gil, convoy calls/s: C {spread(c, 0)}, Python "
                      f"{spread(py, 0)}; waits a call: C "
                      f"{intervals(cm):.1f}, Python {intervals(pm):.1f} "
                      f"intervals, claim {claim:.0f} +- {tol:.0f}; "
                      "C within 20%")


def square():
    """Reported, not judged: how much faster C's pools square 1000 numbers."""
    c, py = run(C_SQUARE), run(PY_SQUARE)
    for style in ("serial", "processes", "threads"):
        ct = elapsed(c, f"{style}_square")
        pt = elapsed(py, f"{style}_square")
        if ct <= 0 or pt <= 0:
            ratio = "too fast to time"
        elif pt >= ct:
            ratio = f"C {pt / ct:.1f}x faster"
        else:
            ratio = f"Python {ct / pt:.1f}x faster"
        say("info", f"square, {style}: C {ct:.6f}s, Python {pt:.6f}s "
                    f"({ratio})")


# (name, function, arguments...), in the order they run.
COMPARISONS = (("basic", basic), ("basic -n 25", basic_25),
               ("default workers", default_workers), ("shared", shared),
               ("reuse", reuse), ("lifecycle", rules),
               ("failure, processes", failure, "processes"),
               ("failure, threads", failure, "threads"),
               ("sleep", sleep_schedule), ("sleep order", sleep_order),
               ("gil", gil_ratios), ("convoy", convoy), ("square", square))


def claim(text):
    """--claim KEY=VALUE: a key of CLAIMS, and a value of its type."""
    key, sep, value = text.partition("=")
    if not sep or key not in CLAIMS:
        raise argparse.ArgumentTypeError(
            f"expected KEY=VALUE with KEY one of {', '.join(CLAIMS)}")
    if key == "schedule":
        if value not in ("idle", "rotation"):
            raise argparse.ArgumentTypeError("schedule: idle or rotation")
        return key, value
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"{key}: expected a number")
    return key, number


def main():
    global JUDGED, SLEEP_RUNS  # pylint: disable=global-statement
    names = [c[0] for c in COMPARISONS]
    parser = argparse.ArgumentParser(
        description="Run the C programs beside our Python ones and check "
                    "what the suite says about Python.")
    parser.add_argument("--quick", action="store_true",
                        help="one run of each timed comparison, not judged")
    parser.add_argument("--runs", type=int, metavar="N",
                        help="N runs of each timed comparison, judged")
    parser.add_argument("--only", action="append", choices=names,
                        metavar="NAME", help="only this comparison "
                        f"(again for more): {', '.join(names)}")
    parser.add_argument("--claim", action="append", type=claim, default=[],
                        metavar="KEY=VALUE",
                        help=f"judge against another claim: {', '.join(CLAIMS)}")
    args = parser.parse_args()
    if args.quick and args.runs:
        parser.error("--quick and --runs do not go together")
    if args.runs is not None and args.runs < 1:
        parser.error("--runs: expected a positive number")
    if args.quick:
        vars(opt).update(vars(QUICK))
        JUDGED, SLEEP_RUNS = False, 1
    if args.runs:
        opt.cpu_runs = opt.io_runs = opt.convoy_runs = SLEEP_RUNS = args.runs
    CLAIMS.update(args.claim)
    print(f"compare: CPython {sys.version.split()[0]} "
          f"({'with' if GIL else 'without'} a GIL) beside the C programs, "
          f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
          flush=True)
    for name, comparison, *cargs in COMPARISONS:
        if args.only and name not in args.only:
            continue
        try:
            comparison(*cargs)
        except Failed as exc:
            verdict(False, f"{name}: {exc}")
        except (KeyError, IndexError, ValueError, ZeroDivisionError) as exc:
            verdict(False, f"{name}: cannot read the output: {exc!r}")
    print(f"compare: {tally['agree']} agree, {tally['differ']} differ")
    return 1 if tally["differ"] else 0


if __name__ == "__main__":
    sys.exit(main())
