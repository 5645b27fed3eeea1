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

@test "pool: the lowest failed item is reported, the others have results" {
    pt errors processes
    [ "$output" = "lowest failed item reported: item 3 (ERANGE)" ]
    pt errors threads
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

@test "pool: a refused fork while replacing a worker does not stop the map" {
    pt respawn_refused processes
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
    # three workers would write the parent's buffer again when it exits.
    pt flush processes
    [ "$output" = "printed once before the pool opens" ]
    run -0 bash -c "timeout 30 '$ROOT/tests/pool_test' flush processes > '$BATS_TEST_TMPDIR/out'"
    [ "$(cat "$BATS_TEST_TMPDIR/out")" = "printed once before the pool opens" ]
}
