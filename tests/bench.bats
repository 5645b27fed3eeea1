#!/usr/bin/env bats
# tests/bench.bats - bench: the table's rows are all there, the Python
# column comes and goes with python3, and bad flags are usage errors.
#
# No figure is checked: on two shared cores they say more about the
# neighbours than about the pool. docs/performance.md has the figures.

bats_require_minimum_version 1.5.0
load helpers

B() { t "$ROOT/bench/bench" "$@"; }

@test "bench: --quick prints every group and row, exit 0" {
    run -0 B --quick -w 2
    for want in \
        'bench: 2 workers, 2 CPUs, median of 3 runs per figure (--quick)' \
        'python: not asked for' \
        'lifecycle: open + map 1000 squares + close + join + free, 2 workers' \
        'processes pool' 'raw: 2 x fork + waitpid' 'by hand: 2 children' \
        'threads pool' 'raw: 2 x pthread_create + join' 'by hand: 2 threads' \
        'trivial items: x*x per item' \
        '1000000  processes, chunksize 125000' '1000000  threads, chunksize 1 ' \
        '1000000  bare channel, same chunks' '1000000  memcpy, same bytes' \
        'heavy items: 8 items of' \
        'large items: 8 items of 1 MiB' 'processes, chunksize 1 ' \
        'bare channel, one child' 'threads (no copy' \
        'serial_sleep' 'processes_sleep' 'threads_sleep' \
        'serial_square' 'processes_square' 'threads_square' \
        'small maps: x*x over 1000 longs on a pool opened once, 2 workers,' \
        'idle: % of a CPU used by bench and its children in the 0.1 s after a map' \
        'wake-up: a condition-variable round trip' 'wake-up: a byte to a child' \
        'page fault: a fresh page' \
        'targets met: '; do
        [[ "$output" == *"$want"* ]] || { echo "missing: $want"; false; }
    done
    # Five rows per n in the trivial group, plus the two floors at 1e6.
    [ "$(grep -cE '^  (1000|100000|1000000) ' <<<"$output")" -eq 17 ]
    # Every ratio column holds a number: no nan, no inf.
    run -1 grep -iwE 'nan|inf' <<<"$output"
}

@test "bench: --only runs one group" {
    run -0 B --quick -w 2 --only heavy
    [[ "$output" == *"heavy items:"* ]]
    [[ "$output" != *"lifecycle:"* ]]
    [[ "$output" != *"trivial items:"* ]]
    [[ "$output" == *"targets met: "*" of 2 "* ]]
}

@test "bench: latency: OpenMP's row where bench was built with it, else why not" {
    local omp=no T='[0-9.]+ [nmu]?s'
    # libgomp's and LLVM libomp's entry points, named in the binary when it
    # calls them.
    grep -qaE 'GOMP_parallel|__kmpc_fork_call' "$ROOT/bench/bench" && omp=yes
    run -0 B --quick -w 2 --only latency
    if [ "$omp" = yes ]; then
        grep -qE "^  OpenMP \(lib(gomp|omp)\) +$T +$T +$T +1\.00$" \
            <<<"$output" || { echo "want: the OpenMP row"; echo "got:  $output"; false; }
    else
        [[ "$output" == *"  OpenMP: no row ("* ]] || {
            echo "want: OpenMP: no row (why)"; echo "got:  $output"; false; }
    fi
    for pool in threads processes; do
        # Per map: median, fastest and slowest run, the ratio to OpenMP's
        # (or "-").
        grep -qE "^  $pool pool +$T +$T +$T +([0-9]+\.[0-9]+|-)" <<<"$output" ||
            { echo "want: a per-map row for $pool"; echo "got:  $output"; false; }
        # Idle: a percentage of a CPU, held to 2%.
        grep -qE "^  $pool pool +[0-9]+\.[0-9]+ %  <= 2\.00 (ok|MISSED)$" <<<"$output" ||
            { echo "want: an idle row for $pool"; echo "got:  $output"; false; }
    done
}

@test "bench: without python3 it says so and goes on" {
    run -0 t env PATH=/nonexistent "$ROOT/bench/bench" --quick -w 2 --only heavy \
        --python "$ROOT/bench/tutorial.py"
    [[ "$output" == *"python: python3 not found: the Python columns are left out"* ]]
    [[ "$output" == *"heavy items:"* ]]
}

@test "bench: with python3, the tutorial's rows get a Python time and a ratio" {
    command -v python3 >/dev/null || skip "python3 not installed"
    run -0 B --quick -w 2 --only tutorial -u 0.002 --python "$ROOT/bench/tutorial.py"
    [[ "$output" == *"python: CPython "*", 10 figures"* ]]
    for name in serial_sleep processes_sleep threads_sleep \
                serial_square processes_square threads_square; do
        # name, C time, Python time, C/python: a number, not "-".
        grep -qE "^  $name +[0-9.]+ [nmu]?s +[0-9.]+ [nmu]?s +[0-9]+\.[0-9]+$" \
            <<<"$output" || { echo "row $name: no Python figure"; false; }
    done
}

@test "bench: --python with a missing or failing script: exit 1, saying why" {
    local dir=$BATS_TEST_TMPDIR want
    run -1 --separate-stderr B --quick -w 2 --only heavy \
        --python /nonexistent/tutorial.py
    want="bench: --python /nonexistent/tutorial.py: No such file or directory"
    [ "${stderr_lines[0]}" = "$want" ] || {
        echo "want: $want"; echo "got:  ${stderr_lines[0]}"; false; }
    command -v python3 >/dev/null || skip "python3 not installed"
    printf 'import sys\nsys.exit(3)\n' >"$dir/fails.py"
    run -1 --separate-stderr B --quick -w 2 --only heavy --python "$dir/fails.py"
    want="bench: python3 $dir/fails.py exited with status 3"
    [ "${stderr_lines[0]}" = "$want" ] || {
        echo "want: $want"; echo "got:  ${stderr_lines[0]}"; false; }
    [[ "$output" != *"heavy items:"* ]]
    printf 'print("no figures here")\n' >"$dir/silent.py"
    run -1 --separate-stderr B --quick -w 2 --only heavy --python "$dir/silent.py"
    want="bench: python3 $dir/silent.py printed no figures"
    [ "${stderr_lines[0]}" = "$want" ] || {
        echo "want: $want"; echo "got:  ${stderr_lines[0]}"; false; }
}

@test "bench: python3 and its children do not outlive bench killed with SIGKILL" {
    command -v python3 >/dev/null || skip "python3 not installed"
    # A script of a name of its own, so that only this test's processes
    # match: it forks a child, as a Pool does, and both sleep, printing
    # nothing (a print into the dead bench's pipe would end them anyway).
    local script=$BATS_TEST_TMPDIR/outlive_$$.py pid n
    printf '%s\n' 'import os, time' 'os.fork()' 'time.sleep(60)' >"$script"
    "$ROOT/bench/bench" --quick -w 2 --only heavy --python "$script" \
        >/dev/null 2>&1 3>&- &
    pid=$!
    # Both python3 processes (not a wrapper such as pyenv's) are running.
    for _ in $(seq 150); do
        n=$(pgrep -fc "^[^ ]*python3 $script") || true
        [ "${n:-0}" -eq 2 ] && break
        sleep 0.1
    done
    kill -KILL "$pid"
    wait "$pid" || true
    [ "${n:-0}" -eq 2 ] || { echo "want: 2 python3 processes"; echo "got:  $n"; false; }
    for _ in $(seq 50); do
        pgrep -f "$script" >/dev/null || break
        sleep 0.1
    done
    n=$(pgrep -fc "$script") || true
    [ "${n:-0}" -eq 0 ] || {
        echo "want: nothing left running $script"
        echo "got:  $n processes:"; pgrep -fa "$script"; pkill -KILL -f "$script"
        false; }
}

@test "bench: --quick runs in a 48 KiB stack (no large arrays on it)" {
    run -0 t bash -c 'ulimit -s 48 && exec "$@"' _ "$ROOT/bench/bench" --quick -w 2
    [[ "$output" == *"targets met: "* ]] || {
        echo "want: a whole run, to 'targets met:'"; echo "got:  $output"; false; }
}

@test "bench: tutorial.py prints its ten figures, and rejects bad flags" {
    command -v python3 >/dev/null || skip "python3 not installed"
    run -0 t python3 "$ROOT/bench/tutorial.py" --quick -r 1 -w 2 -u 0.001
    expect_eq "#" "${lines[0]%% *}"
    [ "$(grep -cE $'^[a-z_]+\t[0-9]+\\.[0-9]+$' <<<"$output")" -eq 10 ]
    run -2 t python3 "$ROOT/bench/tutorial.py" -w 0
    run -2 t python3 "$ROOT/bench/tutorial.py" -r abc
    run -2 t python3 "$ROOT/bench/tutorial.py" -u 0
}

@test "bench: bad input: a one-line reason and the usage on stderr, exit 2" {
    usage_errors "$ROOT/bench/bench" <<'EOF_CASES'
-r 0|--repeats: expected a positive integer, got '0'
-r 2.5|--repeats: expected a positive integer, got '2.5'
-r 102|--repeats: 102 is too large (at most 101)
-u abc|--unit: expected a number, got 'abc'
-u 0|--unit: 0 is too small (at least 0.001)
-u 11|--unit: 11 is too large (at most 10)
--only bogus|--only: no group 'bogus' (lifecycle, tutorial, trivial, latency, heavy, large, limits)
-w|-w needs a value
--python|--python needs a value
EOF_CASES
}

@test "bench: no worker outlives the program" {
    local n
    run -0 B --quick -w 3 --only large
    # Workers are forked copies of bench: none may be left running. Those
    # of this checkout only: another checkout's tests may be running bench.
    n=$(pgrep -fc "^$ROOT/bench/bench ") || true
    [ "${n:-0}" -eq 0 ] || { echo "want: 0 left"; echo "got:  $n"; false; }
}

@test "bench: the lifecycle group times spawn and forkserver pools too" {
    run -0 t "$ROOT/bench/bench" --quick --only lifecycle -w 2
    grep -qE '^  processes pool, spawn +[0-9.]+ (us|ms)' <<<"$output" || { echo "$output"; false; }
    grep -qE '^  processes pool, forkserver +[0-9.]+ (us|ms)' <<<"$output"
    run -0 t "$ROOT/bench/bench" --quick --only lifecycle -w 2 --start spawn
    grep -qE '^  processes pool, spawn +[0-9.]+ (us|ms)' <<<"$output"
    [ "$(grep -c '^  processes pool, spawn ' <<<"$output")" -eq 1 ]
}

@test "bench: --counts breaks each pool's life into its five calls" {
    run -0 t "$ROOT/bench/bench" --quick --only lifecycle -w 2 --counts
    local phase='^    each call, median of [0-9]+ lives: open [0-9.]+ (ns|us|ms|s) map [0-9.]+ (ns|us|ms|s) close [0-9.]+ (ns|us|ms|s) join [0-9.]+ (ns|us|ms|s) free [0-9.]+ (ns|us|ms|s)$'
    # One line under each of the four pool rows, right below it.
    [ "$(grep -cE "$phase" <<<"$output")" -eq 4 ] || {
        echo "want 4 lines matching: $phase"; echo "got:"; echo "$output"; false; }
    for row in 'processes pool ' 'threads pool ' 'processes pool, spawn' \
        'processes pool, forkserver'; do
        grep -A1 "^  $row" <<<"$output" | tail -1 | grep -qE "$phase" || {
            echo "no breakdown under '$row':"; echo "$output"; false; }
    done
    # Without --counts, none.
    run -0 t "$ROOT/bench/bench" --quick --only lifecycle -w 2
    run -1 grep -E '^    each call' <<<"$output"
}
