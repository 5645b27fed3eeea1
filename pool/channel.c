/* pool/channel.c - whole messages over a worker's channel, kept above fd 2.
 *
 * Part of the process pool (process.h gives the reading order). CPython's
 * Connection.send_bytes and recv_bytes do the same over a pipe
 * (Lib/multiprocessing/connection.py, 3.11): a partial write or read is
 * carried on until the message is whole.
 */
#define _POSIX_C_SOURCE 200809L /* F_DUPFD_CLOEXEC, MSG_NOSIGNAL */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "process.h"

/* MSG_NOSIGNAL: a dead worker's channel gives EPIPE, not SIGPIPE, and the
 * caller's signal dispositions stay untouched. EINTR is retried. */
int pp_send_all(int fd, struct iovec *iov, int cnt, bool *sent)
{
    struct msghdr msg;

    if (sent)
        *sent = false;
    while (cnt > 0) {
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = iov;
        msg.msg_iovlen = (size_t)cnt;
        ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (sent && n > 0)
            *sent = true;
        size_t left = (size_t)n;
        while (cnt > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

int pp_recv_all(int fd, void *buf, size_t len)
{
    char *p = buf;

    while (len > 0) {
        ssize_t got = read(fd, p, len);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (got == 0)
            return EPIPE;
        p += got;
        len -= (size_t)got;
    }
    return 0;
}

/* A program started with stdin, stdout or stderr closed would get a
 * channel there, and then write its own output into a worker. */
int pp_above_stdio(int fd)
{
    if (fd > STDERR_FILENO)
        return fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    int err = errno;
    close(fd);
    errno = err;
    return moved;
}

int pp_send_op(int fd, int op)
{
    struct msg t;
    struct iovec iov = { &t, sizeof t };

    memset(&t, 0, sizeof t);
    t.op = op;
    return pp_send_all(fd, &iov, 1, NULL);
}

int pp_make_channel(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return errno;
    sv[0] = pp_above_stdio(sv[0]);
    sv[1] = pp_above_stdio(sv[1]);
    if (sv[0] < 0 || sv[1] < 0) {
        int err = errno;
        if (sv[0] >= 0)
            close(sv[0]);
        if (sv[1] >= 0)
            close(sv[1]);
        return err;
    }
    /* Room for a large chunk (the default is about 200 KiB); a refusal
     * only leaves the default. */
    int size = 1 << 20;
    for (int i = 0; i < 2; i++) {
        setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    return 0;
}
