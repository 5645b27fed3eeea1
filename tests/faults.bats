#!/usr/bin/env bats
# tests/faults.bats - the programs when the system says no: fork and
# pthread_create refused by RLIMIT_NPROC. Each must say what failed, exit 1,
# and leave no process behind. (The pool's own fault cases, with the k-th
# call refused, are in pool.bats.)
#
# RLIMIT_NPROC counts every process and thread of a user, and root is
# exempt: so each run drops to a user id that owns nothing else, with
# `ulimit -u N`. N = 1 refuses the first fork or thread; N = 2 lets one
# worker start and refuses the next, half way through pool_open.

bats_require_minimum_version 1.5.0
load helpers

UID_NOBODY=54321 # owns no process on the machine

setup() {
    [ "$(id -u)" -eq 0 ] || skip "needs root to drop to another user"
    command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
    # A folder that user can read, whatever the permissions of the checkout.
    bin=$(mktemp -d /tmp/faults.XXXXXX)
    mkdir "$bin/logs"
    chmod 755 "$bin"
    chmod 1777 "$bin/logs"
}

teardown() {
    [ -z "${bin:-}" ] && return
    local reports
    reports=$(cat "$bin"/logs/* 2>/dev/null)
    rm -rf "$bin"
    [ -z "$reports" ] || { echo "sanitizer reports: $reports"; return 1; }
}

# limited N PROG ARGS...: run PROG as UID_NOBODY with at most N processes.
limited() {
    local n=$1 prog=$2
    shift 2
    cp "$ROOT/$prog/$prog" "$bin/"
    # Under make asan or make tsan: reports go where that user may write,
    # and sanitizer_reports fails the test on any. LeakSanitizer needs a
    # thread of its own at exit, which the limit refuses too: leaks are
    # checked by the other tests. ($1 and $@ below are the inner shell's.)
    # shellcheck disable=SC2016
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:log_path=$bin/logs/asan" \
    UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$bin/logs/ubsan" \
    TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}log_path=$bin/logs/tsan" \
    t setpriv --reuid=$UID_NOBODY --regid=$UID_NOBODY --clear-groups \
        bash -c 'ulimit -u "$1" && shift && exec "$@"' _ "$n" "$bin/$prog" "$@"
}

# refused N PROG ARGS...: exit 1, a message naming what failed, and no
# process of that user left.
refused() {
    run -1 --separate-stderr limited "$@"
    [[ "$stderr" == *"$2: "*"Resource temporarily unavailable"* ]] || {
        echo "stderr: $stderr"; return 1; }
    [ "$(pgrep -c -u $UID_NOBODY || true)" -eq 0 ]
}

@test "faults: basic, fork refused at the first worker and half way" {
    refused 1 basic -w 2
    expect_eq "basic: cannot open a pool of 2 processes: Resource temporarily unavailable" "$stderr"
    refused 2 basic -w 3
}

@test "faults: timing, reuse and shared with fork refused" {
    refused 2 timing -u 0.01 -r 1 -w 2
    refused 2 reuse -w 2
    refused 2 shared -w 2
}

@test "faults: gil_sim, a process or a thread refused" {
    refused 2 gil_sim --mode procs --threads 2 --work 10
    expect_eq "gil_sim: fork (process 1 of 2): Resource temporarily unavailable" "$stderr"
    refused 2 gil_sim --mode gil --threads 4 --work 10
    # Which thread is refused depends on the build: ThreadSanitizer's own
    # background thread takes one of the two places.
    [[ "$stderr" == "gil_sim: pthread_create (thread "[01]" of 4): Resource temporarily unavailable" ]]
}

@test "faults: the same programs run when the limit allows them" {
    run -0 limited 8 basic -w 2
    expect_eq "Threads pool results: [1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880]" "${lines[3]}"
}
