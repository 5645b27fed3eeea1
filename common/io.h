/* common/io.h - whole messages over a descriptor, across short reads and
 * writes and EINTR. For the programs' own pipes (the pool has its own). */
#ifndef COMMON_IO_H
#define COMMON_IO_H

#include <stddef.h>

/* Write all len bytes. Returns 0, or -1 with errno set. */
int write_all(int fd, const void *buf, size_t len);

/* Read exactly len bytes. Returns 0, or -1 at end of file (errno 0) or on
 * an error (errno set). */
int read_full(int fd, void *buf, size_t len);

#endif
