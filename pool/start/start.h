/* pool/start/start.h - what the start layer's files share.
 *
 * A fresh image learns its role from one environment variable, read and
 * removed by pool_main(): POOL_START_CHILD=ROLE:3:PID, where 3 is the
 * descriptor its channel was put on and PID the program's. The role is
 * believed only when fd 3 proves it (start_proven).
 */
#ifndef POOL_START_H
#define POOL_START_H

#include <stdbool.h>
#include <sys/types.h>

#include "../process.h"

#define CHILD_ENV "POOL_START_CHILD"
#define CHILD_FD 3 /* where a fresh image finds its channel: never 0-2 */

/* Start a fresh image of the running program as `role` ("worker" or
 * "server"), with fd on CHILD_FD and nothing else beyond 0-2. Its pid, or
 * -1 with errno and the words (pool_set_error(NULL, ...)). */
pid_t start_launch(const char *role, int fd);

/* May fresh images be started now, for `method`? 0, or an errno with the
 * words. */
int start_check_image(const char *method);

/* In a fresh image that is a worker or the server: take the program's
 * name (PR_SET_NAME), not the "exe" it was started as. */
void start_take_name(void);

/* pool_main ran with this table: remember it, and what the program is. */
void start_boot(const struct pool_task *tasks, size_t ntasks);

/* The index of fn in pool_main's table; POOL_TASK_NONE if not there. */
size_t start_task_index(pool_fn *fn);

/* The fork server's life, on its control socket. */
_Noreturn void start_server_main(int ctrl);

#endif
