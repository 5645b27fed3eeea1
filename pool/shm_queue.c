/* pool/shm_queue.c - a map's chunks in shared memory (shm_queue.h). */
#define _GNU_SOURCE /* memfd_create, MADV_DONTFORK */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shm_queue.h"

/* The layout after the header: chunk records, arguments, results; each
 * part on a cache line of its own (and so aligned as malloc aligns). */
static size_t up(size_t x)
{
    return (x + SHM_LINE - 1) / SHM_LINE * SHM_LINE;
}

static size_t chunks_off(void)
{
    return up(sizeof(struct shm_queue));
}

static size_t args_off(size_t nchunks)
{
    return chunks_off() + up(nchunks * sizeof(struct shm_chunk));
}

static size_t results_off(size_t n, size_t nchunks, size_t arg_size)
{
    return args_off(nchunks) + up(n * arg_size);
}

struct shm_queue *shm_queue_create(void)
{
    int fd = memfd_create("pool-queue", MFD_CLOEXEC);
    void *p = MAP_FAILED;

    if (fd < 0)
        return NULL;
    if (ftruncate(fd, QUEUE_SIZE) == 0)
        p = mmap(NULL, QUEUE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd); /* the mapping keeps the memory */
    if (p == MAP_FAILED)
        return NULL;
    shm_queue_inherit(p, false);
    return p;
}

void shm_queue_unmap(struct shm_queue *q)
{
    if (q)
        munmap(q, QUEUE_SIZE);
}

bool shm_queue_inherit(struct shm_queue *q, bool on)
{
    /* A refusal of DONTFORK only costs memory in a child that keeps a copy;
     * one of DOFORK leaves the worker without the queue: the pool deals
     * chunks instead (pq_usable). */
    return madvise(q, QUEUE_SIZE, on ? MADV_DOFORK : MADV_DONTFORK) == 0;
}

bool shm_queue_fits(size_t n, size_t nchunks, size_t arg_size,
                    size_t result_size)
{
    size_t room = QUEUE_SIZE;

    if (nchunks > room / sizeof(struct shm_chunk) ||
        (arg_size && n > room / arg_size) ||
        (result_size && n > room / result_size))
        return false;
    size_t off = results_off(n, nchunks, arg_size);
    return off <= room && n * result_size <= room - off;
}

struct shm_chunk *shm_queue_chunks(struct shm_queue *q)
{
    return (struct shm_chunk *)((char *)q + chunks_off());
}

char *shm_queue_args(struct shm_queue *q, size_t nchunks)
{
    return (char *)q + args_off(nchunks);
}

char *shm_queue_results(struct shm_queue *q, size_t n, size_t nchunks,
                        size_t arg_size)
{
    return (char *)q + results_off(n, nchunks, arg_size);
}

size_t shm_queue_claim(struct shm_queue *q, size_t n, int me)
{
    struct shm_chunk *ch = shm_queue_chunks(q);

    for (size_t c = atomic_load(&q->next); c < n; c++) {
        int free = QUEUE_FREE;
        if (atomic_load_explicit(&ch[c].owner, memory_order_relaxed) !=
                QUEUE_FREE ||
            !atomic_compare_exchange_strong(&ch[c].owner, &free, me))
            continue;
        /* Move the hint past c, unless another claim moved it further. */
        size_t hint = atomic_load(&q->next);
        while (hint <= c &&
               !atomic_compare_exchange_weak(&q->next, &hint, c + 1))
            ;
        return c;
    }
    return SIZE_MAX;
}

void shm_queue_finish(struct shm_queue *q, size_t c, size_t ran, int err)
{
    struct shm_chunk *ch = &shm_queue_chunks(q)[c];

    ch->ran = ran;
    ch->err = err;
    ch->arrival = atomic_fetch_add(&q->arrivals, 1);
    atomic_store_explicit(&ch->owner, QUEUE_DONE, memory_order_release);
}
