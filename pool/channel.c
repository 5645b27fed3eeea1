/* pool/channel.c - whole messages over a worker's channel, kept above fd 2,
 * and a descriptor passed along one (SCM_RIGHTS).
 *
 * Part of the process pool: pool/process.h gives the reading order of its
 * files; process_pool.c's header tells the whole story.
 */
#define _POSIX_C_SOURCE 200809L /* F_DUPFD_CLOEXEC, MSG_NOSIGNAL */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "process.h"

/* ---- channel I/O: whole messages, EINTR retried ------------------------ */

/* Send every byte of iov[0..cnt). Returns 0 or an errno value; *sent
 * (unless NULL) tells whether any byte went out. */
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

/* Read exactly len bytes. Returns 0, EPIPE at end of file, or an errno. */
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


/* Move fd to 3 or above (close-on-exec), closing the original. A program
 * started with stdin, stdout or stderr closed would otherwise get a channel
 * there, and then write its own output into a worker. Returns the new
 * descriptor, or -1 with errno set. */
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

/* A new channel, both ends at 3 or above. Returns 0 or an errno value. */
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
    /* Room for a whole large chunk: with the default buffers (about 200
     * KiB) each MiB crosses in several block-and-wake rounds. The kernel
     * caps the size at net.core.wmem_max/rmem_max; a refusal only leaves
     * the default, so the return values do not matter. */
    int size = 1 << 20;
    for (int i = 0; i < 2; i++) {
        setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    return 0;
}

/* Send the worker in slot k its shared region, when the pool spins. The
 * memfd is made after the fork and closed once sent, under all_lock: no
 * other child gets it. Without a region (memfd refused, the worker gone)
 * the worker goes through the socket only, as with POOL_SPIN_US=0. Only
 * workers that leave a CPU for the parent spin (cpus - 1 of them); the
 * others sleep as soon as they are idle. */

/* The control part of a message that carries one descriptor, aligned as a
 * cmsghdr must be. */
union fd_control {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
};

ssize_t pp_send_fd(int fd, const void *buf, size_t len, int pass)
{
    union fd_control u;
    struct iovec iov = { (void *)buf, len };
    struct msghdr msg;
    ssize_t sent;

    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (pass >= 0) {
        memset(&u, 0, sizeof u);
        msg.msg_control = u.buf;
        msg.msg_controllen = sizeof u.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &pass, sizeof pass);
    }
    while ((sent = sendmsg(fd, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    return sent;
}

ssize_t pp_recv_fd(int fd, void *buf, size_t len, int *passed)
{
    union fd_control u;
    struct iovec iov = { buf, len };
    struct msghdr msg;
    ssize_t got;

    if (passed)
        *passed = -1;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    while ((got = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    if (got < 0)
        return got;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        int in;
        memcpy(&in, CMSG_DATA(c), sizeof in);
        if (passed)
            *passed = in;
        else
            close(in);
    }
    return got;
}
