/* compare/options.h - the command line of the C halves of make compare.
 *
 * failmap and sleepmap take operands only, and -h/--help: one parse for
 * both, with the programs' usual words for a bad option.
 */
#ifndef COMPARE_OPTIONS_H
#define COMPARE_OPTIONS_H

/* Read the options: -h or --help prints the usage and exits 0, any other
 * option is a usage error (exit 2). On return optind is the first operand. */
void help_only(int argc, char *argv[]);

#endif
