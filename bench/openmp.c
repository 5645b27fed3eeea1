/* bench/openmp.c - the same map as OpenMP's `parallel for`: the row a C
 * programmer would hold the pool to.
 *
 * The only file of the suite built with -fopenmp, and only where the
 * compiler has it (bench/Makefile tries it on a tiny file first). Without
 * it, _OPENMP is not defined, the pragma is not compiled in, and bench
 * skips the row saying why: the suite itself needs only libc and pthreads.
 *
 * OpenMP's threads are started at the first parallel region and kept, as
 * a pool opened once is. After a region they spin for a while before they
 * sleep (OMP_WAIT_POLICY, GOMP_SPINCOUNT for libgomp, KMP_BLOCKTIME for
 * LLVM's libomp): a map that comes soon after finds them awake.
 *
 * Try: OMP_WAIT_POLICY=passive bench/bench --only latency
 *
 * See also: bench/latency.c, docs/performance.md.
 */
#include "bench.h"

#ifdef _OPENMP

const char *omp_runtime(const char **why)
{
    *why = NULL;
#ifdef __clang__
    return "libomp";
#else
    return "libgomp";
#endif
}

void op_omp_map(void *ctx)
{
    struct omp_ctx *c = ctx;
    pool_fn *volatile vfn = c->fn; /* an indirect call, as the pool makes */
    pool_fn *fn = vfn;
    const long *args = c->args;
    long long *results = c->results;

#pragma omp parallel for num_threads(c->threads) schedule(dynamic, c->chunksize)
    for (long i = 0; i < c->n; i++)
        fn(&args[i], &results[i]);
}

#else /* no OpenMP in this build */

const char *omp_runtime(const char **why)
{
#ifdef OPENMP_OFF_FOR_TSAN /* set by bench/Makefile */
    *why = "left out under ThreadSanitizer";
#else
    *why = "the compiler has no -fopenmp";
#endif
    return NULL;
}

void op_omp_map(void *ctx)
{
    (void)ctx;
}

#endif
