#!/usr/bin/env bats
# tests/exercises.bats - docs/exercises.md: enough questions for every
# section, and every answer that is the same on every run still printed.
#
# The expected text is read from the page itself: inside each <details>
# block, a fenced block whose first line is "$ COMMAND" holds a command
# and, below it, exactly what the command prints. Each one is run from the
# project root and compared. Answers that depend on the machine have no such
# block: they are explained, not checked.

bats_require_minimum_version 1.5.0
load helpers

PAGE="$ROOT/docs/exercises.md"

# answer_blocks PAGE DIR: write each checked block of PAGE into DIR as
# N.cmd (the command), N.want (what it prints) and N.where (the question).
answer_blocks() {
    awk -v dir="$2" '
        /^### /                  { where = $0 }
        /^<details>/             { inside = 1 }
        /^<\/details>/           { inside = 0 }
        /^```/ && fence          { fence = 0; checked = 0; next }
        /^```/ && inside         { fence = 1; first = 1; next }
        fence && first {
            first = 0
            if (substr($0, 1, 2) != "$ ") next
            checked = 1; n++
            printf "%s\n", substr($0, 3) > (dir "/" n ".cmd")
            printf "%s\n", where > (dir "/" n ".where")
            printf "" > (dir "/" n ".want")
            next
        }
        fence && checked         { print > (dir "/" n ".want") }
    ' "$1"
}

# check_answers DIR: run every block in DIR from the root; show each one
# that prints something else (expected and got), and fail if any did.
check_answers() {
    local dir=$1 cmd want got bad=0 f
    for f in "$dir"/*.cmd; do
        [ -e "$f" ] || continue
        cmd=$(cat "$f")
        want=$(cat "${f%.cmd}.want")
        got=$(cd "$ROOT" && t bash -c "$cmd" 2>&1)
        if [ "$got" != "$want" ]; then
            echo "$(cat "${f%.cmd}.where"): \$ $cmd"
            expect_eq "$want" "$got" || true
            bad=$((bad + 1))
        fi
    done
    [ "$bad" -eq 0 ] || { echo "$bad answer(s) out of date"; false; }
}

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
    answer_blocks "$PAGE" "$dir"
    n=$(find "$dir" -name '*.cmd' | wc -l)
    [ "$n" -ge 15 ] || { echo "want: 15 or more checked answers"; echo "got:  $n"; false; }
    check_answers "$dir"
}

@test "exercises: the checker catches an answer that went stale" {
    dir="$BATS_TEST_TMPDIR/stale"
    mkdir -p "$dir"
    printf '%s\n' '### 1. A planted mistake' '<details><summary>Answer</summary>' \
        '```' '$ basic/basic -n 3 | tail -1' 'Threads pool results: [1, 1, 3]' '```' \
        '</details>' > "$BATS_TEST_TMPDIR/page.md"
    answer_blocks "$BATS_TEST_TMPDIR/page.md" "$dir"
    run check_answers "$dir"
    [ "$status" -ne 0 ] || { echo "want: a failure for the planted mistake"; echo "got:  $output"; false; }
    [[ "$output" == *'[1, 1, 3]'*'[1, 1, 2]'* ]] || {
        echo "want: both the expected and the printed line shown"; echo "got:  $output"; false; }
}
