/* pool/nofast.c - the build without the fast layer (make POOL_FAST=0):
 * every wait sleeps, every chunk goes through the sockets. */
#include "process.h"

const struct pool_spin_ops *const pool_spin = NULL;
const struct pp_fast_ops *const pool_process_fast = NULL;
