#!/usr/bin/env bats
# tests/pool.bats - the pool library's contract (pool/pool.h), both kinds,
# through the C driver tests/pool_test.c: one case a test, bounded by timeout.

bats_require_minimum_version 1.5.0
load helpers

pt() {
    run -0 t "$ROOT/tests/pool_test" "$@"
}

@test "pool: results keep the arguments' order under uneven task times" {
    pt order processes
    pt order threads
}

@test "pool: chunksize larger than n, and the default ceil(n / 4w)" {
    pt chunks processes
    pt chunks threads
}

@test "pool: pool_spin_us reads POOL_SPIN_US as the pools do" {
    local value want
    # Larger than the maximum: the maximum. Without the fast layer no pool
    # spins, whatever it says.
    for value in unset:1000 0:0 250:250 1000000:1000000 1000001:1000000 \
        99999999999999999999:1000000 -1:1000 abc:1000 12x:1000 '':1000; do
        [ "${POOL_FAST:-1}" = 0 ] && value=${value%:*}:0
        want=${value##*:} value=${value%:*}
        if [ "$value" = unset ]; then
            run -0 t env -u POOL_SPIN_US "$ROOT/tests/pool_test" spin_us threads
        else
            run -0 t env POOL_SPIN_US="$value" "$ROOT/tests/pool_test" spin_us threads
        fi
        [ "$output" = "$want" ] || {
            echo "POOL_SPIN_US=$value: want $want, got $output"; false; }
    done
}

@test "pool: a failed item is reported, the others have results" {
    pt errors processes
    expect_eq "first failure to arrive reported: item 3 (ERANGE)" "$output"
    pt errors threads
}

@test "pool: a chunk stops at its first failure; the first to arrive is reported" {
    # CPython 3.11: items 0 1 5 6 7 10-19 run, and item 7's error is raised.
    local want="ran: 0 1 5 6 7 10 11 12 13 14 15 16 17 18 19
error: item 7 failed: Numerical argument out of domain (2 items failed in all, 5 not run)"
    for kind in processes threads; do
        pt first_failure "$kind"
        [ "$output" = "$want" ] || { echo "want: $want"; echo "got:  $output"; false; }
    done
}

@test "pool: n = 0, bad arguments, default worker count" {
    pt empty processes
    pt empty threads
}

@test "pool: NULL results with result_size 0" {
    pt nullres processes
    pt nullres threads
}

@test "pool: 1 MiB arguments and results, more than a pipe buffer" {
    pt large processes
    pt large threads
}

@test "pool: lifecycle errors use CPython's words" {
    pt lifecycle processes
    pt lifecycle threads
}

@test "pool: a worker that dies mid-map is reported, reaped, replaced" {
    pt kill processes
    [[ "$output" == *"item 5 lost: worker "*"was killed by signal 9 (Killed)"* ]]
    [[ "$output" == *"killed by signal 11"* ]]
    [[ "$output" == *"exited with status 3"* ]]
}

@test "pool: a worker killed from outside does not hang the map" {
    pt external_kill processes
}

@test "pool: every fork refused after a death: survivors finish, then the pool heals" {
    pt respawn_refused processes
}

@test "pool: pools opened from two threads at once: every join is prompt" {
    pt threads_open processes
    pt threads_open threads
}

@test "pool: a stopped worker (SIGSTOP) does not hang pool_free" {
    pt stopped processes
}

@test "pool: a caller that ignores SIGCHLD still gets a death reported, a clean join" {
    pt sigchld_ignored processes
}

@test "pool: the caller's own forks, while pools open, give children that can open pools" {
    # Under ThreadSanitizer about one run in five has a child hang on
    # all_lock, though the atfork handlers let it go; plain builds never do
    # (0 of hundreds of children here). ThreadSanitizer does not support
    # fork() in a program that runs other threads (its own runtime is
    # copied mid-flight), so this case runs in make test and make asan only.
    [ -z "${TSAN_OPTIONS:-}" ] || skip "fork beside running threads: not under ThreadSanitizer"
    pt caller_fork processes
}

@test "pool: 500 open/map/free cycles leave no descriptor, thread or zombie" {
    pt cycles processes
    pt cycles threads
}

@test "pool: fork or pthread_create refused half way: nothing left behind" {
    pt refused processes
    pt refused threads
}

@test "pool: two pools at once; closing one does not wait on the other" {
    pt two_pools processes
    pt two_pools threads
}

@test "pool: buffered output is flushed before fork, so printed once" {
    # Through a pipe stdout is fully buffered: without the flush each of the
    # three workers would write the parent's buffer again when its task
    # flushes stdout, as a task that prints does.
    pt flush processes
    expect_eq "printed once before the pool opens" "$output"
    run -0 bash -c "timeout 30 '$ROOT/tests/pool_test' flush processes > '$BATS_TEST_TMPDIR/out'"
    [ "$(cat "$BATS_TEST_TMPDIR/out")" = "printed once before the pool opens" ]
}

@test "pool: a copy of a pool (fork child, task) refuses every call, harms no worker" {
    pt copies processes
    pt copies threads
}

@test "pool: a NULL pool gets EINVAL from every call" {
    pt null processes
    pt null threads
}

@test "pool: calls from another thread during a map get EBUSY at once" {
    pt busy processes
    pt busy threads
}

@test "pool: a long-lived child of the caller does not hold up close + join" {
    pt caller_child processes
    pt caller_child threads
}

@test "pool: started with fds 0-2 closed, no channel lands on them" {
    # Not through `run`, which would give the command a stdout of its own.
    for kind in processes threads; do
        t "$ROOT/tests/pool_test" low_fds "$kind" <&- >&-
        t "$ROOT/tests/pool_test" low_fds "$kind" <&- >&- 2>&-
    done
}

@test "pool: what tasks print arrives, through a pipe and into a file" {
    local want got
    want=$(seq 0 39 | sed 's/^/task /')
    for kind in processes threads; do
        pt task_output "$kind"
        got=$(sort -k2n <<<"$output")
        [ "$got" = "$want" ] || { echo "want: $want"; echo "got:  $got"; false; }
        t "$ROOT/tests/pool_test" task_output "$kind" > "$BATS_TEST_TMPDIR/out"
        got=$(sort -k2n "$BATS_TEST_TMPDIR/out")
        [ "$got" = "$want" ] || { echo "want: $want"; echo "got:  $got"; false; }
    done
}

@test "pool: items lost with a dead worker hold zeros" {
    pt lost_zeros processes
}

@test "pool: a task that closes its worker's channel is reported as such" {
    pt closed_channel processes
    # Mostly "... and left"; a worker slow to exit (a loaded machine) is
    # reported as still running: both name the first cause.
    [[ "${lines[0]}" == "item 3 lost: worker "*" had its channel closed (by a task?) "* ]]
    [[ "${lines[1]}" == "item 3 lost: worker "*" had its channel closed (by a task?) while still running, and was killed by the pool" ]]
}

@test "pool: a worker out of memory is reported as such, and not forked again and again" {
    pt no_memory processes
    [[ "${lines[0]}" == "item "*" lost: worker "*" ran out of memory for a chunk's arguments or results (8 items failed in all)" ]] || {
        echo "got: ${lines[0]}"; false; }
}

@test "pool: sizes no array can have get EINVAL" {
    pt too_large processes
    pt too_large threads
}

@test "pool: each file of the library builds on its own with plain cc -std=c11" {
    local f
    for f in "$ROOT"/pool/*.c; do
        run -0 t "${CC:-cc}" -std=c11 -Wall -Wextra -pedantic -Werror -c \
            -o "$BATS_TEST_TMPDIR/file.o" "$f"
    done
}

@test "pool: a task that writes over the queue's records costs items, not a hang" {
    pt queue_scribble processes
    echo "$output"
}

@test "pool: with arg_size 0 every task gets NULL, in both kinds" {
    pt zero_arg processes
    pt zero_arg threads
}
