#!/usr/bin/env bats
# tests/output.bats - output that cannot be written, and programs started
# without their standard descriptors. A full disk, a closed stdout or a
# reader that went away is a failure at run time: "PROG: write error: ..."
# on stderr and exit 1, never a silent exit 0 (as coreutils' close_stdout).
# A program started with 0-2 closed opens /dev/null there first, so no pipe
# or channel it makes lands on them.

# The commands run by `bash -c` expand their own "$1": single quotes are meant.
# shellcheck disable=SC2016

bats_require_minimum_version 1.5.0
load helpers

# Each program with short arguments that make it print and end quickly.
RUNS='basic/basic -n 3 -w 2
timing/timing -u 0.01 -r 1 -n 10 -w 2
reuse/reuse -w 2
shared/shared -n 5 -w 2
gil_sim/gil_sim --workload cpu --mode serial --work 20 --tsv
bench/bench --quick --only lifecycle'

# each_run FN: call FN with the words of each line of RUNS.
each_run() {
    local line
    while read -r line; do
        # shellcheck disable=SC2086
        "$1" $line || { echo "failed for: $line"; return 1; }
    done <<<"$RUNS"
}

# exits_with_write_error CAUSE CMD...: CMD exits 1 and says why on stderr.
exits_with_write_error() {
    local cause=$1 name
    shift
    name=$(basename "$1")
    [ "$status" -eq 1 ] || { echo "$name: exit $status, want 1"; return 1; }
    [[ "$stderr" == *"$name: write error: $cause"* ]] ||
        { echo "$name: stderr '$stderr', want 'write error: $cause'"; return 1; }
}

full_disk() {
    run --separate-stderr t bash -c '"$@" >/dev/full' _ "$ROOT/$1" "${@:2}"
    exits_with_write_error "No space left on device" "$@"
}

@test "output: a full disk is exit 1 and 'write error', for every program" {
    each_run full_disk
}

closed_stdout() {
    run --separate-stderr t bash -c '"$@" >&-' _ "$ROOT/$1" "${@:2}"
    exits_with_write_error "Bad file descriptor" "$@"
}

@test "output: a closed stdout is exit 1 and 'write error', for every program" {
    each_run closed_stdout
}

help_full() {
    run --separate-stderr t bash -c '"$1" --help >/dev/full' _ "$ROOT/$1"
    exits_with_write_error "No space left on device" "$1"
}

@test "output: --help into a full disk is exit 1 too" {
    each_run help_full
}

@test "output: a reader gone with SIGPIPE ignored: 'Broken pipe', exit 1" {
    # The reader closes its end and says so before basic starts; with
    # SIGPIPE ignored basic's first write fails with EPIPE instead of
    # killing it.
    gone=$BATS_TEST_TMPDIR/reader-gone
    run --separate-stderr t bash -c '
        trap "" PIPE
        { while [ ! -e "$2" ]; do sleep 0.01; done; "$1" -n 3 -w 2; } |
            { exec 0<&-; touch "$2"; }
        exit "${PIPESTATUS[0]}"' _ "$ROOT/basic/basic" "$gone"
    exits_with_write_error "Broken pipe" basic
}

@test "output: timing stops at once when its reader is gone" {
    # With -u 1 -r 1 the whole run takes about 22 s: serial_sleep 10 s,
    # then 6 s for each pool. The reader is gone from the start, so the
    # first line (after about 10 s) fails, and timing must stop there.
    start=$SECONDS
    run --separate-stderr t bash -c \
        'trap "" PIPE; "$1" -u 1 -r 1 -w 2 | true; exit "${PIPESTATUS[0]}"' \
        _ "$ROOT/timing/timing"
    exits_with_write_error "Broken pipe" timing
    took=$((SECONDS - start))
    [ "$took" -lt 16 ] || { echo "took $took s: it ran on without a reader"; false; }
}

@test "output: started with 0-2 closed, the pool's channels stay off them" {
    # Closed stdout and stderr: a channel made on fd 1 would receive the
    # program's own output as a task. The run must still complete its maps
    # (exit 1 only for the write error, never a crash, a hang or a signal).
    for line in "basic/basic -n 12 -w 2" "reuse/reuse -w 2" "shared/shared -w 2"; do
        # shellcheck disable=SC2086
        run t bash -c '"$@" <&- >&- 2>&-' _ $ROOT/$line
        [ "$status" -eq 1 ] || { echo "$line: exit $status, want 1"; false; }
    done
}

@test "output: stdout closed, stderr open: the map's results are all computed" {
    # reuse checks its own results and says so on stderr if they are wrong;
    # with stdout closed only the write error may be reported.
    run --separate-stderr t bash -c '"$1" -w 2 --cost -m 3 >&-' _ "$ROOT/reuse/reuse"
    expect_cmp "$status" -eq "1"
    [ "$stderr" = "reuse: write error: Bad file descriptor" ] ||
        { echo "stderr: $stderr"; false; }
}
