/* common/stats.h - the median, for every program that reports one. */
#ifndef COMMON_STATS_H
#define COMMON_STATS_H

/* The median of v[0..n) (n >= 1). v is sorted in place: v[0] is then the
 * smallest and v[n - 1] the largest. */
double median(double *v, int n);

#endif
