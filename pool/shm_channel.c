/* pool/shm_channel.c - a process worker's shared region, and spinning.
 *
 * The plumbing of shm_channel.h: making and mapping the region, where a
 * chunk goes in it, and the spin-then-sleep rules the thread pool follows
 * (POOL_SPIN_US, docs/latency.md): bounded, a pause between looks, a yield
 * now and then, and a backoff when a spinner finds it was preempted.
 *
 * See also: shm_channel.h, process_pool.c, thread_pool.c.
 */
#define _GNU_SOURCE /* memfd_create, MADV_DONTFORK */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "shm_channel.h"
#include "spin.h"

/* Spin this long by default: about a wake-up's cost, many times over. */
/* A gap this long between two looks at the clock means we were preempted;
 * then nobody spins for BACKOFF_NS: the CPUs are wanted. */
#define PREEMPTED_NS 200000
#define BACKOFF_NS 500000000LL

_Static_assert(sizeof(struct shm_ctl) <= SHM_DATA, "control block too big");

/* A mapping no fork inherits: neither a new worker of another pool nor a
 * child of the caller or of a task has any use for it, and a copy of it
 * would keep the memory alive. */
static struct shm_ctl *map_region(int fd)
{
    void *p = mmap(NULL, SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

    if (p == MAP_FAILED)
        return NULL;
    madvise(p, SHM_SIZE, MADV_DONTFORK); /* a refusal only costs memory */
    return p;
}

struct shm_ctl *shm_create(int *fd)
{
    struct shm_ctl *ctl;
    int err;

    *fd = memfd_create("pool-worker", MFD_CLOEXEC);
    if (*fd < 0)
        return NULL;
    if (ftruncate(*fd, SHM_SIZE) < 0 || !(ctl = map_region(*fd))) {
        err = errno;
        close(*fd);
        *fd = -1;
        errno = err;
        return NULL;
    }
    return ctl; /* zeros: every sequence at 0, nobody sleeping */
}

struct shm_ctl *shm_map(int fd, size_t size)
{
    if (size != SHM_SIZE) {
        errno = EPROTO;
        return NULL;
    }
    return map_region(fd);
}

void shm_unmap(struct shm_ctl *ctl)
{
    if (ctl)
        munmap(ctl, SHM_SIZE);
}

/* Results start on a cache line of their own (and so aligned as malloc
 * aligns): a task may store any type there. */
static size_t results_offset(size_t count, size_t arg_size)
{
    size_t a = count * arg_size;

    return (a + SHM_LINE - 1) / SHM_LINE * SHM_LINE;
}

bool shm_fits(size_t count, size_t arg_size, size_t result_size)
{
    size_t room = SHM_SIZE - SHM_DATA;

    if ((arg_size && count > room / arg_size) ||
        (result_size && count > room / result_size))
        return false;
    size_t off = results_offset(count, arg_size);
    return off <= room && count * result_size <= room - off;
}

char *shm_args(struct shm_ctl *ctl)
{
    return (char *)ctl + SHM_DATA;
}

char *shm_results(struct shm_ctl *ctl, size_t count, size_t arg_size)
{
    return shm_args(ctl) + results_offset(count, arg_size);
}

/* ---- spinning ------------------------------------------------------------ */



long long shm_spin_budget_ns(void)
{
    /* On one CPU a spinner only ever keeps it from the one it waits for. */
    return pool_cpu_count() < 2 ? 0 : spin_budget_ns();
}

bool shm_may_spin(long long budget, atomic_llong *calm_from)
{
    return budget > 0 && spin_now_ns() >= atomic_load(calm_from);
}

struct shm_spin shm_spin_start(long long budget, atomic_llong *calm_from)
{
    long long t = spin_now_ns();

    return (struct shm_spin){ t, t, budget, 0, calm_from };
}

/* Was the spinner preempted since its last look at the clock (at time t)?
 * Then the CPUs are wanted: a spinner on a busy CPU waits a whole time
 * slice for its turn, where a sleeper is let in as soon as it is woken. */
static bool preempted(struct shm_spin *s, long long t)
{
    if (t - s->last <= PREEMPTED_NS)
        return false;
    atomic_store(s->calm_from, t + BACKOFF_NS);
    return true;
}

bool shm_spin_on(struct shm_spin *s)
{
    long long t;

    spin_relax();
    if (++s->looks % 64)
        return true;
    t = spin_now_ns();
    if (preempted(s, t) || t - s->start > s->budget)
        return false;
    s->last = t;
    if (s->looks % 256 == 0)
        sched_yield();
    return true;
}

void shm_spin_end(struct shm_spin *s)
{
    preempted(s, spin_now_ns());
}
