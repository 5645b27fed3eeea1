#!/usr/bin/env bats
# tests/interrupt.bats - no worker outlives its program: not after Ctrl-C,
# not after SIGKILL of the parent alone, not in the middle of a long task.

bats_require_minimum_version 1.5.0
load helpers

# Start `pool_test orphan processes` in a session of its own, its output into
# a fifo; read the parent's pid and both workers' pids as they are printed.
start_orphan() {
    mkfifo "$BATS_TEST_TMPDIR/out"
    # fd 3 is bats' own: a background job must not hold it. A background
    # job of a script starts with SIGINT ignored: give it back its default,
    # as a program started from a terminal has it.
    setsid env --default-signal=INT "$ROOT/tests/pool_test" orphan processes \
        > "$BATS_TEST_TMPDIR/out" 3>&- &
    exec 5< "$BATS_TEST_TMPDIR/out"
    local word pid
    read -r -t 10 -u 5 word parent
    expect_eq "parent" "$word"
    workers=()
    for _ in 1 2; do
        read -r -t 10 -u 5 word pid
        expect_eq "worker" "$word"
        workers+=("$pid")
    done
}

# Whatever a failed test left running goes now.
teardown() {
    kill -KILL "${parent:-}" "${workers[@]}" 2>/dev/null || true
}

# Wait (bounded) until every pid given has exited.
all_gone() {
    local pid
    for pid in "$@"; do
        timeout 10 tail --pid="$pid" -f /dev/null || return 1
    done
}

@test "interrupt: SIGKILL of the parent alone ends workers busy in a task" {
    start_orphan
    kill -0 "${workers[0]}" && kill -0 "${workers[1]}"
    kill -KILL "$parent"
    all_gone "$parent" "${workers[@]}"
    exec 5<&-
}

@test "interrupt: Ctrl-C (SIGINT to the process group) leaves no worker" {
    start_orphan
    kill -INT -- "-$parent"
    all_gone "$parent" "${workers[@]}"
    exec 5<&-
}

@test "interrupt: SIGTERM of the parent alone leaves no worker" {
    start_orphan
    kill -TERM "$parent"
    all_gone "$parent" "${workers[@]}"
    exec 5<&-
}

@test "interrupt: gil_sim's procs mode: SIGKILL of gil_sim alone ends its children" {
    # Children busy for seconds of simulated work; gil_sim is killed alone.
    "$ROOT/gil_sim/gil_sim" --workload cpu --mode procs --threads 2 --work 20000 \
        >/dev/null 3>&- &
    parent=$!
    kids=()
    for _ in $(seq 100); do
        mapfile -t kids < <(pgrep -P "$parent")
        [ "${#kids[@]}" -eq 2 ] && break
        sleep 0.05
    done
    [ "${#kids[@]}" -eq 2 ] || { echo "children: ${kids[*]}"; false; }
    workers=("${kids[@]}")
    kill -KILL "$parent"
    all_gone "$parent" "${kids[@]}" || { echo "left: $(ps -o pid=,comm= -p "${kids[*]}")"; false; }
}
