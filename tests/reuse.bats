#!/usr/bin/env bats
# tests/reuse.bats - reuse: the open/map/close/join pattern, Python's float
# format, the lifecycle rules, and what a reused pool saves.

bats_require_minimum_version 1.5.0
load helpers

R() { t "$ROOT/reuse/reuse" "$@"; }

# holds EXPR: an awk condition on numbers, e.g. holds "0.3 < 0.5".
holds() {
    awk "BEGIN { exit !($1) }" || { echo "does not hold: $1"; false; }
}

@test "reuse: open without with, map, close, join: the results and no worker left" {
    run -0 R -w 2
    expected='pool = Pool()                 2 worker processes, no with block
print(pool.map(square, range(10)))
[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0]
pool.close()                  no more tasks; idle workers leave
pool.join()                   every worker has left: no worker process remains'
    expect_eq "$expected" "$output"
}

@test "reuse: results print as Python prints floats, up to 2^1023" {
    run -0 R -n 60 -w 3
    [[ "${lines[2]}" == *", 9007199254740992.0, 1.8014398509481984e+16, "* ]]
    [[ "${lines[2]}" == *", 2.8823037615171174e+17, 5.764607523034235e+17]" ]]
    run -0 R -n 1024
    # 2^89: the closest 16 digits do not read back, their neighbour does.
    [[ "${lines[2]}" == *", 6.189700196426902e+26, "* ]]
    [[ "${lines[2]}" == *", 4.49423283715579e+307, 8.98846567431158e+307]" ]]
    list=${lines[2]#*\[}
    [ "$(tr ',' '\n' <<<"$list" | wc -l)" -eq 1024 ]
}

@test "reuse: --rules: map after close and join before close are refused, exit 0" {
    run -0 R --rules -w 2
    expected='Breaking the pool'"'"'s lifecycle rules on purpose: each refusal below
is the lesson. CPython raises ValueError with the same words; the
C call returns EINVAL ("invalid argument") and pool_error() has
the words.
processes pool:
  processes: join before close -> refused: "Pool is still running"
  processes: map after close -> refused: "Pool not running"
  processes: close, then join -> fine
threads pool:
  threads: join before close -> refused: "Pool is still running"
  threads: map after close -> refused: "Pool not running"
  threads: close, then join -> fine'
    [ "$output" = "$expected" ]
}

@test "reuse: --cost: figures for both kinds, and a reused pool beats fresh ones" {
    # Each kind's mean is over 100 maps, fresh and reused alternating, so a
    # busy moment slows both; still, on a shared machine one run can be
    # unlucky. Reuse must win by 1.5x in one of three runs: if it saved
    # nothing, the ratio would hover around 1 and hardly ever reach 1.5.
    local won=''
    for _ in 1 2 3; do
        run -0 R --cost -w 2
        [ "${lines[0]}" = "Mean time per map, 100 maps of square over range(1000), 2 workers" ]
        [ "${lines[1]}" = "(process workers started by fork):" ]
        for kind in processes threads; do
            fresh=$(sed -n "s/^$kind, a fresh pool per map: \([0-9.]*\)s\$/\1/p" <<<"$output")
            reused=$(sed -n "s/^$kind, one pool reused: *\([0-9.]*\)s\$/\1/p" <<<"$output")
            ratio=$(sed -n "s/^$kind: the reused pool is \([0-9.]*\)x faster\$/\1/p" <<<"$output")
            holds "$fresh > 0 && $reused > 0"
            # The ratio printed is the ratio of the figures printed.
            holds "$ratio >= 0.9 * $fresh / $reused - 0.1 && $ratio <= 1.1 * $fresh / $reused + 0.1"
        done
        p=$(sed -n 's/^processes: the reused pool is \([0-9.]*\)x faster$/\1/p' <<<"$output")
        th=$(sed -n 's/^threads: the reused pool is \([0-9.]*\)x faster$/\1/p' <<<"$output")
        if holds "$p > 1.5 && $th > 1.5"; then won=yes; break; fi
    done
    [ "$won" = yes ]
}

@test "reuse: --cost -m and -n set the maps and the items" {
    run -0 R --cost -m 5 -n 100 -w 1
    [ "${lines[0]}" = "Mean time per map, 5 maps of square over range(100), 1 worker" ]
    [ "$(grep -c 'the reused pool is [0-9.]*x faster$' <<<"$output")" -eq 2 ]
}

@test "reuse: bad input: a one-line reason and the usage on stderr, exit 2" {
    usage_errors "$ROOT/reuse/reuse" <<'EOF_CASES'
-n 0|--items: expected a positive integer, got '0'
-n 1025|--items: 1025 is too large (at most 1024)
-n 1e3|--items: expected a positive integer, got '1e3'
-w -3|--workers: expected a positive integer, got '-3'
--cost -m 0|--maps: expected a positive integer, got '0'
--cost -m 2.5|--maps: expected a positive integer, got '2.5'
--cost -m 99999999999999999999|--maps: 99999999999999999999 is too large (at most 1000000)
-m 5|--maps: only with --cost
-m|-m needs a value
--items|--items needs a value
EOF_CASES
}

@test "reuse: no worker outlives the program" {
    leaves_nothing "$ROOT/reuse/reuse" --cost -m 3 -w 4 --start forkserver
    leaves_nothing "$ROOT/reuse/reuse" --rules -w 4
}

@test "reuse: a child it did not make is not taken for a worker" {
    # The shell's own `sleep` becomes reuse's child through exec: the check
    # after join must count only the pool's workers.
    # shellcheck disable=SC2016 # "$1" is for the inner shell
    run -0 --separate-stderr t bash -c 'sleep 3 & exec "$1" -w 2' _ "$ROOT/reuse/reuse"
    [ "${lines[4]}" = "pool.join()                   every worker has left: no worker process remains" ] ||
        { echo "got: ${lines[4]}; stderr: $stderr"; false; }
}

@test "reuse: --cost under each start method names it and checks the results" {
    for m in fork spawn forkserver; do
        run -0 R --cost -m 3 -n 100 -w 2 --start "$m"
        [ "${lines[1]}" = "(process workers started by $m):" ] || { echo "$output"; false; }
        grep -q '^processes: the reused pool is [0-9.]*x faster$' <<<"$output"
    done
}
