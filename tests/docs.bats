#!/usr/bin/env bats
# tests/docs.bats - what the pages show a program printing is what it
# prints now: every shown run of the README and the section pages is run
# again from the project root and compared, exactly where the output is
# the same every run, with its numbers masked where they are not
# (tests/docblocks.bash says how a page marks which). docs/exercises.md
# is exercises.bats's.

bats_require_minimum_version 1.5.0
load helpers
load docblocks

# check_page PAGE: every shown run of PAGE (from the root) as it prints now.
check_page() {
    [ "$(nproc)" -ge 2 ] || skip "the pages' runs were made on 2 CPUs"
    local dir=$BATS_TEST_TMPDIR/runs
    mkdir -p "$dir"
    doc_runs "$ROOT/$1" "$dir"
    [ -n "$(find "$dir" -name '*.cmd')" ] || { echo "want: shown runs in $1; got none"; false; }
    check_runs "$dir"
}

@test "docs: README.md shows what the programs print" {
    check_page README.md
}

@test "docs: basic.md shows what basic prints" {
    check_page docs/basic.md
}

@test "docs: shared.md shows what shared prints" {
    check_page docs/shared.md
}

@test "docs: reuse.md shows what reuse prints" {
    check_page docs/reuse.md
}

@test "docs: timing.md shows what timing prints" {
    check_page docs/timing.md
}

@test "docs: gil_sim.md shows what gil_sim prints" {
    check_page docs/gil_sim.md
}

@test "docs: compare.md shows what failmap prints" {
    t make -s --no-print-directory -C "$ROOT/compare" all >/dev/null
    check_page docs/compare.md
}

@test "docs: every run a page does not check says why" {
    local page bad=''
    for page in README.md docs/basic.md docs/shared.md docs/reuse.md \
        docs/timing.md docs/gil_sim.md docs/compare.md docs/exercises.md; do
        bad+=$(grep -n '^<!-- check:' "$ROOT/$page" |
            grep -vE '^[0-9]+:<!-- check: (shape|none, [^ ].*) -->$' |
            sed "s|^|$page:|")
    done
    [ -z "$bad" ] || { echo "want: <!-- check: shape --> or <!-- check: none, WHY -->"
        echo "got:"; echo "$bad"; false; }
}

@test "docs: the checker catches a header, a word or a line that changed" {
    local page=$BATS_TEST_TMPDIR/page.md dir=$BATS_TEST_TMPDIR/planted
    mkdir -p "$dir"
    # Each block a drift of its own: a word in an exact run, a header
    # under its masked numbers, a line gone after "...".
    printf '%s\n' '```' '$ basic/basic -n 3 | tail -1' 'Threads pool results: [1, 1, 3]' '```' \
        '<!-- check: shape -->' '```' '$ reuse/reuse --cost -m 2 -w 2 | head -1' \
        'Mean time per map, 2 maps of square over range(1000), 2 workers:' '```' \
        '```' '$ basic/basic --chunks -n 20 -w 2' '...' 'Each chunk goes whole to one worker' '```' \
        '<!-- check: none, never run -->' '```' '$ false' 'anything' '```' >"$page"
    doc_runs "$page" "$dir"
    run check_runs "$dir"
    [ "$status" -ne 0 ] || { echo "want: a failure for the planted drifts"; echo "got:  $output"; false; }
    [[ $output == *'3 shown run(s) out of date'* ]] || {
        echo "want: 3 runs out of date, the 'none' one not run"; echo "got:  $output"; false; }
    [[ $output == *'[1, 1, 3]'*'[1, 1, 2]'* ]] || {
        echo "want: the expected and the printed line shown"; echo "got:  $output"; false; }
}

@test "docs: the checker passes what matches: masked numbers, '...', a command over lines" {
    local page=$BATS_TEST_TMPDIR/page.md dir=$BATS_TEST_TMPDIR/good
    mkdir -p "$dir"
    # shellcheck disable=SC2016 # the page's commands, as typed
    printf '%s\n' '<!-- check: shape -->' '```' '$ basic/basic --who -n 2 -w 1 | tail -1' \
        '  factorial(1) = 1  by thread 99' '```' \
        '```' '$ basic/basic --chunks -n 20 -w 2' '...' '  chunk 6: items 18-19' '...' '```' \
        '```' '$ for n in 1 2; do' '    basic/basic -n "$n" | tail -1; done' \
        'Threads pool results: [1]' 'Threads pool results: [1, 1]' '```' >"$page"
    doc_runs "$page" "$dir"
    [ "$(find "$dir" -name '*.cmd' | wc -l)" -eq 3 ] || { ls "$dir"; false; }
    check_runs "$dir"
}

@test "docs: every command written inline on the pages is one its program takes" {
    # `prog/prog ARGS` in the text: started from the root, it must not be
    # a usage error (exit 2). It runs for 2 s at most: enough to get past
    # the options, not to finish. Words in capitals are placeholders.
    local page cmd bad='' n=0
    for page in README.md docs/basic.md docs/shared.md docs/reuse.md \
        docs/timing.md docs/gil_sim.md docs/compare.md docs/exercises.md; do
        # shellcheck disable=SC2016 # Markdown's backticks, not a shell's
        while read -r cmd; do
            [[ $cmd =~ (^| )[A-Z]+( |$) ]] && continue
            n=$((n + 1))
            (cd "$ROOT" && timeout 2 bash -c "$cmd" >/dev/null 2>&1) || [ $? -ne 2 ] ||
                bad+="$page: $cmd"$'\n'
        done < <(tr '\n' ' ' <"$ROOT/$page" |
            grep -oE '`(basic|timing|reuse|shared|gil_sim|compare)/[a-z_]+( [^`]*)?`' |
            tr -d '`' | sort -u)
    done
    [ "$n" -ge 40 ] || { echo "want: 40 or more inline commands; got $n"; false; }
    [ -z "$bad" ] || { echo "want: no usage error; got one from:"; echo "$bad"; false; }
}

@test "docs: pool.md shows what the pool's tests print" {
    check_page docs/pool.md
}

@test "docs: spinning.md, start_methods.md and performance.md show what their commands print" {
    check_page docs/spinning.md
    check_page docs/start_methods.md
    check_page docs/performance.md
}
