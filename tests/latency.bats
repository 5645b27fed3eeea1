#!/usr/bin/env bats
# tests/latency.bats - latency_test: a small map on an open thread pool,
# what an idle pool burns, and a crowd of workers. Shapes only: the rows are
# there, every map's results are right (the driver checks each round), an
# idle pool stops spinning, and POOL_SPIN_US=0 turns spinning off.
#
# No speed is checked: on two shared cores the figures say more about the
# neighbours than about the pool. docs/spinning.md has the figures.

bats_require_minimum_version 1.5.0
load helpers

L() { t "$ROOT/tests/latency_test" "$@"; }

@test "latency: map prints the thread rows, and the OpenMP rows when built with it" {
    run -0 L -q map
    echo "$output"
    expect_eq "map: x*x over 1000 longs, 2 workers, pool opened once, default chunksize" "${lines[0]}"
    for name in "threads" "threads, POOL_SPIN_US=0"; do
        read -r med _ _ _ vol inv <<<"$(table_row "$name")"
        [[ "$med" =~ ^[0-9]+\.[0-9]+$ && "$vol" =~ ^[0-9.]+$ && "$inv" =~ ^[0-9.]+$ ]] ||
            { echo "row '$name': want a median and two counts, got '$(table_row "$name")'"; false; }
    done
    openmp_rows 2
}

@test "latency: with POOL_SPIN_US=0 the pool sleeps between maps" {
    run -0 L -q map
    read -r _ _ _ _ vol _ <<<"$(table_row "threads, POOL_SPIN_US=0")"
    echo "sleeps (voluntary switches) per map: want >= 0.5, got '$vol'"
    awk -v v="$vol" 'BEGIN { exit !(v >= 0.5) }'
}

@test "latency: any POOL_SPIN_US, even a bad one, maps right" {
    any_spin_maps latency_test threads
}

@test "latency: an idle pool stops spinning (wide margin: under 20% of a CPU)" {
    run -0 L -q idle
    echo "$output"
    pct=$(sed -n 's/^  over the 0.5 s: \([0-9.]*\)% of one CPU$/\1/p' <<<"$output")
    [ -n "$pct" ] || { echo "no 'over the 0.5 s' line"; false; }
    echo "want < 20, got $pct"
    awk -v p="$pct" 'BEGIN { exit !(p < 20) }'
}

@test "latency: POOL_SPIN_US=0: an idle pool burns nothing at all (< 1%)" {
    POOL_SPIN_US=0 run -0 L -q idle
    pct=$(sed -n 's/^  over the 0.5 s: \([0-9.]*\)% of one CPU$/\1/p' <<<"$output")
    echo "want < 1, got '$pct'"
    awk -v p="$pct" 'BEGIN { exit !(p != "" && p < 1) }'
}

@test "latency: on one CPU nothing spins, even with POOL_SPIN_US=1000000 (< 1%)" {
    command -v taskset >/dev/null || skip "taskset not installed"
    POOL_SPIN_US=1000000 run -0 t taskset -c 0 "$ROOT/tests/latency_test" -q idle
    pct=$(sed -n 's/^  over the 0.5 s: \([0-9.]*\)% of one CPU$/\1/p' <<<"$output")
    echo "want < 1, got '$pct'"
    awk -v p="$pct" 'BEGIN { exit !(p != "" && p < 1) }'
}

@test "latency: crowd: 4 workers a CPU, and beside busy processes, maps finish" {
    # Its busy processes and its pool's threads are gone when it ends.
    leaves_nothing "$ROOT/tests/latency_test" -q crowd
    echo "$output"
    cpus=$(nproc)
    expect_eq "crowd: $((4 * cpus)) workers on $cpus CPUs" "${lines[0]}"
    grep -q "^crowd: 2 workers beside $cpus busy processes$" <<<"$output"
    [ "$(grep -c '^  threads' <<<"$output")" -eq 4 ]
}

@test "latency: bad usage: one line and the usage, exit 2" {
    usage_errors "$ROOT/tests/latency_test" <<'EOF_CASES'
|expected one mode: map, idle or crowd
walk|unknown mode 'walk' (map, idle or crowd)
-r 0 map|-r: expected a positive integer, got '0'
-r 99 map|-r: 99 is too large (at most 63)
-w x map|--workers: expected a positive integer, got 'x'
-z map|unknown option '-z'
EOF_CASES
}
