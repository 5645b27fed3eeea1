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

@test "bench: without python3 it says so and goes on" {
    run -0 t env PATH=/nonexistent "$ROOT/bench/bench" --quick -w 2 --only heavy \
        --python "$ROOT/bench/tutorial.py"
    [[ "$output" == *"python: python3 not found: the Python columns are left out"* ]]
    [[ "$output" == *"heavy items:"* ]]
}

@test "bench: with python3, the tutorial's rows get a Python time and a ratio" {
    command -v python3 >/dev/null || skip "python3 not installed"
    run -0 B --quick -w 2 --only tutorial -u 0.002 --python "$ROOT/bench/tutorial.py"
    [[ "$output" == *"python: CPython "*", 8 figures"* ]]
    for name in serial_sleep processes_sleep threads_sleep \
                serial_square processes_square threads_square; do
        # name, C time, Python time, C/python: a number, not "-".
        grep -qE "^  $name +[0-9.]+ [nmu]?s +[0-9.]+ [nmu]?s +[0-9]+\.[0-9]+$" \
            <<<"$output" || { echo "row $name: no Python figure"; false; }
    done
}

@test "bench: a failing script leaves the Python columns out, exit 0" {
    run -0 B --quick -w 2 --only heavy --python /nonexistent/tutorial.py
    [[ "$output" == *"the Python columns are left out"* ]] ||
        [[ "$output" == *"python3 not found"* ]]
}

@test "bench: tutorial.py prints its eight figures, and rejects bad flags" {
    command -v python3 >/dev/null || skip "python3 not installed"
    run -0 t python3 "$ROOT/bench/tutorial.py" --quick -r 1 -w 2 -u 0.001
    [ "${lines[0]%% *}" = "#" ]
    [ "$(grep -cE $'^[a-z_]+\t[0-9]+\\.[0-9]+$' <<<"$output")" -eq 8 ]
    run -2 t python3 "$ROOT/bench/tutorial.py" -w 0
    run -2 t python3 "$ROOT/bench/tutorial.py" -r abc
    run -2 t python3 "$ROOT/bench/tutorial.py" -u 0
}

@test "bench: bad input: a one-line reason and the usage on stderr, exit 2" {
    usage_errors "$ROOT/bench/bench" <<'EOF_CASES'
-w 0|--workers: expected a positive integer, got '0'
-w -2|--workers: expected a positive integer, got '-2'
-w abc|--workers: expected a positive integer, got 'abc'
-w 1.5|--workers: expected a positive integer, got '1.5'
-w 99999999999999999999|--workers: 99999999999999999999 is too large (at most 1024)
-r 0|--runs: expected a positive integer, got '0'
-r 2.5|--runs: expected a positive integer, got '2.5'
-r 102|--runs: 102 is too large (at most 101)
-u abc|--unit: expected a number, got 'abc'
-u 0|--unit: 0 is too small (at least 0.001)
-u 11|--unit: 11 is too large (at most 10)
--only bogus|--only: no group 'bogus' (lifecycle, tutorial, trivial, heavy, large, limits)
-w|-w needs a value
--python|--python needs a value
-x|unknown option '-x'
--bogus|unknown option '--bogus'
stray|unexpected argument 'stray'
EOF_CASES
}

@test "bench: no worker outlives the program" {
    run -0 B --quick -w 3 --only large
    # Workers are forked copies of bench: none may be left running.
    [ "$(processes_named bench)" -eq 0 ]
}
