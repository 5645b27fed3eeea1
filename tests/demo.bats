#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031 # each test has an $output of its own
# tests/demo.bats - the demo as a class sees it: the programs and nothing
# else (no compiler lines), every line within 80 columns, every command
# shown runnable from the project root; `make present` paced on a terminal
# and straight through without one; each section alone on a fresh copy.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
    # One run of the demo for the tests that only read it.
    DEMO_OUT=$(mktemp)
    export DEMO_OUT
    timeout -k 5 300 make -s --no-print-directory -C "$ROOT" demo >"$DEMO_OUT" 2>&1
    echo $? >"$DEMO_OUT.status"
}

teardown_file() {
    rm -f "$DEMO_OUT" "$DEMO_OUT.status"
}

@test "demo: runs to the end, exit 0" {
    [ "$(cat "$DEMO_OUT.status")" -eq 0 ] || { tail -20 "$DEMO_OUT"; false; }
}

@test "demo: no build lines, no make noise" {
    if grep -nE '^(cc|gcc|clang|ar) |Entering directory|Leaving directory|Nothing to be done' \
        "$DEMO_OUT"; then
        false
    fi
    [ "$(head -1 "$DEMO_OUT")" = "building..." ]
}

@test "demo: every line fits in 80 columns" {
    wide=$(awk 'length($0) > 80 { printf "%d cols: %s\n", length($0), $0 }' "$DEMO_OUT")
    [ -z "$wide" ] || { echo "$wide"; false; }
}

@test "demo: every command it shows runs from the project root" {
    # "$ prog/prog args    # comment": the program path exists there.
    grep '^\$ ' "$DEMO_OUT" | sed 's/^\$ //; s/    #.*//' | while read -r cmd _; do
        [ -f "$ROOT/$cmd" ] && [ -x "$ROOT/$cmd" ] ||
            { echo "not runnable from the root: $cmd"; exit 1; }
    done
}

@test "present: without a terminal it runs straight through, as demo does" {
    run -0 t make -s --no-print-directory -C "$ROOT" present </dev/null
    # The same sections, in the same order, with no prompt in between.
    want=$(grep '^==> ' "$DEMO_OUT" | cut -d: -f1)
    got=$(grep '^==> ' <<<"$output" | cut -d: -f1)
    expect_eq "$want" "$got"
    if grep -q 'Enter: next command' <<<"$output"; then false; fi
}

@test "present: on a terminal it waits for Enter before the first command" {
    command -v script >/dev/null || skip "needs script (util-linux)"
    # A terminal with nobody typing but q: the section's banner and the
    # first prompt come, and no command runs.
    run t script -qec "make -s --no-print-directory -C '$ROOT' present" /dev/null <<<"q"
    expect_glob "$output" "*==> basic:*-- Enter: next command; q: stop*"
    if grep -q '\$ basic/basic' <<<"$output"; then
        echo "a command ran before Enter"; false
    fi
}

@test "sections: each folder's make, make demo and make clean work on a fresh copy" {
    copy=$(mktemp -d)
    # The tracked files as they are now, without anything built.
    git -C "$ROOT" ls-files -z | tar -C "$ROOT" --null -T - -cf - | tar -C "$copy" -xf -
    for d in basic timing reuse shared gil_sim; do
        run t make -s -C "$copy/$d"
        [ "$status" -eq 0 ] || { echo "make -C $d: $output"; rm -rf "$copy"; false; }
        [ -x "$copy/$d/$d" ] || { echo "no $d/$d after make"; rm -rf "$copy"; false; }
        run t make -s -C "$copy/$d" clean
        [ "$status" -eq 0 ] && [ ! -e "$copy/$d/$d" ] || { rm -rf "$copy"; false; }
    done
    # And one section's demo from nothing: it builds what it needs, quietly.
    run -0 t make -s --no-print-directory -C "$copy/basic" demo
    grep -qx '==> basic: a pool maps factorial over 0..9 (section "Pools")' <<<"$output" ||
        { echo "$output"; rm -rf "$copy"; false; }
    if grep -qE '^(cc|gcc|clang|ar) ' <<<"$output"; then rm -rf "$copy"; false; fi
    rm -rf "$copy"
}

@test "demo: each section alone (make demo-NAME) shows the programs only, in 80 columns" {
    local d out
    for d in basic reuse shared; do
        run -0 t make -C "$ROOT" --no-print-directory "demo-$d"
        out=$output
        if grep -nE '^(cc|gcc|clang|ar) |Entering directory|Leaving directory|make(\[[0-9]+\])?:' <<<"$out"; then
            echo "make demo-$d: make's own lines in the output"; false
        fi
        wide=$(awk 'length($0) > 80' <<<"$out")
        [ -z "$wide" ] || { echo "make demo-$d: wider than 80 columns: $wide"; false; }
        [[ "$out" == *"==> $d:"* ]] || { echo "make demo-$d: no banner of its own"; false; }
    done
}

# make present on a terminal (script(1) gives it one), answers typed ahead.
present_with() {
    local input=$1
    run t script -qfec "make -s -C '$ROOT' --no-print-directory present" /dev/null \
        < <(printf '%b' "$input")
    # Typed ahead, the answers are not echoed at the prompts: a prompt and
    # the command after it share a line. Each prompt starts a line here.
    screen=$(tr -d '\r' <<<"$output" |
        sed 's/-- Enter: next command; q: stop /-- Enter: next command; q: stop\n/g')
}

@test "present: on a terminal, a pause before each command, each screen within 24 lines" {
    command -v script >/dev/null || skip "needs script (util-linux)"
    present_with "$(printf '\\n%.0s' {1..40})"
    expect_cmp "$status" -eq 0
    local prompts screens
    prompts=$(grep -c -- '-- Enter: next command; q: stop' <<<"$screen")
    screens=$(grep -c '^\$ ' <<<"$screen")
    expect_cmp "$prompts" -ge "$screens"
    expect_cmp "$screens" -ge 14
    # From one pause to the next: the command, what it printed: <= 24 lines.
    local longest
    # (Before the first pause: the answers typed ahead, echoed.)
    longest=$(awk '/-- Enter: next command; q: stop/ { if (n > max) max = n; n = 0; on = 1; next }
                   on { n++ } END { if (n > max) max = n; print max }' <<<"$screen")
    echo "the longest screen: $longest lines"
    expect_cmp "$longest" -le 24
}

@test "present: q, Q and quit stop it at once, exit 0" {
    command -v script >/dev/null || skip "needs script (util-linux)"
    local word
    for word in q Q quit; do
        present_with "\\n\\n$word\\n"
        expect_cmp "$status" -eq 0
        # Two commands ran (the basic section's first two), then nothing.
        expect_eq 2 "$(grep -c '^\$ ' <<<"$screen")" || { echo "after '$word'"; false; }
    done
}
