#!/usr/bin/env bats
# tests/trust.bats - what a program may not be talked into, and what the
# pool still promises when things go wrong: an environment variable that
# claims a role, a program file replaced while it runs, a caller that counts
# its children, a map that fails as a whole, a task that calls exit(), and
# the words for a death.

bats_require_minimum_version 1.5.0
load helpers

tutorial_output() {
    printf '%s\n' "Running a pool of processes..." \
        "Processes pool results: [1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880]" \
        "Running a pool of threads..." \
        "Threads pool results: [1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880]"
}

@test "trust: POOL_START_CHILD left set never makes a program a worker or a server" {
    local want var
    want=$(tutorial_output)
    for var in server:0:1 "server:3:$$" "worker:0:$$" "worker:3:$$" \
        "worker:3:1" "server:3:1" nonsense; do
        # fd 3: nothing, a pipe, a file, a socket of the wrong kind.
        run -0 t env POOL_START_CHILD="$var" "$ROOT/basic/basic" </dev/null
        expect_eq "$want" "$output" || { echo "POOL_START_CHILD=$var"; false; }
        # shellcheck disable=SC2016 # "$1" and "$2" are the inner shell's
        run -0 t bash -c 'env POOL_START_CHILD="$1" "$2" 3< <(sleep 1)' _ \
            "$var" "$ROOT/basic/basic"
        expect_eq "$want" "$output" || { echo "POOL_START_CHILD=$var, a pipe on fd 3"; false; }
        run -0 t env POOL_START_CHILD="$var" "$ROOT/basic/basic" 3<"$ROOT/README.md"
        expect_eq "$want" "$output" || { echo "POOL_START_CHILD=$var, a file on fd 3"; false; }
    done
    # The variable is gone for the program's own children.
    run -0 t env POOL_START_CHILD=worker:3:1 "$ROOT/basic/basic" --start spawn
    expect_eq "$want" "$output"
}

@test "trust: a caller that counts its children after join finds none, every method" {
    local m
    for m in fork spawn forkserver; do
        run -0 t "$ROOT/reuse/reuse" --start "$m"
        echo "$output"
        [[ "$output" == *"every worker has left: no worker process remains"* ]] ||
            { echo "--start $m: want no worker left after join"; false; }
    done
}

@test "trust: a program whose file is replaced still starts itself, not the new file" {
    local m
    for m in spawn forkserver; do
        cp "$ROOT/tests/start_test" "$BATS_TEST_TMPDIR/st_$m"
        run -0 t "$BATS_TEST_TMPDIR/st_$m" replaced "$m"
        expect_eq "$m: the program's file replaced: the workers run the program that started them" "$output"
    done
}

@test "trust: started through the dynamic loader, spawn says why it cannot, fork works" {
    local ld
    ld=$(sed -n 's/^ *\[Requesting program interpreter: \(.*\)\]$/\1/p' \
        < <(readelf -l "$ROOT/basic/basic" 2>/dev/null))
    [ -n "$ld" ] && [ -x "$ld" ] || skip "no program interpreter found"
    run -1 --separate-stderr t "$ld" "$ROOT/basic/basic" --start spawn
    local words
    words=$(tr -s ' \n' '  ' <<<"$stderr")
    echo "$words"
    [[ "$words" == *"started through the dynamic loader ("*") would be the loader: run the program itself, or use --start fork"* ]] ||
        { echo "want the words on the loader"; false; }
    run -0 t "$ld" "$ROOT/basic/basic"
    expect_eq "$(tutorial_output)" "$output"
}

@test "trust: a map that fails as a whole leaves every result zero" {
    run -0 t "$ROOT/tests/pool_test" whole_failure processes
    expect_eq "pool_map: out of memory: every result zero
poll: Invalid argument: every result zero" "$output"
}

@test "trust: a task that calls exit() leaves its worker at once, saying so" {
    run -0 t "$ROOT/tests/pool_test" task_exit processes
    [[ "$output" == "item 0 lost: worker 0 (pid "*") left: a task called exit() (2 items failed in all)" ]] ||
        { echo "got: $output"; false; }
}

@test "trust: workers that die with their fork server are reported as such" {
    run -0 t "$ROOT/tests/start_test" server_dies forkserver
    [[ "$output" == *"died with its fork server"* ]] || { echo "got: $output"; false; }
}
