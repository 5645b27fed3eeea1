/* common/pylist.h - print numbers the way Python prints a list of ints. */
#ifndef COMMON_PYLIST_H
#define COMMON_PYLIST_H

#include <stddef.h>
#include <stdio.h>

/* "[1, 1, 2, 6]" (no newline); "[]" when n is 0. */
void pylist_print(FILE *out, const long long *v, size_t n);

#endif
