#!/usr/bin/env bats
# tests/compare.bats - make compare: one line per comparison, a tally that
# counts them, an exit status that follows the tally, and the exact
# comparisons (same bytes, same words, the same failing map) agree.
#
# The timed comparisons run too (--quick: once each, short sleeps, reported
# as info), but only their lines' shape is checked: on two shared cores
# their figures say more about the neighbours than about C or Python. What
# is checked of them is that each can fail: fed a claim that is false, it
# says differ.

bats_require_minimum_version 1.5.0
load helpers

# One run for the whole file (it takes half a minute), kept in files.
setup_file() {
    command -v python3 >/dev/null || return 0
    local out=$BATS_FILE_TMPDIR status=0
    t make -s --no-print-directory -C "$ROOT/compare" all >/dev/null
    cd "$ROOT" || return
    T_LIMIT=300 t python3 -B compare/compare.py --quick \
        >"$out/stdout" 2>"$out/stderr" || status=$?
    echo "$status" >"$out/status"
}

needs_python() {
    command -v python3 >/dev/null || skip "python3 not installed"
    output=$(cat "$BATS_FILE_TMPDIR/stdout")
}

# The verdict on the line for comparison LABEL ("basic:", ...).
verdict_of() {
    grep -E "^[a-z]+ +$1" <<<"$output" | awk '{ print $1 }' | sort -u
}

# compare_with ARGS...: compare.py with ARGS, from the root, bounded.
compare_with() {
    cd "$ROOT" || return
    T_LIMIT=300 run t python3 -B compare/compare.py "$@"
}

# all_differ LABEL...: each comparison LABEL has a line, and it says differ.
all_differ() {
    local label
    for label in "$@"; do
        grep -qE "^differ +$label" <<<"$output" || {
            echo "want: differ $label ..."; echo "got:"; echo "$output"; return 1; }
    done
    [ "$status" -eq 1 ] || { echo "want: exit 1 on a difference, got $status"; return 1; }
}

@test "compare: without python3 it says so and exits 0" {
    run -0 t make -s --no-print-directory -C "$ROOT" compare \
        PYTHON=/nonexistent/python3
    [ "${lines[-1]}" = "compare: /nonexistent/python3 not found: nothing to compare" ] || {
        echo "got: ${lines[-1]}"; false; }
}

@test "compare: a header, one line per comparison, then the tally" {
    needs_python
    local want=(basic: 'basic -n 25:' 'default workers' 'shared, processes:' 'shared, threads:'
        'reuse list:' 'lifecycle, join before close:'
        'lifecycle, map after close:' 'lifecycle, close, then join:'
        'failure, processes:' 'failure, threads:' 'sleep, serial:'
        'sleep, 2 workers:' 'sleep, 3 workers:' 'sleep, 4 workers:'
        'sleep, 5 workers:' 'sleep order, 2 workers' 'sleep order, 3 workers'
        'gil, CPU-bound threads/serial:'
        'gil, CPU-bound processes/serial:' 'gil, I/O-bound threads/serial:'
        'gil, convoy calls/s:' 'square, serial:' 'square, processes:'
        'square, threads:')
    local n=${#want[@]} i got
    mapfile -t got <<<"$output"
    [[ "${got[0]}" =~ ^compare:\ CPython\ [0-9.]+[a-z0-9+]*\ \((with|without)\ a\ GIL\)\ beside ]] || {
        echo "header: ${got[0]}"; false; }
    [ "${#got[@]}" -eq $((n + 2)) ] || {
        echo "want $((n + 2)) lines, got ${#got[@]}:"; echo "$output"; false; }
    for ((i = 0; i < n; i++)); do
        [[ "${got[i + 1]}" =~ ^(agree|differ|info)\ +"${want[i]}" ]] || {
            echo "want: <verdict> ${want[i]} ..."; echo "got:  ${got[i + 1]}"
            false; }
    done
    [[ "${got[n + 1]}" =~ ^compare:\ [0-9]+\ agree,\ [0-9]+\ differ$ ]] || {
        echo "tally: ${got[n + 1]}"; false; }
}

@test "compare: the tally counts the lines, and the exit status follows it" {
    needs_python
    local agree differ status want
    agree=$(grep -c '^agree ' <<<"$output") || true
    differ=$(grep -c '^differ ' <<<"$output") || true
    want="compare: $agree agree, $differ differ"
    [ "${output##*$'\n'}" = "$want" ] || {
        echo "want: $want"; echo "got:  ${output##*$'\n'}"; false; }
    status=$(cat "$BATS_FILE_TMPDIR/status")
    want=$((differ > 0 ? 1 : 0))
    [ "$status" = "$want" ] || {
        echo "want exit $want ($differ differ), got $status"
        cat "$BATS_FILE_TMPDIR/stderr"; false; }
}

@test "compare: the exact comparisons agree" {
    needs_python
    local label
    for label in basic: 'basic -n 25:' 'shared, processes:' 'shared, threads:' \
        'reuse list:' 'lifecycle, join before close:' \
        'lifecycle, map after close:' 'lifecycle, close, then join:' \
        'failure, processes:' 'failure, threads:'; do
        [ "$(verdict_of "$label")" = agree ] || {
            echo "want: agree $label ..."
            echo "got:  $(grep -F "$label" <<<"$output")"; false; }
    done
    # Compared wherever taskset can pin the programs to one CPU.
    label='default workers'
    if command -v taskset >/dev/null; then
        [ "$(verdict_of "$label")" = agree ] || {
            echo "want: agree $label ..."
            echo "got:  $(grep -F "$label" <<<"$output")"; false; }
    fi
}

@test "compare: failmap: the C pool runs 0 1 5 6 7 10..19 and reports item 7, as CPython" {
    t make -s --no-print-directory -C "$ROOT/compare" all >/dev/null
    local kind
    for kind in processes threads; do
        # CPython's semantics: a chunk stops at its first failure, and
        # the first failure to arrive is the one reported.
        run -0 t "$ROOT/compare/failmap" "$kind"
        expect_eq 'ran: 0 1 5 6 7 10 11 12 13 14 15 16 17 18 19; error: item 7' \
            "$output"
        leaves_nothing "$ROOT/compare/failmap" "$kind"
    done
}

@test "compare: failmap's bad command lines are usage errors" {
    t make -s --no-print-directory -C "$ROOT/compare" all >/dev/null
    usage_errors "$ROOT/compare/failmap" <<'EOF2'
|expected one operand, processes or threads
processes threads|expected one operand, processes or threads
process|unknown kind 'process' (processes or threads)
-x|unknown option '-x'
EOF2
    run -0 t "$ROOT/compare/failmap" --help
    [[ "${lines[0]}" == usage:* ]]
}

@test "compare: --quick reports the timed comparisons, and judges only the exact ones" {
    needs_python
    # One short run of a timed comparison proves nothing either way: on a
    # busy machine it would fail, on a quiet one pass. --quick says so.
    local timed
    timed=$(grep -E '^[a-z]+ +(sleep|gil|square)' <<<"$output")
    [ -n "$timed" ] || { echo "no timed lines in: $output"; false; }
    if grep -v '^info ' <<<"$timed"; then
        echo "want: every timed line 'info' under --quick"; false
    fi
    [ "$(cat "$BATS_FILE_TMPDIR/status")" = 0 ] || {
        echo "want: exit 0 when the exact comparisons agree"; echo "$output"; false; }
}

@test "compare: the sleep order fails a false claim (tasks dealt in rotation)" {
    command -v python3 >/dev/null || skip "python3 not installed"
    compare_with --only 'sleep order' --runs 1 --claim schedule=rotation
    all_differ 'sleep order, 2 workers' 'sleep order, 3 workers'
}

@test "compare: the sleep-order cases tell the two rules apart; the tutorial's sleeps cannot" {
    command -v python3 >/dev/null || skip "python3 not installed"
    # The tutorial's sleeps (task i sleeps i steps) end at the same step
    # whether idle workers take the next task or tasks go round in turn:
    # a check on them cannot tell the rules apart. The cases compared can.
    cd "$ROOT" || return
    run -0 t python3 -B -c '
import sys
sys.path.insert(0, "compare")
import compare as c
for w in (2, 3, 4, 5):
    print("tutorial", w, c.busiest(range(5), w, "idle"), c.busiest(range(5), w, "rotation"))
for w, steps in c.SLEEP_ORDER:
    print("compared", w, c.busiest(steps, w, "idle"), c.busiest(steps, w, "rotation"))'
    expect_eq 'tutorial 2 6 6
tutorial 3 5 5
tutorial 4 4 4
tutorial 5 4 4
compared 2 5 6
compared 3 4 5' "$output"
}

@test "compare: the GIL ratios fail false claims, each side held to the claim" {
    command -v python3 >/dev/null || skip "python3 not installed"
    # Claims no run can meet: threads 4x faster under one GIL, processes
    # 2.5x slower than serial, sleeping threads slower than serial.
    compare_with --only gil --runs 1 --claim threads_per_serial=0.25 \
        --claim procs_per_serial=2.5 --claim io_per_serial=1.5
    all_differ 'gil, CPU-bound threads/serial:' 'gil, CPU-bound processes/serial:' \
        'gil, I/O-bound threads/serial:'
    # Each line says what it held both sides to.
    grep -q 'claim 0.25 +- 0.2, C-Python within 0.25$' <<<"$output" || {
        echo "want: the claim on the line"; echo "$output"; false; }
}

@test "compare: the convoy fails a false claim (the I/O thread never waits)" {
    command -v python3 >/dev/null || skip "python3 not installed"
    compare_with --only convoy --runs 3 --claim convoy_intervals=0
    all_differ 'gil, convoy calls/s:'
    # Medians with their ranges, not one lucky run.
    grep -qE '^differ +gil, convoy calls/s: C [0-9]+ \([0-9]+-[0-9]+\), Python [0-9]+ \([0-9]+-[0-9]+\);' <<<"$output" || {
        echo "want: medians and ranges on the line"; echo "$output"; false; }
}

@test "compare: a claim it does not know, or a bad value, is a usage error" {
    command -v python3 >/dev/null || skip "python3 not installed"
    cd "$ROOT" || return
    local bad
    for bad in 'schedule=random' 'nothing=1' 'procs_per_serial=half' 'procs_per_serial=nan'; do
        run -2 --separate-stderr t python3 -B compare/compare.py --claim "$bad"
        [[ "${stderr_lines[-1]}" == *"--claim: "* ]] || {
            echo "--claim $bad: got '${stderr_lines[-1]}'"; false; }
    done
}

@test "compare: sleepmap times the map alone, and its bad command lines are usage errors" {
    t make -s --no-print-directory -C "$ROOT/compare" all >/dev/null
    run -0 t "$ROOT/compare/sleepmap" threads 2 0.2 0.1
    [[ "$output" =~ ^elapsed:\ 0\.[0-9]{4}s$ ]] || { echo "got: $output"; false; }
    leaves_nothing "$ROOT/compare/sleepmap" processes 3 0.05 0 0.05
    usage_errors "$ROOT/compare/sleepmap" <<'EOF2'
|expected a kind, a number of workers and sleeps
processes 2|expected a kind, a number of workers and sleeps
process 2 0.1|unknown kind 'process' (processes or threads)
threads 0 0.1|WORKERS: expected a positive integer, got '0'
threads 2 x|SECONDS: expected a number, got 'x'
threads 2 11|SECONDS: 11 is too large (at most 10)
EOF2
}
