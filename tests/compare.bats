#!/usr/bin/env bats
# tests/compare.bats - make compare: one line per comparison, a tally that
# counts them, an exit status that follows the tally, and the exact
# comparisons (same bytes, same words, the same failing map) agree.
#
# The timed comparisons run too (--quick: once each, short sleeps), but
# only their lines' shape is checked: on two shared cores their figures say
# more about the neighbours than about C or Python.

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
        'sleep, 5 workers:' 'gil, CPU-bound threads/serial:'
        'gil, CPU-bound processes/serial:' 'gil, I/O-bound threads/serial:'
        'gil, convoy calls/s:' 'square, serial:' 'square, processes:'
        'square, threads:')
    local n=${#want[@]} i got
    mapfile -t got <<<"$output"
    [[ "${got[0]}" =~ ^compare:\ CPython\ [0-9.]+[a-z0-9+]*\ beside ]] || {
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
