#!/usr/bin/env bats
# tests/plat.bats - plat_test: the process pool's shared regions. Shapes
# only: the rows are there, every map's results are right (the driver
# checks each round, and `check` maps every size through both paths), a
# worker killed between maps costs nothing, regions leave no descriptor
# behind, an idle pool stops spinning, POOL_SPIN_US=0 is the socket only.
#
# No speed is checked: on two shared cores the figures say more about the
# neighbours than about the pool. docs/spinning.md has them.

bats_require_minimum_version 1.5.0
load helpers

P() { t "$ROOT/tests/plat_test" "$@"; }

@test "plat: map prints the process rows, and OpenMP's when built with it" {
    run -0 P -q map
    echo "$output"
    want="map: x*x over 1000 longs, 2 workers (fork), pool opened once, default chunksize"
    [ "${lines[0]}" = "$want" ] || { echo "want: $want"; echo "got:  ${lines[0]}"; false; }
    for name in "processes" "processes, POOL_SPIN_US=0"; do
        read -r med _ _ _ sl <<<"$(table_row "$name")"
        [[ "$med" =~ ^[0-9]+\.[0-9]+$ && "$sl" =~ ^[0-9]+\.[0-9]+$ ]] ||
            { echo "row '$name': want a median and sleeps, got '$(table_row "$name")'"; false; }
    done
    openmp_rows 1
}

@test "plat: with POOL_SPIN_US=0 every chunk goes through the socket, with sleeps" {
    run -0 P -q map
    read -r _ _ _ _ sl <<<"$(table_row "processes, POOL_SPIN_US=0")"
    echo "sleeps per map (8 chunks, each a round trip): want >= 2, got '$sl'"
    awk -v v="$sl" 'BEGIN { exit !(v >= 2) }'
}

@test "plat: every size, both paths, a worker killed between maps: all right, every method" {
    for m in fork spawn forkserver; do
        run -0 P --start "$m" -r 2 check
        echo "$output"
        [ "$(grep -c "($m): every result right" <<<"$output")" -eq 3 ] ||
            { echo "want 3 lines 'every result right' for $m"; false; }
    done
}

@test "plat: a forked pool's region is mapped once in each of its processes, and no memfd stays open" {
    local m q
    for m in fork spawn forkserver; do
        # A forked pool and its workers share one region; fresh images
        # have none, and neither has the build without the fast layer.
        q=0; [ "$m" = fork ] && [ "${POOL_FAST:-1}" != 0 ] && q=1
        run -0 P --start "$m" fds
        echo "$m:"; echo "$output"
        want="caller: $q region mappings, 0 memfd descriptors"
        [ "${lines[0]}" = "$want" ] || { echo "want: $want"; echo "got:  ${lines[0]}"; false; }
        # Two workers, and under forkserver the server too (with none).
        local procs=2; [ "$m" = forkserver ] && procs=3
        n=$(grep -Ec "^(child|grandchild): $q region mappings, 0 memfd" <<<"$output")
        [ "$n" -eq "$procs" ] || { echo "want $procs processes with $q region mappings each, got $n"; false; }
        want="caller's child: 0 region mappings, 0 memfd descriptors"
        [ "${lines[-2]}" = "$want" ] || { echo "want: $want"; echo "got:  ${lines[-2]}"; false; }
        want="caller: 0 region mappings, 0 memfd descriptors"
        [ "${lines[-1]}" = "$want" ] || { echo "after free, want: $want"; echo "got:  ${lines[-1]}"; false; }
        run -1 grep -E '[1-9][0-9]* memfd descriptors' <<<"$output"
    done
}

@test "plat: POOL_SPIN_US=0 makes no region at all" {
    POOL_SPIN_US=0 run -0 P fds
    echo "$output"
    run -1 grep -E '[1-9][0-9]* region mappings' <<<"$output"
}

@test "plat: an idle pool stops spinning: under 20% of a CPU over 0.5 s" {
    run -0 P -r 3 idle
    echo "$output"
    pct=$(sed -n 's/^  over the 0.5 s: \([0-9.]*\)% of one CPU$/\1/p' <<<"$output")
    echo "want < 20 (the goal is < 2, on a quiet machine), got '$pct'"
    awk -v v="$pct" 'BEGIN { exit !(v != "" && v < 20) }'
}

@test "plat: any POOL_SPIN_US, even a bad one, maps right" {
    any_spin_maps plat_test processes
}

@test "plat: more workers than CPUs map right" {
    run -0 P -q -r 1 -w 6 crowd
    echo "$output"
    [ "$(grep -c '^  processes' <<<"$output")" -eq 2 ]
}

@test "plat: a bad mode or option is a usage error" {
    usage_errors "$ROOT/tests/plat_test" <<'EOF'
|expected one mode: map, idle, crowd, check or fds
nosuch|unknown mode 'nosuch' (map, idle, crowd, check or fds)
-r 0 map|-r: expected a positive integer, got '0'
EOF
}
