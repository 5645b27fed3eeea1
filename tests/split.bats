#!/usr/bin/env bats
# tests/split.bats - where a program shows which worker ran which item
# (basic --who, shared --copies, shared --explicit), every worker that can
# get a chunk gets one: the lesson "an idle worker takes the next chunk"
# is seen, not left to luck. (Without the sleep each item takes under
# --who, the worker that is awake takes a small map whole.)

bats_require_minimum_version 1.5.0
load helpers

# chunks N W: how many chunks pool_map cuts N items into on W workers,
# by CPython's rule ceil(N / ceil(N / (4 W))), as basic --chunks prints.
chunks() {
    run -0 t "$ROOT/basic/basic" --chunks -n "$1" -w "$2"
    grep -c '^  chunk ' <<<"$output"
}

# seen_all WANT KIND GOT: GOT workers of KIND were seen, WANT were due.
seen_all() {
    [ "$3" -eq "$1" ] && return 0
    echo "want: $1 $2 seen (every worker that can get a chunk)"
    echo "got:  $3"
    echo "$output"
    return 1
}

# The cases: items, workers.
CASES='20 2
6 2
20 3
20 4
10 5'

@test "split: basic --who shows every worker, processes and threads" {
    local n w want
    while read -r n w; do
        want=$(chunks "$n" "$w")
        [ "$want" -gt "$w" ] && want=$w
        run -0 t "$ROOT/basic/basic" --who -n "$n" -w "$w"
        seen_all "$want" "worker pids (-n $n -w $w)" \
            "$(grep -oP 'by worker pid \K[0-9]+$' <<<"$output" | sort -u | wc -l)"
        seen_all "$want" "threads (-n $n -w $w)" \
            "$(grep -oP 'by thread \K[0-9]+$' <<<"$output" | sort -u | wc -l)"
    done <<<"$CASES"
}

@test "split: basic --who shows both workers under every start method" {
    local m
    for m in fork spawn forkserver; do
        run -0 t "$ROOT/basic/basic" --who -n 20 -w 2 --start "$m"
        seen_all 2 "worker pids ($m)" \
            "$(grep -oP 'by worker pid \K[0-9]+$' <<<"$output" | sort -u | wc -l)"
    done
}

@test "split: shared --copies and --explicit show every worker's part" {
    local n w want
    while read -r n w; do
        want=$(chunks "$n" "$w")
        [ "$want" -gt "$w" ] && want=$w
        run -0 t "$ROOT/shared/shared" --copies --explicit -n "$n" -w "$w"
        seen_all "$want" "copies (-n $n -w $w)" \
            "$(grep -cP '^    worker pid [0-9]+: its copy holds [1-9][0-9]*$' <<<"$output")"
        seen_all "$want" "appenders (-n $n -w $w)" \
            "$(grep -cP '^  appended by worker pid [0-9]+: [1-9][0-9]*$' <<<"$output")"
    done <<<"$CASES"
}

@test "split: the demo's 'who computed each item' shows both workers" {
    # The line make -C basic demo runs, as it runs it.
    cmd=$(sed -n 's/.*call show,\(basic\/basic --who[^,]*\),.*/\1/p' "$ROOT/basic/Makefile")
    [ -n "$cmd" ] || { echo "no --who line in basic/Makefile's demo"; false; }
    # shellcheck disable=SC2086 # the demo's words
    run -0 t "$ROOT/"$cmd
    seen_all 2 "worker pids ($cmd)" \
        "$(grep -oP 'by worker pid \K[0-9]+$' <<<"$output" | sort -u | wc -l)"
    seen_all 2 "threads ($cmd)" \
        "$(grep -oP 'by thread \K[0-9]+$' <<<"$output" | sort -u | wc -l)"
}

@test "split: the demo's shared --copies and --explicit lines show both workers" {
    local cmd flag
    for flag in --copies --explicit; do
        cmd=$(sed -n "s/.*call show,\(shared\/shared ${flag}[^,]*\),.*/\1/p" "$ROOT/shared/Makefile")
        [ -n "$cmd" ] || { echo "no $flag line in shared/Makefile's demo"; false; }
        # shellcheck disable=SC2086 # the demo's words
        run -0 t "$ROOT/"$cmd
        seen_all 2 "workers ($cmd)" "$(grep -cP '^    worker pid [0-9]+: its copy holds [1-9]|^  appended by worker pid [0-9]+: [1-9]' <<<"$output")"
    done
}

@test "split: a big map under --who or --copies does not crawl: a worker sleeps on 20 items" {
    # 5 ms for each of 100000 items would be minutes; each worker's first
    # 20 items sleep, the rest run at full speed.
    run -0 t "$ROOT/shared/shared" --copies --explicit -n 100000 -w 2
    seen_all 2 "copies (-n 100000 -w 2)" \
        "$(grep -cP '^    worker pid [0-9]+: its copy holds [1-9][0-9]*$' <<<"$output")"
}
