#!/usr/bin/env bats
# tests/start.bats - the start methods (fork, spawn, forkserver) of
# pool/pool.h, through the C driver tests/start_test.c: one case a test,
# every method, bounded by timeout.

bats_require_minimum_version 1.5.0
load helpers

METHODS=(fork spawn forkserver)

st() {
    run -0 t "$ROOT/tests/start_test" "$@"
}

# expect WANT: the last run's output holds WANT.
expect() {
    [[ "$output" == *"$1"* ]] || { echo "want: *$1*"; echo "got:  $output"; false; }
}

@test "start: every method maps with the order kept" {
    for m in "${METHODS[@]}"; do
        st map "$m"
        expect "$m: order kept"
    done
}

@test "start: fork workers see the program's globals, fresh images do not" {
    st globals fork
    expect "fork: workers see 42 (the program set 42); parent: the program"
    st globals spawn
    expect "spawn: workers see 0 (the program set 42); parent: the program"
    st globals forkserver
    expect "forkserver: workers see 0 (the program set 42); parent: the fork server"
}

@test "start: a dead worker is reported, and replaced by the same method" {
    for m in "${METHODS[@]}"; do
        st kill "$m"
        expect "$m: item 5 lost: worker "
        expect "was killed by signal 9 (Killed)"
        expect "$m: item 4 lost: worker "
        expect "exited with status 3"
        expect "$m: replaced by the same method, pool usable"
    done
}

@test "start: a failed item and 1 MiB items, under every method" {
    for m in "${METHODS[@]}"; do
        st errors "$m"
        expect "$m: item 3 failed: Numerical result out of range"
        expect "$m: two 1 MiB items there and back"
    done
}

@test "start: a task that closes its channel is reported as such" {
    for m in "${METHODS[@]}"; do
        st closed_channel "$m"
        expect "$m: had its channel closed (by a task?) and left"
        expect "$m: had its channel closed (by a task?) while still running, and was killed by the pool"
    done
}

@test "start: SIGCHLD ignored: only the fork server can still say how a worker died" {
    for m in fork spawn; do
        st sigchld_ignored "$m"
        expect "$m: died (how is unknown"
    done
    st sigchld_ignored forkserver
    expect "forkserver: was killed by signal 9 (Killed)"
}

@test "start: a stopped worker does not hang pool_free, under every method" {
    for m in "${METHODS[@]}"; do
        st stopped "$m"
        expect "$m: a stopped worker: pool_free returned"
    done
}

@test "start: an unregistered task fails clearly under spawn and forkserver" {
    st unregistered fork
    expect "fork: an unregistered task runs"
    for m in spawn forkserver; do
        st unregistered "$m"
        expect "$m: cannot send the task: not in pool_main's table (C's PicklingError)"
        expect "$m: the pool maps after it"
    done
}

@test "start: a fresh-image pool opened before pool_main fails with words" {
    st before_main fork
    expect "fork: opens before pool_main"
    for m in spawn forkserver; do
        st before_main "$m"
        expect "$m: $m pool opened before pool_main(): call it first in main()"
        expect "$m: after pool_main the pool opens and maps"
    done
}

@test "start: open/map/free cycles leave no descriptor, zombie or worker" {
    for m in "${METHODS[@]}"; do
        st cycles "$m"
        expect "$m: 100 open/map/free cycles"
    done
}

@test "start: the cost mode prints one row per method" {
    st cost 3
    [ "${#lines[@]}" -eq 5 ] || { echo "want: 5 lines"; echo "got:  $output"; false; }
    for m in "${METHODS[@]}"; do
        [[ "${lines[*]}" == *"$m "*" ms "* ]] || { echo "no row for $m"; false; }
    done
}

@test "start: a killed fork server is replaced by the next map" {
    st server_death forkserver
    expect "forkserver: server killed, its workers gone; the next map started a new one"
}

# Start `start_test orphan METHOD` under a name of its own, in a session of
# its own, its output into a fifo; read the program's pid and both workers'.
# Then every process of that name (the program, the workers and, under
# forkserver, the server) is in `named`.
start_orphan() {
    name="sto$$${1:0:5}"
    cp "$ROOT/tests/start_test" "$BATS_TEST_TMPDIR/$name"
    mkfifo "$BATS_TEST_TMPDIR/out"
    # fd 3 is bats' own: a background job must not hold it.
    setsid env --default-signal=INT "$BATS_TEST_TMPDIR/$name" orphan "$1" \
        > "$BATS_TEST_TMPDIR/out" 3>&- &
    exec 5< "$BATS_TEST_TMPDIR/out"
    local word pid
    read -r -t 10 -u 5 word parent
    expect_eq "parent" "$word"
    for _ in 1 2; do
        read -r -t 10 -u 5 word pid
        expect_eq "worker" "$word"
    done
    mapfile -t named < <(pgrep -x "$name")
}

# Whatever a failed test left running goes now.
teardown() {
    kill -KILL "${parent:-}" "${named[@]}" 2>/dev/null || true
}

# After the signal, every process of the name is gone, each waited for.
none_left() {
    local pid
    for pid in "${named[@]}"; do
        timeout 10 tail --pid="$pid" -f /dev/null || {
            echo "pid $pid ($name) still running"; return 1; }
    done
    [ "$(processes_named "$name")" = 0 ] || {
        echo "want: no process named $name"; pgrep -ax "$name"; return 1; }
}

@test "start: SIGKILL of the program leaves no worker and no server" {
    for m in "${METHODS[@]}"; do
        start_orphan "$m"
        want=$([ "$m" = forkserver ] && echo 4 || echo 3)
        [ "${#named[@]}" = "$want" ] || {
            echo "$m: want $want processes named $name"; echo "got:  ${named[*]}"; false; }
        kill -KILL "$parent"
        none_left
        exec 5<&-
        rm -f "$BATS_TEST_TMPDIR/out"
    done
}

@test "start: Ctrl-C leaves no worker and no server (the server ignores it)" {
    start_orphan forkserver
    kill -INT -- "-$parent"
    none_left
    exec 5<&-
}
