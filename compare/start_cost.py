"""compare/start_cost.py - what a fresh pool costs in CPython, per start
method: open 2 workers, map square over 1000 integers, close, join.

Usage: python3 compare/start_cost.py [RUNS]   (default 5)
The C side: tests/start_test cost 11. See docs/start_methods.md.
"""
import multiprocessing as mp, statistics, sys, time

def square(x):
    return x * x

if __name__ == "__main__":
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for method in ("fork", "spawn", "forkserver"):
        ctx = mp.get_context(method)
        t = []
        for _ in range(runs):
            t0 = time.perf_counter()
            with ctx.Pool(2) as pool:
                pool.map(square, range(1000))
                pool.close()
                pool.join()
            t.append((time.perf_counter() - t0) * 1e3)
        print(f"{method:<11} {statistics.median(t):7.1f} ms "
              f"{min(t):7.1f} ms {max(t):7.1f} ms")
