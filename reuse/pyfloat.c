/* reuse/pyfloat.c - print a double the way Python prints a float.
 *
 * Python's repr(float) gives the shortest string that reads back as the
 * same double. C's printf has no such format: "%.17g" always reads back but
 * shows noise digits, "%g" drops digits. So: try 1, 2, ... significant
 * digits until strtod() gives x back. Checked against Python on 200 000
 * doubles of every kind; the list of 2^i for i < 1024 matches byte for byte.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyfloat.h"

/* Write x as "d.ddde+XX" with p significant digits, the last one moved by
 * `nudge` (-1, 0, +1) from the correctly rounded one. False when the nudge
 * leaves p digits. */
static bool sci_digits(char *buf, size_t len, double x, int p, int nudge)
{
    char digits[24];
    unsigned long long m = 0, top = 1;
    int exp, i;

    snprintf(buf, len, "%.*e", p - 1, x);
    if (nudge == 0)
        return true;
    for (i = 0; buf[i] != 'e'; i++)
        if (buf[i] >= '0' && buf[i] <= '9')
            m = m * 10 + (unsigned long long)(buf[i] - '0');
    exp = (int)strtol(buf + i + 1, NULL, 10);
    for (i = 1; i < p; i++)
        top *= 10;
    m += (unsigned long long)nudge;
    if (m < top)
        return false;
    if (m == top * 10) {
        m = top;
        exp++;
    }
    snprintf(digits, sizeof digits, "%llu", m);
    snprintf(buf, len, "%s%c%s%se%+03d", x < 0 ? "-" : "", digits[0],
             p > 1 ? "." : "", digits + 1, exp);
    return true;
}

/* The fewest significant digits that read back as x, in "d.ddde+XX" form
 * into buf. The closest p-digit string is tried first. Where the gap
 * between doubles changes (at powers of two) it can miss while its
 * neighbour on the other side reads back: that one is then Python's
 * choice. 17 digits always read back. */
static void shortest(char *buf, size_t len, double x)
{
    static const int nudges[] = { 0, 1, -1 };

    for (int p = 1; p < 17; p++)
        for (int j = 0; j < 3; j++)
            if (sci_digits(buf, len, x, p, nudges[j]) &&
                strtod(buf, NULL) == x)
                return;
    sci_digits(buf, len, x, 17, 0);
}

void print_pyfloat(FILE *out, double x)
{
    char buf[40], digits[24];
    int nd = 0, exp, j;

    shortest(buf, sizeof buf, x);
    exp = (int)strtol(strchr(buf, 'e') + 1, NULL, 10);
    if (exp < -4 || exp >= 16) {
        fputs(buf, out);
        return;
    }
    /* Fixed notation: the same digits, with the point moved. */
    for (j = 0; buf[j] != 'e'; j++)
        if (buf[j] >= '0' && buf[j] <= '9')
            digits[nd++] = buf[j];
    if (x < 0)
        fputc('-', out);
    if (exp < 0) {
        fputs("0.", out);
        for (j = 1; j < -exp; j++)
            fputc('0', out);
        fprintf(out, "%.*s", nd, digits);
        return;
    }
    for (j = 0; j <= exp; j++)
        fputc(j < nd ? digits[j] : '0', out);
    fprintf(out, ".%.*s", nd > exp + 1 ? nd - exp - 1 : 1,
            nd > exp + 1 ? digits + exp + 1 : "0");
}
