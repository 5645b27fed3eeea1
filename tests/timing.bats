#!/usr/bin/env bats
# tests/timing.bats - timing: the six lines and their format, the schedule's
# prediction, and the sleep figures against it (wide margins: the machine
# is shared and has few cores).

bats_require_minimum_version 1.5.0
load helpers

T() { t "$ROOT/timing/timing" "$@"; }

# fig NAME: the seconds on the line "Time elapsed for NAME: 0.1234s".
fig() {
    sed -n "s/^Time elapsed for $1: \([0-9.]*\)s\$/\1/p" <<<"$output"
}

# predicted WHAT: the seconds on the line "Predicted for WHAT...= 0.1234s".
predicted() {
    sed -n "s/^Predicted for $1.* = \([0-9.]*\)s\$/\1/p" <<<"$output"
}

# holds EXPR: an awk condition on numbers, e.g. holds "0.3 < 0.5".
holds() {
    awk "BEGIN { exit !($1) }" || { echo "does not hold: $1"; false; }
}

@test "timing: six lines in the tutorial's format, a blank line after each group" {
    run -0 T -u 0.05 -r 1 -w 2
    names=$(grep '^Time elapsed for ' <<<"$output" | sed 's/: .*//; s/^Time elapsed for //' | tr '\n' ' ')
    [ "$names" = "serial_sleep processes_sleep threads_sleep serial_square processes_square threads_square " ]
    # Four decimals, an 's', and no stray parenthesis.
    [ "$(grep -c '^Time elapsed for [a-z]*_[a-z]*: [0-9]*\.[0-9]\{4\}s$' <<<"$output")" -eq 6 ]
    [[ "$output" == *$'threads_sleep: '[0-9]*$'s\n\nWhy: '* ]]
    [[ "$output" == *$'steps.\n\nTime elapsed for serial_square: '* ]]
    [[ "$output" == *'Time elapsed for threads_square: '*s ]]
}

@test "timing: both pools beat serial on sleep, and match the schedule's prediction" {
    run -0 T -u 0.05 -r 1 -w 2
    serial=$(fig serial_sleep) procs=$(fig processes_sleep) threads=$(fig threads_sleep)
    want_serial=$(predicted serial_sleep) want_pool=$(predicted 'a pool of 2 workers')
    [ "$want_serial" = 0.5000 ]
    [ "$want_pool" = 0.3000 ]
    # 0.3 s against 0.5 s: beaten by a wide margin.
    holds "$procs < 0.85 * $serial"
    holds "$threads < 0.85 * $serial"
    # A sleep never ends early; late by a scheduler's whim, so the upper
    # bound is loose.
    for got in "$serial:$want_serial" "$procs:$want_pool" "$threads:$want_pool"; do
        holds "${got%:*} >= 0.97 * ${got#*:} && ${got%:*} <= 1.3 * ${got#*:} + 0.05"
    done
}

@test "timing: one worker takes as long as serial, as the schedule predicts" {
    run -0 T -u 0.02 -r 1 -w 1
    [ "$(predicted 'a pool of 1 worker')" = 0.2000 ]
    [[ "$output" == *"a pool hands out chunks of 2 tasks"* ]]
    holds "$(fig processes_sleep) >= 0.97 * 0.2"
    holds "$(fig threads_sleep) >= 0.97 * 0.2"
}

@test "timing: the predicted schedule for 1 to 64 workers" {
    while read -r w steps; do
        run -0 T -u 0.001 -r 1 -w "$w"
        [[ "$output" == *"Predicted for a pool of $w worker"*": the busiest worker's $steps steps = "* ]] || {
            echo "-w $w: expected $steps steps"; false; }
    done <<'EOF_CASES'
1 10
2 6
3 5
4 4
5 4
64 4
EOF_CASES
}

@test "timing: the schedule shows who sleeps what, and why the tutorial saw 4 s" {
    run -0 T -u 0.001 -r 1 -w 2
    [[ "$output" == *$'  worker 0: tasks 0+2+4 = 6 steps\n  worker 1: tasks 1+3 = 4 steps\n'* ]]
    [[ "$output" == *"Predicted for serial_sleep: 0+1+2+3+4 = 10 steps = 0.0100s"* ]]
    [[ "$output" == *"4 or more workers no worker gets two tasks that take time"* ]]
    [[ "$output" == *"Here the pool has 2 workers (-w 2): 6 steps."* ]]
    run -0 T -u 0.001 -r 1 -w 5
    [[ "$output" == *"Here the pool has 5 workers: 4 steps too."* ]]
}

@test "timing: -u scales the sleeps, -r and -n and -d are taken" {
    run -0 T -u 0.01 -r 2 -n 1024 -d 6 -w 2
    [ "$(grep -c '^Time elapsed for [a-z_]*: [0-9]*\.[0-9]\{6\}s$' <<<"$output")" -eq 6 ]
    [ "$(predicted serial_sleep)" = 0.100000 ]
    holds "$(fig serial_sleep) >= 0.097"
}

@test "timing: --cpu times a CPU-bound group and reports the speed-up" {
    run -0 T --cpu -r 1 -w 2
    names=$(grep '^Time elapsed for ' <<<"$output" | sed 's/: .*//; s/^Time elapsed for //' | tr '\n' ' ')
    [ "$names" = "serial_cpu processes_cpu threads_cpu " ]
    [ "$(grep -c '^Time elapsed for [a-z]*_cpu: [0-9]*\.[0-9]\{4\}s$' <<<"$output")" -eq 3 ]
    # About 50 ms a task: the serial run of 8 or more tasks takes a while.
    holds "$(fig serial_cpu) > 0.1"
    [[ "$output" == *"Speed-up over serial: processes "*"x, threads "*"x"* ]]
    [[ "$output" == *gil_sim* ]]
    # The claim about CPython's threads holds for builds with a GIL only.
    [[ "$output" == *"near 1x on this work in a build with"$'\n'"the GIL"*"free-threaded"* ]] || {
        echo "want: CPython's threads near 1x said of a build with the GIL"; echo "got: $output"; false; }
}

@test "timing: --cpu says what it measured when its CPUs were not its own" {
    [ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
    command -v taskset >/dev/null || skip "needs taskset"
    # Three busy loops on each of the two CPUs timing runs on: its work
    # gets about a quarter of each, whatever the pools do. The words must
    # say what was measured (the CPUs busy, the load), not guess a cause.
    local hogs=() c
    for c in 0 1; do
        for _ in 1 2 3; do
            taskset -c "$c" timeout 60 bash -c 'while :; do :; done' &
            hogs+=($!)
        done
    done
    run taskset -c 0,1 timeout 60 "$ROOT/timing/timing" --cpu -r 1 -w 2
    kill "${hogs[@]}" 2>/dev/null || true
    wait "${hogs[@]}" 2>/dev/null || true
    [ "$status" -eq 0 ] || { echo "exit $status: $output"; false; }
    grep -qE '^CPUs busy on average \(CPU time / wall time\): serial [0-9.]+,$' <<<"$output" || {
        echo "want: the CPUs each style kept busy"; echo "got: $output"; false; }
    grep -qE '^Fewer CPUs than expected \(load average [0-9.]+\): serial kept [0-9.]+ of 1$' <<<"$output" || {
        echo "want: 'Fewer CPUs than expected (load average X): serial kept ...'"; echo "got: $output"; false; }
    if grep -q 'another program' <<<"$output"; then
        echo "want: no cause it did not measure"; echo "got: $output"; false
    fi
}

@test "timing: bad input: a one-line reason and the usage on stderr, exit 2" {
    usage_errors "$ROOT/timing/timing" <<'EOF_CASES'
-u 0|--unit: expected a positive number, got '0'
-u -1|--unit: expected a positive number, got '-1'
-u abc|--unit: expected a number, got 'abc'
-u inf|--unit: expected a number, got 'inf'
-u nan|--unit: expected a number, got 'nan'
-u 61|--unit: 61 is too large (at most 60)
-r 0|--repeats: expected a positive integer, got '0'
-r 1.5|--repeats: expected a positive integer, got '1.5'
-r 99999999999999999999|--repeats: 99999999999999999999 is too large (at most 100000)
-n 0|--items: expected a positive integer, got '0'
-n 1025|--items: 1025 is too large (at most 1024)
-w 0|--workers: expected a positive integer, got '0'
-w abc|--workers: expected a positive integer, got 'abc'
-w 99999999999999999999|--workers: 99999999999999999999 is too large (at most 1024)
-d 0|--digits: expected a positive integer, got '0'
-d 10|--digits: 10 is too large (at most 9)
-u|-u needs a value
--repeats|--repeats needs a value
-x|unknown option '-x'
--bogus|unknown option '--bogus'
stray|unexpected argument 'stray'
EOF_CASES
}

@test "timing: no worker outlives the program" {
    leaves_nothing "$ROOT/timing/timing" -u 0.001 -r 2 -w 4
    leaves_nothing "$ROOT/timing/timing" -u 0.001 -r 1 -n 10 -w 3 --start forkserver
}

@test "timing: spawned and forkserver workers give the same schedule" {
    for m in spawn forkserver; do
        run -0 T -u 0.05 -r 1 -n 50 -w 2 --start "$m"
        grep -q '^Predicted for a pool of 2 workers: the busiest worker.s 6 steps' <<<"$output" ||
            { echo "$output"; false; }
    done
}

@test "timing: a long run says how long first, on stderr; a short one says nothing" {
    run -124 --separate-stderr timeout 2 "$ROOT/timing/timing" -w 2
    expect_eq "timing: about 66 s of sleeps (3 repeats, steps of 1 s);
  timing/timing -u 0.1 -r 1 takes about 3 s" "$stderr"
    expect_eq "" "$output"
    run -0 --separate-stderr t "$ROOT/timing/timing" -u 0.01 -r 1 -n 10
    expect_eq "" "$stderr"
}
