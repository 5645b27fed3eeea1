/* common/clock.h - one clock for every program that times something. */
#ifndef COMMON_CLOCK_H
#define COMMON_CLOCK_H

/* Seconds on CLOCK_MONOTONIC, which setting the date does not move. */
double now(void);

#endif
