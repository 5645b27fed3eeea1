#!/usr/bin/env bats
# tests/cli.bats - every program, every number it takes, every way to get it
# wrong: exit 2, nothing on stdout, "PROG: what is wrong" and the usage on
# stderr. Never a crash, never a hang, never a partial result. The files of
# each program pin the exact words; this one sweeps the whole surface.

bats_require_minimum_version 1.5.0
load helpers

# program|prefix arguments|option|kind (int: a positive integer; num: a
# positive number). The prefix is what the option needs beside it.
OPTIONS='basic||--items|int
basic||--workers|int
timing||--unit|num
timing||--repeats|int
timing||--items|int
timing||--workers|int
timing||--digits|int
reuse||--items|int
reuse||--workers|int
reuse|--cost|--maps|int
shared||--items|int
shared||--workers|int
shared|--race|--runs|int
shared|--race|--race-items|int
gil_sim||--threads|int
gil_sim||--work|int
gil_sim||--interval|int
gil_sim||--io-ops|int
gil_sim||--io-ms|int
bench||--workers|int
bench||--repeats|int
bench||--unit|num'

PROGRAMS='basic timing reuse shared gil_sim bench'

# expect_usage_error PROG ARGS...: exit 2, the shape of a usage error.
expect_usage_error() {
    local prog=$1
    shift
    run -2 --separate-stderr t "$ROOT/$prog/$prog" "$@"
    [ -z "$output" ] || { echo "$prog $*: stdout: $output"; return 1; }
    [[ "${stderr_lines[0]}" == "$prog: "* ]] || {
        echo "$prog $*: first line: ${stderr_lines[0]}"; return 1; }
    [[ "${stderr_lines[1]}" == usage:* ]] || {
        echo "$prog $*: no usage after the message"; return 1; }
}

@test "cli: every program answers -h and --help with the usage, exit 0" {
    for p in $PROGRAMS; do
        for h in -h --help; do
            run -0 --separate-stderr t "$ROOT/$p/$p" "$h"
            [[ "$output" == "usage: $p "* ]] || { echo "$p $h: $output"; false; }
            [ -z "$stderr" ]
        done
    done
}

@test "cli: a mistyped long option gets one line that names the one meant" {
    local p
    for p in $PROGRAMS; do
        expect_usage_error "$p" --wokers 2
        expect_eq "$p: unknown option '--wokers' (did you mean --workers?)" "${stderr_lines[0]}"
        expect_cmp "$(grep -c "unknown option\|unrecognized option" <<<"$stderr")" -eq 1
        expect_glob "${stderr_lines[1]}" "usage: $p *"
    done
    expect_usage_error shared --explict
    expect_eq "shared: unknown option '--explict' (did you mean --explicit?)" "${stderr_lines[0]}"
}

@test "cli: unknown options and stray arguments are usage errors" {
    for p in $PROGRAMS; do
        expect_usage_error "$p" --bogus
        expect_eq "$p: unknown option '--bogus'" "${stderr_lines[0]}"
        expect_usage_error "$p" -Z
        expect_eq "$p: unknown option '-Z'" "${stderr_lines[0]}"
        expect_usage_error "$p" stray
        expect_eq "$p: unexpected argument 'stray'" "${stderr_lines[0]}"
        expect_usage_error "$p" --help=3
    done
}

@test "cli: a missing value is a usage error that names the option" {
    while IFS='|' read -r p prefix opt kind; do
        # shellcheck disable=SC2086
        expect_usage_error "$p" $prefix "$opt"
        expect_eq "$p: $opt needs a value" "${stderr_lines[0]}"
    done <<<"$OPTIONS"
}

@test "cli: non-numbers, zero, negatives, overflow: usage errors naming the option" {
    while IFS='|' read -r p prefix opt kind; do
        bad=(abc '' 0 -5 99999999999999999999 0x10 '3 ' nan inf)
        [ "$kind" = int ] && bad+=(1.5 1e3 -0)
        for v in "${bad[@]}"; do
            # shellcheck disable=SC2086
            expect_usage_error "$p" $prefix "$opt" "$v"
            [[ "${stderr_lines[0]}" == "$p: $opt: "* ]] || {
                echo "$p $opt '$v': ${stderr_lines[0]}"; false; }
        done
    done <<<"$OPTIONS"
}

@test "cli: --start takes fork, spawn or forkserver, and nothing else" {
    for p in basic timing reuse shared bench; do
        for v in bogus '' Fork 'spawn ' fork,spawn; do
            expect_usage_error "$p" --start "$v"
            [ "${stderr_lines[0]}" = "$p: --start: expected fork, spawn or forkserver, got '$v'" ] ||
                { echo "$p --start '$v': ${stderr_lines[0]}"; false; }
        done
        expect_usage_error "$p" --start
        expect_eq "$p: --start needs a value" "${stderr_lines[0]}"
    done
}

@test "cli: every usage text fits 80 columns, the test drivers' too" {
    local p wide
    for p in basic/basic timing/timing reuse/reuse shared/shared gil_sim/gil_sim \
        bench/bench tests/plat_test tests/latency_test tests/pool_test tests/start_test; do
        run t "$ROOT/$p" -h
        wide=$(awk 'length > 80' <<<"$output")
        [ -z "$wide" ] || { echo "$p -h, wider than 80 columns:"; echo "$wide"; false; }
    done
}
