#!/usr/bin/env bats
# tests/exercises.bats - docs/exercises.md: enough questions for every
# section, and every answer that is the same on every run still printed.
#
# The expected text is read from the page itself, as docs.bats reads the
# other pages (tests/docblocks.bash): each fenced block that starts with
# "$ COMMAND" holds a command and, below it, exactly what it prints. Each
# one is run from the project root and compared. Answers that depend on the
# machine have no such block: they are explained, not checked.

bats_require_minimum_version 1.5.0
load helpers
load docblocks

PAGE="$ROOT/docs/exercises.md"

@test "exercises: at least 12 questions, at least two for each section" {
    [ "$(grep -c '^### ' "$PAGE")" -ge 12 ] || { echo "want: 12 or more questions"; false; }
    counts=$(awk '/^## / { s = $2 } /^### / { n[s]++ }
                  END { for (k in n) print k, n[k] }' "$PAGE" | sort)
    for section in basic: timing: reuse: shared: gil_sim: The; do
        got=$(awk -v s="$section" '$1 == s { print $2 }' <<<"$counts")
        [ "${got:-0}" -ge 2 ] || {
            echo "want: 2 or more questions under '$section'"
            echo "got:  ${got:-0}"; echo "$counts"; false; }
    done
}

@test "exercises: every question has a command to run and an answer to open" {
    bad=$(awk '
        function done() {
            if (q != "" && !(cmd && answer)) print q
        }
        /^### /                        { done(); q = $0; cmd = 0; answer = 0 }
        /^\$ / && !answer              { cmd = 1 }
        /^<details><summary>Answer/    { answer = 1 }
        END                            { done() }
    ' "$PAGE")
    [ -z "$bad" ] || { echo "want: a \$ command and an answer in each; missing in:"; echo "$bad"; false; }
}

@test "exercises: every command to explore starts with a program run from the root" {
    bad=""
    while read -r word; do
        case $word in
            python3|make) continue ;;
        esac
        [ -x "$ROOT/$word" ] && [ -f "$ROOT/$word" ] || bad="$bad $word"
    done < <(sed -n 's/^\$ \([^ ]*\).*/\1/p' "$PAGE" | sort -u)
    [ -z "$bad" ] || { echo "want: paths from the root to built programs"; echo "got: $bad"; false; }
}

@test "exercises: every checked answer is what the program prints now" {
    dir="$BATS_TEST_TMPDIR/answers"
    mkdir -p "$dir"
    doc_runs "$PAGE" "$dir"
    n=$(grep -lx exact "$dir"/*.mode | wc -l)
    [ "$n" -ge 15 ] || { echo "want: 15 or more checked answers"; echo "got:  $n"; false; }
    check_runs "$dir"
}

@test "exercises: the checker catches an answer that went stale" {
    dir="$BATS_TEST_TMPDIR/stale"
    mkdir -p "$dir"
    printf '%s\n' '### 1. A planted mistake' '<details><summary>Answer</summary>' \
        '```' '$ basic/basic -n 3 | tail -1' 'Threads pool results: [1, 1, 3]' '```' \
        '</details>' > "$BATS_TEST_TMPDIR/page.md"
    doc_runs "$BATS_TEST_TMPDIR/page.md" "$dir"
    run check_runs "$dir"
    [ "$status" -ne 0 ] || { echo "want: a failure for the planted mistake"; echo "got:  $output"; false; }
    [[ "$output" == *'[1, 1, 3]'*'[1, 1, 2]'* ]] || {
        echo "want: both the expected and the printed line shown"; echo "got:  $output"; false; }
}

# median3 COMMAND...: the median of the numbers COMMAND prints, one a
# line, over 3 runs of it.
median3() {
    for _ in 1 2 3; do "$@" || return; done | sort -g | sed -n 2p
}

# mixed_rate INTERVAL: the I/O thread's calls per second in one run of
# question 15's command with --interval INTERVAL.
mixed_rate() {
    t "$ROOT/gil_sim/gil_sim" --tsv --workload mixed --mode gil --interval "$1" |
        awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
                    { print $c["io_ops_per_s"] }'
}

@test "exercises: 15: the I/O thread's ceiling halves when the interval doubles" {
    # The answer's ceilings: a call waits at least about one interval less
    # 1 ms, on top of its own 1.2 ms. A GIL that gave the lock back at
    # once would let the thread make hundreds of calls a second and fail.
    grep -q 'at most about 1 / (4 + 1.2 ms) = 190 calls a second at 5 ms' "$PAGE"
    grep -q 'and 1 / (9 + 1.2 ms) = 98 at 10 ms' "$PAGE"
    local at5 at10
    at5=$(median3 mixed_rate 5000)
    at10=$(median3 mixed_rate 10000)
    awk -v a="$at5" -v b="$at10" 'BEGIN { exit !(a > 0 && a <= 190 && b > 0 && b <= 98) }' || {
        echo "want: at most 190 calls/s at 5 ms and 98 at 10 ms (medians of 3)"
        echo "got:  $at5 and $at10"; false; }
}

# cpu4 MODE COLUMN: COLUMN of MODE's row in one run of question 16's
# command, as TSV; with COLUMN "ratio", MODE's wall time over serial's;
# with "busy", its CPU time over its wall time.
cpu4() {
    t "$ROOT/gil_sim/gil_sim" --tsv --workload cpu --threads 4 |
        awk -F'\t' -v mode="$1" -v what="$2" '
            NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
            { wall[$c["mode"]] = $c["wall_s"]; cpu[$c["mode"]] = $c["cpu_s"] }
            END { if (what == "ratio") print wall[mode] / wall["serial"]
                  else print cpu[mode] / wall[mode] }'
}

@test "exercises: 16: 4 threads under the GIL take about serial; processes never under half" {
    grep -q 'Processes can take half of serial at$' "$PAGE"
    local gil procs busy
    gil=$(median3 cpu4 gil ratio)
    procs=$(median3 cpu4 procs ratio)
    busy=$(median3 cpu4 procs busy)
    awk -v g="$gil" -v p="$procs" -v b="$busy" \
        'BEGIN { exit !(g >= 0.75 && g <= 1.35 && p >= 0.45 && b <= 2.1) }' || {
        echo "want: gil/serial 0.75-1.35, procs/serial 0.45 or more, procs on at most 2.1 CPUs"
        echo "got:  $gil, $procs, $busy (medians of 3)"; false; }
}

# question_commands: the "$ " lines of PAGE outside the answers: what the
# questions ask the reader to run.
question_commands() {
    awk '/^<details>/ { inside = 1 } /^<\/details>/ { inside = 0 }
         !inside && /^\$ / { print substr($0, 3) }' "$PAGE"
}

@test "exercises: every command a question asks for runs within 15 s" {
    # A class waits for each one; the answers' figures say how long.
    local cmd slow=''
    while read -r cmd; do
        [[ $cmd != python3\ * ]] || command -v python3 >/dev/null || continue
        (cd "$ROOT" && timeout 15 bash -c "$cmd" >/dev/null 2>&1) || [ $? -ne 124 ] ||
            slow+="$cmd (over 15 s)"$'\n'
    done < <(question_commands)
    [ -z "$slow" ] || { echo "want: every command within 15 s"; echo "got:"; echo "$slow"; false; }
}

@test "exercises: 4: the command to run does not print the prediction it asks for" {
    local q4 cmd
    q4=$(awk '/^### 4\./ { on = 1; next } /^### / { on = 0 } on' "$PAGE")
    cmd=$(sed -n 's/^\$ //p' <<<"$q4" | head -1)
    [ -n "$cmd" ] || { echo "no command in question 4"; false; }
    run -0 bash -c "cd '$ROOT' && $cmd"
    if grep -q '^Predicted for a pool' <<<"$output"; then
        echo "want: the figures without the prediction"; echo "got: $output"; false
    fi
    grep -q '^Time elapsed for processes_sleep: ' <<<"$output" || {
        echo "want: the pool's figure to compare the prediction with"; echo "got: $output"; false; }
}
