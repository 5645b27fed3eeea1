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

# cost_figure LINE-START: the median, low and high of the --cost line that
# starts with LINE-START, as "median low high".
cost_figure() {
    grep -F "$1" <<<"$output" | head -1 |
        sed -nE 's/.*[:=] +([0-9.]+)[sx] \(([0-9.]+)-([0-9.]+)\)$/\1 \2 \3/p'
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
    # Each round alternates fresh and reused maps, so a busy moment slows
    # both; still, on a shared machine one run can be unlucky. Reuse must
    # win by 1.5x (the median of the rounds) in one of three runs: if it
    # saved nothing, the ratio would hover around 1 and hardly ever reach
    # 1.5.
    local won='' kind fresh reused ratio p th
    for _ in 1 2 3; do
        run -0 R --cost -w 2
        expect_eq 'Time per map, 100 maps of square over range(1000), 2 workers
(process workers started by fork), median and range of 5 rounds:' \
            "$(printf '%s\n' "${lines[@]:0:2}")"
        for kind in processes threads; do
            read -r fresh _ <<<"$(cost_figure "$kind, a fresh pool per map: ")"
            read -r reused _ <<<"$(cost_figure "$kind, one pool reused: ")"
            read -r ratio _ <<<"$(cost_figure "$kind: fresh / reused = ")"
            holds "$fresh > 0 && $reused > 0 && $ratio > 0"
        done
        read -r p _ <<<"$(cost_figure 'processes: fresh / reused = ')"
        read -r th _ <<<"$(cost_figure 'threads: fresh / reused = ')"
        if holds "$p > 1.5 && $th > 1.5"; then won=yes; break; fi
    done
    [ "$won" = yes ]
}

@test "reuse: --cost gives each figure as a median and its range over the rounds" {
    # One figure per round: a single ratio from a run of tens of
    # microseconds can land anywhere, the range says how far.
    run -0 R --cost -m 10 -n 100 -w 2
    local line mid low high n=0
    while read -r line; do
        read -r mid low high <<<"$(cost_figure "$line")"
        [ -n "$high" ] || { echo "want: 'MEDIAN (LOW-HIGH)' on: $line"; echo "$output"; false; }
        holds "$low <= $mid && $mid <= $high"
        n=$((n + 1))
    done < <(grep -E '^(processes|threads)[,:] ' <<<"$output" | sed 's/: .*/: /')
    [ "$n" -eq 6 ] || { echo "want: 6 figures; got $n"; echo "$output"; false; }
    # One map: one round, and nothing to give a range of.
    run -0 R --cost -m 1 -n 10 -w 1
    [ "${lines[1]}" = "(process workers started by fork), one round:" ] || {
        echo "want: one round, no range, for -m 1"; echo "$output"; false; }
    grep -qE '^threads: fresh / reused = [0-9.]+x$' <<<"$output"
}

@test "reuse: --cost -m and -n set the maps and the items" {
    run -0 R --cost -m 5 -n 100 -w 1
    [ "${lines[0]}" = "Time per map, 5 maps of square over range(100), 1 worker" ]
    [ "$(grep -c ': fresh / reused = [0-9.]*x ([0-9.]*-[0-9.]*)$' <<<"$output")" -eq 2 ]
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
        [ "${lines[1]}" = "(process workers started by $m), median and range of 3 rounds:" ] ||
            { echo "$output"; false; }
        grep -q '^processes: fresh / reused = [0-9.]*x ([0-9.]*-[0-9.]*)$' <<<"$output"
    done
}
