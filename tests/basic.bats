#!/usr/bin/env bats
# tests/basic.bats - basic: the tutorial's output, byte for byte, and its flags.

bats_require_minimum_version 1.5.0
load helpers

B() { t "$ROOT/basic/basic" "$@"; }

@test "basic: prints the tutorial's four lines exactly" {
    run -0 B
    expected='Running a pool of processes...
Processes pool results: [1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880]
Running a pool of threads...
Threads pool results: [1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880]'
    expect_eq "$expected" "$output"
}

@test "basic: same output with one worker and with many" {
    run -0 B -w 1
    expect_eq "Processes pool results: [1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880]" "${lines[1]}"
    run -0 B --workers 16
    expect_eq "Threads pool results: [1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880]" "${lines[3]}"
}

@test "basic: -n 21 reaches 20!, the largest that fits in 64 bits" {
    run -0 B -n 21
    [[ "${lines[1]}" == *", 121645100408832000, 2432902008176640000]" ]]
}

@test "basic: -n 25: 21! overflows: ERANGE, exit 1, and why Python differs" {
    run -1 --separate-stderr B -n 25
    expect_eq "Running a pool of processes..." "${lines[0]}"
    expect_cmp "${#lines[@]}" -eq "1"
    # The first failure to arrive: the chunk holding 21 stops there, and
    # item 24 is a chunk of its own (chunksize 4 on 2 workers, 2 on more).
    [[ "${stderr_lines[0]}" =~ ^basic:\ Processes\ pool:\ item\ (2[1-4])\ failed:\ Numerical\ result\ out\ of\ range ]] ||
        { echo "got: ${stderr_lines[0]}"; false; }
    expect_eq "  21! and up do not fit in 64 bits: C's limit, not Python's. Python's
  int grows as needed: there the map prints every factorial, exit 0." \
        "$(printf '%s\n' "${stderr_lines[@]: -2}")"
}

@test "basic: --who names a worker for every item" {
    run -0 B --who -n 8 -w 2
    [ "$(grep -c 'by worker pid [0-9]*$' <<<"$output")" -eq 8 ]
    [ "$(grep -c 'by thread [0-9]*$' <<<"$output")" -eq 8 ]
    # Two workers at most, and each a process other than ours.
    [ "$(grep -o 'pid [0-9]*' <<<"$output" | sort -u | wc -l)" -le 2 ]
}

@test "basic: bad input: a one-line reason and the usage on stderr, exit 2" {
    usage_errors "$ROOT/basic/basic" <<'EOF_CASES'
-n 0|--items: expected a positive integer, got '0'
-n 1e3|--items: expected a positive integer, got '1e3'
-n 2000000|--items: 2000000 is too large (at most 1000000)
-n|-n needs a value
--workers|--workers needs a value
EOF_CASES
}

@test "basic: no worker outlives the program, whatever the start method" {
    for m in fork spawn forkserver; do
        leaves_nothing "$ROOT/basic/basic" -n 20 -w 4 --start "$m"
    done
}

@test "basic: the same four lines under every start method" {
    run -0 B
    want=$output
    for m in fork spawn forkserver; do
        run -0 B --start "$m"
        expect_eq "$want" "$output"
    done
}
