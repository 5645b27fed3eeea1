# tests/helpers.bash - what every bats file loads: where things are, and a
# bounded way to run them.

# The project root, found from this file's folder (tests/).
ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
export ROOT

# Seconds any one command may take before it counts as hung.
: "${T_LIMIT:=60}"

# t CMD ARGS...: run CMD bounded by timeout. A hang ends in exit 124 (or 137
# when it also ignores SIGTERM), which no test expects, so it fails loudly.
t() {
    timeout -k 5 "$T_LIMIT" "$@"
}

# processes_named NAME: how many processes run the program NAME right now.
processes_named() {
    local n
    n=$(pgrep -xc "$1" 2>/dev/null) || true
    echo "${n:-0}"
}

# is_perm_of_range OUTPUT N: OUTPUT is "[a, b, ...]" holding 0..N-1, each once.
is_perm_of_range() {
    local got want
    got=$(printf '%s\n' "$1" | tr -d '[] ' | tr ',' '\n' | sort -n | tr '\n' ' ')
    want=$(seq 0 $(($2 - 1)) | tr '\n' ' ')
    [ "$got" = "$want" ]
}

# usage_errors PROG: each line "ARGS|MESSAGE" on stdin is a bad command line
# for PROG. Each must exit 2 with nothing on stdout, and on stderr the line
# "NAME: MESSAGE" followed by the usage. ARGS are split on spaces.
usage_errors() {
    local prog=$1 name args want
    name=$(basename "$prog")
    while IFS='|' read -r args want; do
        # shellcheck disable=SC2086
        run -2 --separate-stderr t "$prog" $args
        [ -z "$output" ] || { echo "args '$args': stdout '$output'"; return 1; }
        [ "${stderr_lines[0]}" = "$name: $want" ] || {
            echo "args '$args': got '${stderr_lines[0]}'"; return 1; }
        [[ "${stderr_lines[1]}" == usage:* ]] || {
            echo "args '$args': no usage after the message"; return 1; }
    done
}

# expect_eq WANT GOT: the two strings are equal; otherwise show both, and
# where they part, so a failing test says what it expected and what came.
expect_eq() {
    [ "$1" = "$2" ] && return 0
    printf 'expected:\n%s\ngot:\n%s\ndiff (expected -> got):\n' "$1" "$2"
    diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") || true
    return 1
}

# expect_cmp A OP B: the numbers compare (OP: -eq -ne -lt -le -gt -ge);
# otherwise say what was expected and what came.
expect_cmp() {
    test "$1" "$2" "$3" && return 0
    printf 'expected: %s %s %s\ngot: %s\n' "$1" "$2" "$3" "$1"
    return 1
}

# expect_glob GOT PATTERN: GOT matches the shell pattern; otherwise show both.
expect_glob() {
    # shellcheck disable=SC2053 # the pattern is a glob on purpose
    [[ $1 == $2 ]] && return 0
    printf 'expected a match of:\n%s\ngot:\n%s\n' "$2" "$1"
    return 1
}

# leaves_nothing PROG ARGS...: run PROG (bounded, exit 0) in a session of
# its own, then wait (up to 5 s) until no process of that session is left:
# a worker, a fork server or a child that outlived PROG would be. Unlike a
# count by name, other runs of the same program elsewhere do not count.
# PROG's output goes to a file, so a leftover holding it cannot stall us;
# it is in $output and $lines afterwards, as after `run`.
leaves_nothing() {
    local sidfile=$BATS_TEST_TMPDIR/sid.$$ out=$BATS_TEST_TMPDIR/out.$$ sid
    # shellcheck disable=SC2016 # "$1" is for the inner shell
    run t setsid --wait bash -c 'echo $$ >"$1"; exec "${@:3}" >"$2" 2>&1' \
        _ "$sidfile" "$out" "$@"
    [ "$status" -eq 0 ] || { echo "$* exited $status:"; cat "$out"; return 1; }
    output=$(cat "$out")
    # shellcheck disable=SC2034 # for the caller, as run sets it
    mapfile -t lines <<<"$output"
    sid=$(cat "$sidfile")
    for _ in $(seq 50); do
        pgrep -s "$sid" >/dev/null || return 0
        sleep 0.1
    done
    echo "left behind by $*: $(pgrep -a -s "$sid")"
    return 1
}

# table_row NAME: the numbers of the row NAME of a latency_test or plat_test
# table in $output (median, min, max, ratio, then the counts per map),
# space-separated.
table_row() {
    grep -F "  $1  " <<<"$output" | head -1 | sed "s/^  $1 *//" |
        tr -d '()x-' | tr -s ' ' | sed 's/ us / /; s/^ //'
}

# any_spin_maps DRIVER KIND: DRIVER (latency_test or plat_test) maps right
# under any POOL_SPIN_US, even a bad one: its KIND rows are all there (the
# driver itself checks every result).
any_spin_maps() {
    local spin
    for spin in 0 1 50 1000000 -5 abc ''; do
        POOL_SPIN_US=$spin run -0 t "$ROOT/tests/$1" -q -r 1 map
        [[ "$output" == *"$2, POOL_SPIN_US=0"* ]] ||
            { echo "POOL_SPIN_US='$spin': no rows"; echo "$output"; return 1; }
    done
}

# openmp_rows N: $output (a latency_test or plat_test table) has N OpenMP
# rows, or none and says it was built without -fopenmp.
openmp_rows() {
    local got
    got=$(grep -c "^  openmp dynamic,125" <<<"$output" || true)
    if grep -q 'no OpenMP row' <<<"$output"; then
        [ "$got" -eq 0 ] || { echo "OpenMP rows in a build without it"; return 1; }
    else
        [ "$got" -eq "$1" ] || { echo "want $1 OpenMP rows, got $got"; return 1; }
    fi
}
