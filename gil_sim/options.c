/* gil_sim/options.c - gil_sim's command line, checked.
 *
 * Every flag is read here, so that gil_sim.c can start with the lesson.
 * Numbers go through common/args.h (a bad one is a usage error naming the
 * flag, exit 2); the defaults are CPython's where CPython has one (the
 * switch interval of sys.getswitchinterval(), forced switching on).
 *
 * See also: gil_sim.h (struct config), docs/gil_sim.md (the flags table).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "err.h"
#include "gil_sim.h"

static const char usage[] =
    "usage: gil_sim [-l W] [-m M] [-t N | -w N] [-c MS] [-i US] [--timeline]\n"
    "               [--svg FILE] [--tsv] [--io-ops N] [--io-ms MS]\n"
    "               [--no-force-switching]\n"
    "  Simulate CPython's global interpreter lock (GIL) and run the same\n"
    "  work four ways: serial, threads sharing one GIL, processes (a GIL\n"
    "  each), threads with no GIL (the free-threaded build).\n"
    "  -l, --workload W  cpu, io, mixed or all (default: cpu, then io)\n"
    "  -m, --mode M      serial, gil, procs, nogil or all (default: all)\n"
    "  -t, --threads N   Python threads (default 2; mixed adds an I/O one)\n"
    "  -w, --workers N   the same as --threads, as in the other programs\n"
    "  -c, --work MS     computation per thread, milliseconds (default 250)\n"
    "  -i, --interval US switch interval, microseconds (default 5000,\n"
    "                    as sys.setswitchinterval(0.005))\n"
    "      --io-ops N    blocking calls per I/O thread (io 10, mixed 20)\n"
    "      --io-ms MS    each blocking call, ms (io 20, mixed 1)\n"
    "      --no-force-switching\n"
    "                    a thread asked to drop the GIL may retake it at once\n"
    "      --timeline    after each table, a chart: who holds, waits, does I/O\n"
    "      --svg FILE    the same timelines as an SVG picture\n"
    "      --tsv         tab-separated rows under a header line, for scripts\n"
    "  -h, --help        this text\n";

#define DEFAULT_THREADS 2
#define DEFAULT_WORK_MS 250

/* Parse a name from `names`, or "all" (every bit). */
static unsigned parse_names(const char *opt, const char *text,
                            const char *const *names, int n, const char *list)
{
    if (strcmp(text, "all") == 0)
        return (1u << n) - 1;
    for (int i = 0; i < n; i++)
        if (strcmp(text, names[i]) == 0)
            return 1u << i;
    usage_error("%s: expected %s, got '%s'", opt, list, text);
}

/* Flags with no short form. */
enum { OPT_IO_OPS = 256, OPT_IO_MS, OPT_NO_FORCE, OPT_TIMELINE, OPT_SVG,
       OPT_TSV };

/* Fill c from the command line (see gil_sim.h). */
void parse_args(int argc, char *argv[], struct config *c)
{
    static const struct option longopts[] = {
        { "workload", required_argument, NULL, 'l' },
        { "mode", required_argument, NULL, 'm' },
        { "threads", required_argument, NULL, 't' },
        { "workers", required_argument, NULL, 'w' },
        { "work", required_argument, NULL, 'c' },
        { "interval", required_argument, NULL, 'i' },
        { "io-ops", required_argument, NULL, OPT_IO_OPS },
        { "io-ms", required_argument, NULL, OPT_IO_MS },
        { "no-force-switching", no_argument, NULL, OPT_NO_FORCE },
        { "timeline", no_argument, NULL, OPT_TIMELINE },
        { "svg", required_argument, NULL, OPT_SVG },
        { "tsv", no_argument, NULL, OPT_TSV },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int ch;

    prog_init("gil_sim", usage);
    c->threads = DEFAULT_THREADS;
    c->work_ms = DEFAULT_WORK_MS;
    c->interval = GIL_DEFAULT_INTERVAL;
    c->force_switching = 1;
    c->workloads = (1u << WL_CPU) | (1u << WL_IO);
    c->modes = (1u << NMODES) - 1;

    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":hl:m:t:w:c:i:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            print_usage(stdout);
            exit(0);
        case 'l':
            c->workloads = parse_names("--workload", optarg, workload_names,
                                       NWORKLOADS, "cpu, io, mixed or all");
            break;
        case 'm':
            c->modes = parse_names("--mode", optarg, mode_names, NMODES,
                                   "serial, gil, procs, nogil or all");
            break;
        case 't':
        case 'w':
            c->threads = (int)parse_long("--threads", optarg, 1, THREADS_MAX);
            break;
        case 'c':
            c->work_ms = parse_long("--work", optarg, 1, 60000);
            break;
        case 'i':
            c->interval = (unsigned long)parse_long("--interval", optarg, 1,
                                                    10000000);
            break;
        case OPT_IO_OPS:
            c->io_ops = parse_long("--io-ops", optarg, 1, 100000);
            break;
        case OPT_IO_MS:
            c->io_ms = parse_long("--io-ms", optarg, 1, 10000);
            break;
        case OPT_NO_FORCE:
            c->force_switching = 0;
            break;
        case OPT_TIMELINE:
            c->timeline = 1;
            break;
        case OPT_SVG:
            c->svg_path = optarg;
            break;
        case OPT_TSV:
            c->tsv = 1;
            break;
        default:
            getopt_error(ch, argv);
        }
    }
    no_operands(argc, argv);
    if (c->tsv && c->timeline)
        usage_error("--tsv and --timeline do not mix (try --svg FILE)");
}
