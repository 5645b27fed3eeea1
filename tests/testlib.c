/* tests/testlib.c - what the C test drivers share (see testlib.h). */
#define _DEFAULT_SOURCE /* DIR */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

int invert(const void *arg, void *result)
{
    const unsigned char *in = arg;
    unsigned char *out = result;

    for (size_t i = 0; i < BIG; i++)
        out[i] = (unsigned char)~in[i];
    return 0;
}

int announce_and_sleep(const void *arg, void *result)
{
    (void)arg;
    (void)result;
    printf("worker %ld\n", (long)getpid());
    fflush(stdout);
    nap_ms(60000);
    return 0;
}

void fill(long *args, size_t n)
{
    for (size_t i = 0; i < n; i++)
        args[i] = (long)i;
}

void nap_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* The entries of a /proc folder, "." and ".." left out. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    CHECK(d != NULL, "opendir %s: %s", dir, strerror(errno));
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

int count_fds(void)
{
    return count_entries("/proc/self/fd") - 1; /* the one opendir holds */
}

int count_threads(void)
{
    return count_entries("/proc/self/task");
}
