/* common/pylist.c - print numbers the way Python prints a list of ints. */
#include <stdio.h>

#include "pylist.h"

void pylist_print(FILE *out, const long long *v, size_t n)
{
    fputc('[', out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%lld", i ? ", " : "", v[i]);
    fputc(']', out);
}
