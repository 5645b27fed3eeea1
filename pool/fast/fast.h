/* pool/fast/fast.h - what the fast layer's files share (spin.c's rule). */
#ifndef POOL_FAST_H
#define POOL_FAST_H

#include <stdbool.h>

long long spin_now_ns(void);
long long spin_budget_ns(void);
/* The rule of spin.c: watch until news(ctx), see struct pool_spin_ops. */
bool spin_watch(long long budget, bool (*news)(void *), void *ctx,
                int awake, long long until);

#endif
