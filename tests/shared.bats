#!/usr/bin/env bats
# tests/shared.bats - shared: the processes' list stays empty, the threads'
# list gets every item, and the extras (--copies, --explicit, --race).

bats_require_minimum_version 1.5.0
load helpers

S() { t "$ROOT/shared/shared" "$@"; }

# sum_of REGEX TEXT: add up the numbers captured by REGEX's group 1.
sum_of() {
    local total=0 v
    while read -r v; do
        total=$((total + v))
    done < <(grep -oP "$1" <<<"$2")
    echo "$total"
}

@test "shared: two lines, [] exactly, then a permutation of 0..19" {
    run -0 S
    [ "${#lines[@]}" -eq 2 ]
    [ "${lines[0]}" = "[]" ]
    is_perm_of_range "${lines[1]}" 20
}

@test "shared: the thread list is in Python's list format" {
    run -0 S
    [[ "${lines[1]}" =~ ^\[[0-9]+(,\ [0-9]+){19}\]$ ]]
}

@test "shared: one thread appends in order, so -w 1 prints 0..19 sorted" {
    run -0 S -w 1
    [ "$output" = '[]
[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]' ]
}

@test "shared: -n 50 with more workers than cores" {
    run -0 S -n 50 -w 8
    [ "${#lines[@]}" -eq 2 ]
    [ "${lines[0]}" = "[]" ]
    is_perm_of_range "${lines[1]}" 50
}

@test "shared: --copies: the workers' copies hold all N, the parent's list none" {
    run -0 S --copies -n 30 -w 3
    [ "${lines[0]}" = "[]" ]
    [ "${lines[1]}" = "  each worker process appended to its own copy of the list:" ]
    # One line per worker that ran a task: at most one copy per worker.
    copies=$(grep -cP '^    worker pid [0-9]+: its copy holds [0-9]+$' <<<"$output")
    [ "$copies" -ge 1 ] && [ "$copies" -le 3 ] || { echo "copies: $copies"; false; }
    [ "${#lines[@]}" -eq $((copies + 4)) ]
    [ "$(sum_of 'its copy holds \K[0-9]+' "$output")" -eq 30 ]
    [ "${lines[copies + 2]}" = "  30 in all; the parent's list holds 0" ]
    is_perm_of_range "${lines[copies + 3]}" 30
}

@test "shared: --explicit: the parent sees all N, appended by worker processes" {
    run -0 S --explicit -n 40 -w 3
    [ "${lines[0]}" = "[]" ]
    is_perm_of_range "${lines[1]}" 40
    [ "${lines[2]}" = "Processes, the list in shared memory (mmap MAP_SHARED, with a" ]
    [ "${lines[3]}" = "process-shared mutex):" ]
    is_perm_of_range "${lines[4]}" 40
    appenders=$(grep -cP '^  appended by worker pid [0-9]+: [0-9]+$' <<<"$output")
    [ "$appenders" -ge 1 ] && [ "$appenders" -le 3 ]
    [ "${#lines[@]}" -eq $((appenders + 6)) ]
    [ "$(sum_of 'appended by worker pid [0-9]+: \K[0-9]+' "$output")" -eq 40 ]
    [[ "${lines[appenders + 5]}" =~ ^\ \ appended\ by\ the\ parent\ \(pid\ ([0-9]+)\):\ 0$ ]]
    parent=${BASH_REMATCH[1]}
    # Every appender is a process other than the parent.
    if grep -q "worker pid $parent:" <<<"$output"; then false; fi
}

@test "shared: --race reports kept and lost counts that add up" {
    run -0 S --race --runs 3 --race-items 20000
    [ "${lines[0]}" = "[]" ]
    is_perm_of_range "${lines[1]}" 20
    [[ "${lines[2]}" =~ ^Threads\ appending\ without\ the\ lock:\ [0-9]+\ threads?,\ 20000\ appends\ a\ run,\ 3\ runs$ ]]
    lost=0 r=1
    for line in "${lines[@]:3:3}"; do
        [[ "$line" =~ ^run\ ([0-9]+):\ kept\ ([0-9]+)\ of\ 20000,\ lost\ ([0-9]+)$ ]]
        [ "${BASH_REMATCH[1]}" -eq "$r" ]
        [ "${BASH_REMATCH[2]}" -le 20000 ]
        [ "${BASH_REMATCH[2]}" -ge 1 ]
        [ $((BASH_REMATCH[2] + BASH_REMATCH[3])) -eq 20000 ]
        lost=$((lost + BASH_REMATCH[3])) r=$((r + 1))
    done
    [ "${lines[6]}" = "with the lock: kept 20000 of 20000, lost 0" ]
    [[ "${lines[7]}" =~ ^without\ the\ lock:\ lost\ ([0-9]+)\ of\ 60000\ appends\;\ [0-3]\ of\ 3\ runs\ lost\ some$ ]]
    [ "${BASH_REMATCH[1]}" -eq "$lost" ]
    # Losses are likely, not certain: a run that lost none says so.
    if [ "$lost" -eq 0 ]; then
        [[ "${lines[8]}" == "(no append was lost this time"* ||
           "${lines[8]}" == "(one thread cannot race with itself"* ]]
    else
        [ "${#lines[@]}" -eq 8 ]
    fi
}

@test "shared: --race with one thread loses nothing" {
    run -0 S --race -w 1 --runs 2 --race-items 5000
    [ "${lines[3]}" = "run 1: kept 5000 of 5000, lost 0" ]
    [ "${lines[4]}" = "run 2: kept 5000 of 5000, lost 0" ]
    [ "${lines[2]}" = "Threads appending without the lock: 1 thread, 5000 appends a run, 2 runs" ]
    [ "${lines[6]}" = "without the lock: lost 0 of 10000 appends; 0 of 2 runs lost some" ]
    [ "${lines[7]}" = "(one thread cannot race with itself: nothing to lose)" ]
}

@test "shared: the extras combine, in a fixed order" {
    run -0 S --race --explicit --copies --runs 1 --race-items 1000 -w 2
    [ "${lines[0]}" = "[]" ]
    [ "${lines[1]}" = "  each worker process appended to its own copy of the list:" ]
    # Then a line per worker copy, the total, the thread list, --explicit.
    i=$(( $(grep -c '^    worker pid ' <<<"$output") + 2 ))
    [[ "${lines[i]}" == "  20 in all; the parent's list holds 0" ]]
    is_perm_of_range "${lines[i + 1]}" 20
    [[ "${lines[i + 2]}" == "Processes, the list in shared memory"* ]]
    is_perm_of_range "${lines[i + 4]}" 20
    grep -q '^Threads appending without the lock: 2 threads, ' <<<"$output"
    grep -q '^without the lock: lost ' <<<"$output"
}

@test "shared: bad input: a one-line reason and the usage on stderr, exit 2" {
    usage_errors "$ROOT/shared/shared" <<'EOF_CASES'
-n 0|--items: expected a positive integer, got '0'
-n -3|--items: expected a positive integer, got '-3'
-n 1e3|--items: expected a positive integer, got '1e3'
-n 20.0|--items: expected a positive integer, got '20.0'
-n 2000000|--items: 2000000 is too large (at most 1000000)
--race --runs 0|--runs: expected a positive integer, got '0'
--race --runs 1001|--runs: 1001 is too large (at most 1000)
--race --race-items x|--race-items: expected a positive integer, got 'x'
--race --race-items 99999999999999999999|--race-items: 99999999999999999999 is too large (at most 10000000)
--runs 3|--runs only applies to --race
--race-items 10|--race-items only applies to --race
-n|-n needs a value
--workers|--workers needs a value
--race --runs|--runs needs a value
--explicit stray|unexpected argument 'stray'
EOF_CASES
}

@test "shared: no worker outlives the program" {
    leaves_nothing "$ROOT/shared/shared" --fork-lock --copies -n 200 -w 4 --start spawn
    run -0 S --explicit --copies -n 200 -w 4
    # The workers the program named (both pools) are gone, not orphaned.
    pids=$(grep -oP 'pid \K[0-9]+' <<<"$output" | sort -u)
    [ -n "$pids" ]
    for pid in $pids; do
        if kill -0 "$pid" 2>/dev/null; then
            echo "pid $pid still runs: $(ps -o pid=,comm= -p "$pid")"; false
        fi
    done
}

@test "shared: the same [] under every start method; a fresh worker makes its own list" {
    for m in fork spawn forkserver; do
        run -0 S --start "$m" --copies -n 20 -w 2
        [ "${lines[0]}" = "[]" ] || { echo "$m: ${lines[0]}"; false; }
        is_perm_of_range "${lines[-1]}" 20
        if [ "$m" = fork ]; then
            [ "${lines[1]}" = "  each worker process appended to its own copy of the list:" ]
        else
            [ "${lines[1]}" = "  each worker process appended to a list it made itself: a" ] ||
                { echo "$m: ${lines[1]}"; false; }
        fi
        [ "$(sum_of 'its (copy|list) holds \K[0-9]+' "$output")" -eq 20 ]
    done
}

@test "shared: --fork-lock: locked forever in forked workers, free in fresh ones" {
    run -0 S --fork-lock -w 2 --start fork
    [ "$(grep -c 'still locked: its holder is not here$' <<<"$output")" -eq 2 ] ||
        { echo "$output"; false; }
    for m in spawn forkserver; do
        run -0 S --fork-lock -w 2 --start "$m"
        [ "$(grep -c ': took it$' <<<"$output")" -eq 2 ] || { echo "$m: $output"; false; }
        grep -q "^A thread held a lock while the pool started 2 workers ($m);" <<<"$output"
    done
}

@test "shared: --explicit needs fork: a fresh worker has no mapping" {
    run -2 --separate-stderr S --explicit --start spawn
    [ "${stderr_lines[0]}" = "shared: --explicit: only with --start fork (a fresh worker has no mapping)" ]
}
