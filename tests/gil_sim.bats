#!/usr/bin/env bats
# tests/gil_sim.bats - gil_sim: the tables, TSV, timeline, SVG and bad flags.
#
# Timing checks run on two shared, noisy cores: each has a wide margin and
# up to five tries, and passes on the first try that meets it.

bats_require_minimum_version 1.5.0
load helpers

G() { t "$ROOT/gil_sim/gil_sim" "$@"; }

# field TSV WORKLOAD MODE COLUMN: one value of gil_sim --tsv output.
field() {
    awk -F'\t' -v wl="$2" -v m="$3" -v c="$4" '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $1 == wl && $2 == m { print $col[c] }' <<<"$1"
}

# below A B LIMIT: A / B < LIMIT.   between A B LO HI: LO <= A / B <= HI.
below() { awk -v a="$1" -v b="$2" -v l="$3" 'BEGIN { exit !(b > 0 && a / b < l) }'; }
between() {
    awk -v a="$1" -v b="$2" -v lo="$3" -v hi="$4" \
        'BEGIN { exit !(b > 0 && a / b >= lo && a / b <= hi) }'
}

# tries CHECK: run the function CHECK up to five times, until it passes.
# Each check prints its figures, which bats shows if all tries fail. A check
# returns 2 when its own figures show that the CPUs were not ours (serial
# code got less than 0.8 of a CPU): such a try proves nothing either way,
# and if every try is like that the test is skipped, not failed.
tries() {
    local try rc busy=0
    for try in 1 2 3 4 5; do
        echo "try $try:"
        rc=0
        "$1" || rc=$?
        [ "$rc" -eq 0 ] && return 0
        [ "$rc" -eq 2 ] && busy=$((busy + 1))
    done
    [ "$busy" -lt 5 ] || skip "the CPUs were busy with other programs in all 5 tries"
    return 1
}

# busy TSV WORKLOAD MODE: did that run get less than 0.8 of a CPU per thread
# it could use? (Another program was using the CPUs.)
busy() {
    local w c
    w=$(field "$1" "$2" "$3" wall_s)
    c=$(field "$1" "$2" "$3" cpu_s)
    if below "$c" "$w" 0.8; then echo "  busy: $3 had $c s of CPU in $w s"; return 0; fi
    return 1
}

# overloaded: the load average over the last minute is above twice the
# CPUs: other programs want more than the machine has, and two CPUs for
# ourselves cannot be expected.
overloaded() {
    local load
    load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null) || return 1
    if awk -v l="$load" -v n="$(nproc)" 'BEGIN { exit !(l > 2 * n) }'; then
        echo "  busy: load average $load on $(nproc) CPUs"
        return 0
    fi
    return 1
}

cpu_gil_like_serial() {
    run -0 G --tsv --workload cpu --work 150
    s=$(field "$output" cpu serial wall_s)
    g=$(field "$output" cpu gil wall_s)
    echo "  serial $s gil $g"
    busy "$output" cpu serial && return 2
    between "$g" "$s" 0.75 1.6
}

cpu_procs_nogil_faster() {
    run -0 G --tsv --workload cpu --work 150
    s=$(field "$output" cpu serial wall_s)
    p=$(field "$output" cpu procs wall_s)
    n=$(field "$output" cpu nogil wall_s)
    echo "  serial $s procs $p nogil $n"
    if busy "$output" cpu serial || overloaded; then return 2; fi
    below "$p" "$s" 0.8 && below "$n" "$s" 0.8
}

cpu_time_per_wall() {
    run -0 G --tsv --workload cpu --work 150
    gw=$(field "$output" cpu gil wall_s)
    gc=$(field "$output" cpu gil cpu_s)
    nw=$(field "$output" cpu nogil wall_s)
    nc=$(field "$output" cpu nogil cpu_s)
    echo "  gil cpu $gc wall $gw, nogil cpu $nc wall $nw"
    if busy "$output" cpu gil || overloaded; then return 2; fi
    below "$gc" "$gw" 1.3 && ! below "$nc" "$nw" 1.3
}

io_overlaps() {
    run -0 G --tsv --workload io --io-ops 5 --io-ms 20
    s=$(field "$output" io serial wall_s)
    g=$(field "$output" io gil wall_s)
    echo "  serial $s gil $g"
    below "$g" "$s" 0.8
}

mixed_convoy() {
    run -0 G --tsv --workload mixed --work 150 --io-ops 10
    g=$(field "$output" mixed gil io_ops_per_s)
    n=$(field "$output" mixed nogil io_ops_per_s)
    echo "  I/O calls/s: gil $g nogil $n"
    below "$g" "$n" 0.7
}

longer_interval_fewer_switches() {
    run -0 G --tsv --workload cpu --mode gil --work 100 --interval 2000
    short=$(field "$output" cpu gil switches)
    run -0 G --tsv --workload cpu --mode gil --work 100 --interval 20000
    long=$(field "$output" cpu gil switches)
    echo "  switches: $short at 2 ms, $long at 20 ms"
    expect_cmp "$short" -gt "$long"
}

@test "gil_sim: -h and --help print the usage on stdout, exit 0" {
    want="usage: gil_sim [-l W] [-m M] [-t N | -w N] [-c MS] [-i US] [--timeline]"
    run -0 --separate-stderr G -h
    [ "${lines[0]}" = "$want" ] || { echo "want: $want"; echo "got:  ${lines[0]}"; false; }
    [[ "$output" == *"--no-force-switching"* ]]
    [ -z "$stderr" ]
    run -0 G --help
    [ "${lines[0]}" = "$want" ] || { echo "want: $want"; echo "got:  ${lines[0]}"; false; }
}

@test "gil_sim: short options, as the other programs have them" {
    run -0 G --tsv -l cpu -m gil -t 3 -c 20 -i 2000
    echo "$output"
    [ "$(field "$output" cpu gil threads)" -eq 3 ]
    [ "$(field "$output" cpu gil interval_us)" -eq 2000 ]
    [ "$(grep -c '^cpu' <<<"$output")" -eq 1 ]
    run -0 G --tsv -l io -m serial -w 4 --io-ops 1 --io-ms 1
    echo "$output"
    [ "$(field "$output" io serial threads)" -eq 4 ]
    run -0 G -l cpu -m gil -c 20
    grep -q '^CPU-bound: 2 threads, each 20 ms of computation$' <<<"$output"
}

@test "gil_sim: every word of the table is explained under it, in 80 columns" {
    run -0 G -l all -c 20 --io-ops 2 --io-ms 5 --timeline
    for word in 'serial:' 'gil:' 'procs:' 'nogil:' 'cpu/wall:' 'switches:' \
        'hold/wait:' 'io_ops/s:' 'forced switching on:'; do
        grep -q -- "$word" <<<"$output" || { echo "not explained: $word"; false; }
    done
    wide=$(awk 'length($0) > 80' <<<"$output")
    [ -z "$wide" ] || { echo "wider than 80 columns:"; echo "$wide"; false; }
}

@test "gil_sim: default run prints a CPU table and an I/O table, four modes each" {
    run -0 G --work 100
    expect_eq "gil_sim: a simulation of the policy of CPython's GIL, not of the interpreter:" "${lines[0]}"
    [ "$(grep -c '^CPU-bound: 2 threads, each 100 ms of computation$' <<<"$output")" -eq 1 ]
    [ "$(grep -c '^I/O-bound: 2 threads' <<<"$output")" -eq 1 ]
    for m in serial gil procs nogil; do
        [ "$(grep -c "^$m " <<<"$output")" -eq 2 ]
    done
    grep -q '^=> with the GIL: [0-9.]*x the serial time, since one thread runs at a time;$' <<<"$output"
    grep -q '^=> I/O-bound threads overlap even with the GIL' <<<"$output"
    # Said once: procs children must not print the parent's buffered lines.
    [ "$(grep -c 'not of the interpreter' <<<"$output")" -eq 1 ]
}

@test "gil_sim: --tsv prints the header and one row per run" {
    run -0 --separate-stderr G --tsv --workload all --work 20 --io-ops 2 --io-ms 5
    expect_eq "$(printf 'workload\tmode\tthreads\twall_s\tcpu_s\tswitches\thold_s\twait_s\tio_s\tdrop_requests\tforced_switches\tio_ops_per_s\tinterval_us')" "${lines[0]}"
    expect_cmp "${#lines[@]}" -eq "13"
    for wl in cpu io mixed; do
        for m in serial gil procs nogil; do
            [ -n "$(field "$output" "$wl" "$m" wall_s)" ]
        done
    done
    [ "$(field "$output" mixed gil threads)" -eq 3 ]
    [ "$(field "$output" cpu gil threads)" -eq 2 ]
    [ "$(field "$output" cpu gil io_ops_per_s)" = "-" ]
    # Every number is a number.
    awk -F'\t' 'NR > 1 { for (i = 3; i <= 11; i++) if ($i !~ /^[0-9]+(\.[0-9]+)?$/) exit 1 }' <<<"$output"
    [ -z "$stderr" ]
}

@test "gil_sim: only threads that share a GIL switch it" {
    run -0 G --tsv --workload cpu --work 60
    [ "$(field "$output" cpu gil switches)" -gt 0 ]
    [ "$(field "$output" cpu gil drop_requests)" -gt 0 ]
    [ "$(field "$output" cpu serial switches)" -eq 0 ]
    [ "$(field "$output" cpu procs switches)" -eq 0 ]
    [ "$(field "$output" cpu nogil switches)" -eq 0 ]
    [ "$(field "$output" cpu nogil drop_requests)" -eq 0 ]
}

@test "gil_sim: CPU-bound threads with the GIL take about as long as serial" {
    tries cpu_gil_like_serial
}

@test "gil_sim: processes and no-GIL threads beat serial on 2+ cores" {
    [ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
    tries cpu_procs_nogil_faster
}

@test "gil_sim: CPU time: about one CPU with the GIL, more without" {
    [ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
    tries cpu_time_per_wall
}

@test "gil_sim: I/O-bound threads overlap even with the GIL" {
    tries io_overlaps
}

@test "gil_sim: mixed: the I/O thread is slower next to CPU threads with the GIL (convoy)" {
    tries mixed_convoy
}

@test "gil_sim: mixed table names its rows and says what it shows" {
    run -0 G --workload mixed --work 60 --io-ops 5
    echo "$output"
    grep -q '^Mixed: 2 CPU-bound threads of 60 ms each and an I/O thread, 5 x (0.2 + 1 ms)$' <<<"$output"
    grep -q 'io_ops/s' <<<"$output"
    grep -q 'the convoy effect' <<<"$output"
}

@test "gil_sim: forced switching can be turned off" {
    # With it, a thread asked to drop waits for the switch unless the new
    # holder was already in (under a sanitizer it always is): any count.
    run -0 G --tsv --workload cpu --mode gil --work 60
    f=$(field "$output" cpu gil forced_switches)
    [ "$f" -ge 0 ] && [ "$f" -le "$(field "$output" cpu gil drop_requests)" ]
    run -0 G --tsv --workload cpu --mode gil --work 60 --no-force-switching
    [ "$(field "$output" cpu gil forced_switches)" -eq 0 ]
    [ "$(field "$output" cpu gil switches)" -gt 0 ]
    run -0 G --workload cpu --mode gil --work 20 --no-force-switching
    grep -q 'forced switching off' <<<"$output"
}

@test "gil_sim: a longer switch interval means fewer switches" {
    tries longer_interval_fewer_switches
}

@test "gil_sim: every thread gets the GIL in turn (4 threads)" {
    run -0 G --tsv --workload cpu --mode gil --threads 4 --work 40
    [ "$(field "$output" cpu gil threads)" -eq 4 ]
    run -0 G --workload cpu --mode gil --threads 4 --work 40
    row=$(grep '^gil ' <<<"$output")
    # Four hold/wait pairs, each thread held the lock for a while.
    [ "$(grep -o '[0-9]*/[0-9]*' <<<"$row" | wc -l)" -eq 4 ]
    echo "row: $row"
    for hold in $(grep -o '[0-9]*/' <<<"$row" | tr -d /); do
        [ "$hold" -ge 20 ] || { echo "want: each hold >= 20 ms"; false; }
    done
}

@test "gil_sim: --timeline draws a row per thread and the GIL holder" {
    run -0 G --workload cpu --mode gil --work 40 --timeline
    grep -q '^timeline, cpu, gil: ' <<<"$output"
    t0=$(grep '^t0 ' <<<"$output")
    t1=$(grep '^t1 ' <<<"$output")
    gil=$(grep '^GIL ' <<<"$output")
    [ "${#t0}" -le 80 ] && [ "${#gil}" -eq 80 ]
    # Each thread both held (#) and waited (.); the holder row shows both.
    [[ "$t0" == *"#"* && "$t0" == *"."* ]]
    [[ "$t1" == *"#"* && "$t1" == *"."* ]]
    [[ "${gil:8}" == *0* && "${gil:8}" == *1* ]]
    grep -q '^legend: # holds the GIL' <<<"$output"
}

@test "gil_sim: --timeline: three threads, three rows; no GIL row without a GIL" {
    run -0 G --workload cpu --mode gil --threads 3 --work 20 --timeline
    [ "$(grep -c '^t[0-9] ' <<<"$output")" -eq 3 ]
    run -0 G --workload cpu --mode nogil --work 20 --timeline
    [ "$(grep -c '^t[0-9] ' <<<"$output")" -eq 2 ]
    [ "$(grep -c '^GIL ' <<<"$output")" -eq 0 ]
    # Nobody waits without a lock.
    [ "$(grep '^t[0-9] ' <<<"$output" | grep -c '\.')" -eq 0 ]
}

@test "gil_sim: --timeline shows I/O with the lock released" {
    run -0 G --workload io --mode gil --io-ops 3 --io-ms 10 --timeline
    grep '^t0 ' <<<"$output" | grep -q '~'
    grep '^t1 ' <<<"$output" | grep -q '~'
    grep '^GIL ' <<<"$output" | grep -q -- '-'
}

@test "gil_sim: --svg writes a well-formed picture with a legend and an axis" {
    svg=$BATS_TEST_TMPDIR/gil.svg
    run -0 G --workload all --work 20 --io-ops 2 --io-ms 5 --svg "$svg"
    [ -s "$svg" ]
    head -1 "$svg" | grep -q '^<?xml'
    grep -q '<svg xmlns="http://www.w3.org/2000/svg"' "$svg"
    [ "$(tail -1 "$svg")" = "</svg>" ]
    grep -q 'not of the interpreter' "$svg"
    grep -q 'waits for the GIL' "$svg"
    grep -q '>ms</text>' "$svg"
    [ "$(grep -c 'font-weight="bold"' "$svg")" -eq 12 ]
    # Every colour in the legend: the states, and each thread of the GIL row.
    for t in t0 t1 t2; do grep -q "/><text [^>]*>$t</text>" "$svg" || { echo "no $t"; false; }; done
    grep -q 'in I/O, GIL released' "$svg"
    grep -q 'wrote the timelines to' <<<"$output"
    if command -v xmllint >/dev/null; then
        run -0 xmllint --noout "$svg"
    fi
}

@test "gil_sim: --svg is readable on a projector: 1280 px wide, 16 px text, every colour of the legend drawn" {
    svg=$BATS_TEST_TMPDIR/gil.svg
    run -0 G --workload all --svg "$svg"
    expect_glob "$(sed -n 2p "$svg")" '<svg * width="1280" height="*" * font-size="16">'
    local height
    height=$(sed -n 2p "$svg" | sed 's/.* height="\([0-9]*\)".*/\1/')
    expect_cmp "$height" -le 1200
    # The legend's thread colours: distinct, and each drawn in a chart
    # (a thread that held the GIL for less than a pixel still shows).
    local legend fill
    legend=$(grep -o 'y="84" width="16" height="16" fill="#[0-9a-f]*"' "$svg" | grep -o '#[0-9a-f]*')
    expect_cmp "$(wc -l <<<"$legend")" -eq 3
    expect_eq "$(sort -u <<<"$legend" | wc -l)" "$(wc -l <<<"$legend")"
    for fill in $legend; do
        expect_cmp "$(grep -c "height=\"16\" fill=\"$fill\"/>\$" "$svg")" -ge 2 ||
            { echo "legend colour $fill never drawn"; false; }
    done
    # An I/O thread's short holds are drawn, not lost under the pixels.
    expect_cmp "$(grep -c 'fill="#2e7d32"' "$svg")" -ge 20
}

@test "gil_sim: --svg draws the runs of one workload on one time scale" {
    svg=$BATS_TEST_TMPDIR/gil.svg
    run -0 G -l cpu -c 40 --svg "$svg"
    # The four runs share one scale, so one axis under the last of them,
    # reaching the longest run's time; with every workload, an axis each.
    ends() {
        grep -o 'text-anchor="middle">[0-9.]*<' "$1" | tr -dc '0-9.\n' |
            awk 'NR > 1 && $1 + 0 < prev + 0 { print prev } { prev = $1 } END { print prev }'
    }
    echo "last tick of each axis: $(ends "$svg")"
    expect_cmp "$(ends "$svg" | wc -l)" -eq 1
    longest=$(grep -o 'font-weight="bold">[^<]*: [0-9.]* ms<' "$svg" |
        sed 's/.*: \([0-9.]*\) ms</\1/' | sort -g | tail -1)
    awk -v tick="$(ends "$svg")" -v ms="$longest" 'BEGIN { exit !(tick + 0 >= ms * 0.8) }' ||
        { echo "the axis ends at $(ends "$svg") ms, the longest run took $longest ms"; false; }
    run -0 G --workload all -c 20 --io-ops 2 --io-ms 5 --svg "$svg"
    expect_cmp "$(ends "$svg" | wc -l)" -eq 3
}

@test "gil_sim: --svg to a path that cannot be written fails at once (exit 1)" {
    run -1 --separate-stderr G --svg "$BATS_TEST_TMPDIR/no/such/dir/x.svg"
    [[ "$stderr" == "gil_sim: $BATS_TEST_TMPDIR/no/such/dir/x.svg: No such file or directory" ]]
    [ -z "$output" ]
}

@test "gil_sim: a procs child that dies fails the run (exit 1), nothing left behind" {
    "$ROOT/gil_sim/gil_sim" --workload cpu --mode procs --work 20000 \
        >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
    pid=$!
    kids=()
    for _ in $(seq 200); do
        read -ra kids <<<"$(ps -o pid= --ppid "$pid" | tr '\n' ' ')"
        [ "${#kids[@]}" -ge 2 ] && break
        sleep 0.05
    done
    expect_cmp "${#kids[@]}" -eq "2"
    kill -9 "${kids[0]}"
    # gil_sim must notice, stop the other child and exit, long before the
    # 20 s of work it was given.
    for _ in $(seq 200); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" "${kids[@]}"
        false
    fi
    run -1 wait "$pid"
    want="gil_sim: the process running thread 0 was killed by signal 9 (Killed)"
    got=$(cat "$BATS_TEST_TMPDIR/err")
    [ "$got" = "$want" ] || { echo "want: $want"; echo "got:  $got"; false; }
    for k in "${kids[@]}"; do
        run ! kill -0 "$k"
    done
}

@test "gil_sim: bad numbers are usage errors (exit 2)" {
    usage_errors "$ROOT/gil_sim/gil_sim" <<'EOF_CASES'
--threads|--threads needs a value
--threads abc|--threads: expected a positive integer, got 'abc'
--threads 0|--threads: expected a positive integer, got '0'
--threads -2|--threads: expected a positive integer, got '-2'
--threads 99999999999999999999|--threads: 99999999999999999999 is too large (at most 64)
--threads 65|--threads: 65 is too large (at most 64)
--threads 1.5|--threads: expected a positive integer, got '1.5'
--work|--work needs a value
--work 0|--work: expected a positive integer, got '0'
--work 2.5|--work: expected a positive integer, got '2.5'
--work -1|--work: expected a positive integer, got '-1'
--work 99999999999999999999|--work: 99999999999999999999 is too large (at most 60000)
--interval 0|--interval: expected a positive integer, got '0'
--interval fast|--interval: expected a positive integer, got 'fast'
--interval 0.005|--interval: expected a positive integer, got '0.005'
--interval 99999999999999999999|--interval: 99999999999999999999 is too large (at most 10000000)
--io-ops 0|--io-ops: expected a positive integer, got '0'
--io-ops -5|--io-ops: expected a positive integer, got '-5'
--io-ms 0|--io-ms: expected a positive integer, got '0'
--io-ms 1.5|--io-ms: expected a positive integer, got '1.5'
--io-ms|--io-ms needs a value
EOF_CASES
}

@test "gil_sim: bad names, unknown flags and stray arguments are usage errors (exit 2)" {
    usage_errors "$ROOT/gil_sim/gil_sim" <<'EOF_CASES'
--mode fast|--mode: expected serial, gil, procs, nogil or all, got 'fast'
--mode|--mode needs a value
--workload disk|--workload: expected cpu, io, mixed or all, got 'disk'
--workload|--workload needs a value
--svg|--svg needs a value
--bogus|unknown option '--bogus'
-x|unknown option '-x'
stray|unexpected argument 'stray'
--work 10 stray|unexpected argument 'stray'
--tsv --timeline|--tsv and --timeline do not mix (try --svg FILE)
EOF_CASES
    run -2 --separate-stderr G --mode ''
    expect_eq "gil_sim: --mode: expected serial, gil, procs, nogil or all, got ''" "${stderr_lines[0]}"
    [ -z "$output" ]
}
