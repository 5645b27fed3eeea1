/* reuse/pyfloat.h - print a double the way Python prints a float. */
#ifndef REUSE_PYFLOAT_H
#define REUSE_PYFLOAT_H

#include <stdio.h>

/* Print x as Python's repr(float): the fewest digits that read back as x,
 * fixed from 1e-4 up to 1e16 ("512.0"), else scientific ("1e+16",
 * "1.8014398509481984e+16"). x must be finite. No newline. */
void print_pyfloat(FILE *out, double x);

#endif
