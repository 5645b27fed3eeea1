/* compare/options.c - the command line of the C halves of make compare
 * (see options.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "args.h"
#include "err.h"
#include "options.h"

void help_only(int argc, char *argv[])
{
    static const struct option longopts[] = { OPT_FLAG("help", 'h'), OPT_END };
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c != 'h')
            getopt_error(c, argv);
        print_usage(stdout);
        exit(0);
    }
}
