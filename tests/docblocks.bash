# tests/docblocks.bash - the runs the pages show, read from the pages and
# run again: what docs.bats and exercises.bats load.
#
# A shown run is a fenced block whose first line is "$ COMMAND": each
# "$ " line a command (carried on over the next lines until bash can parse
# it), the lines under it what it printed. The line just before the fence
# says how the run is checked:
#
#   (nothing)                    exact: the same lines, byte for byte
#   <!-- check: shape -->        the same lines with every number as '#'
#                                and spaces folded (pids, timings and
#                                counts may change)
#   <!-- check: none, REASON --> not run (timings that vary, minutes of
#                                run time, root, a build); REASON says why
#
# In exact and shape, a line "..." stands for any lines, none included. A
# block that shows no output at all lists commands to type: not a run.

# doc_runs PAGE DIR: write each command of PAGE's shown runs into DIR as
# N.cmd (the command), N.want (what the page shows it printed), N.mode
# (exact, shape or none) and N.where (PAGE:LINE "the command").
doc_runs() {
    local page=$1 dir=$2 line prev='' at=0 fence=0 run=0 mode n=0 first=0
    local cmd='' open=0 shows=0 start
    local -a cmds=() wants=() wheres=()
    while IFS= read -r line || [ -n "$line" ]; do
        at=$((at + 1))
        if [ "$fence" -eq 0 ]; then
            if [[ $line == '```'* ]]; then
                fence=1 run=0 first=1 open=0 shows=0 cmds=() wants=() wheres=()
                mode=exact
                [[ $prev =~ ^'<!-- check: '(shape|none) ]] && mode=${BASH_REMATCH[1]}
            fi
            prev=$line
            continue
        fi
        if [[ $line == '```'* ]] && [ "$open" -eq 0 ]; then
            fence=0 prev=$line
            if [ "$run" -ne 1 ] || [ "$shows" -ne 1 ]; then continue; fi
            local k
            for k in "${!cmds[@]}"; do
                n=$((n + 1))
                printf '%s\n' "${cmds[k]}" >"$dir/$n.cmd"
                printf '%s' "${wants[k]}" >"$dir/$n.want"
                printf '%s\n' "$mode" >"$dir/$n.mode"
                printf '%s\n' "${wheres[k]}" >"$dir/$n.where"
            done
            continue
        fi
        if [ "$first" -eq 1 ]; then
            first=0
            [[ $line == '$ '* ]] && run=1
        fi
        [ "$run" -eq 1 ] || continue
        if [ "$open" -eq 1 ]; then
            cmd+=$'\n'$line
        elif [[ $line == '$ '* ]]; then
            cmd=${line#\$ } start=$at
            cmds+=("") wants+=("") wheres+=("")
        else
            wants[-1]+=$line$'\n'
            shows=1
            continue
        fi
        if bash -n -c "$cmd" 2>/dev/null; then
            open=0
            cmds[-1]=$cmd
            wheres[-1]="$page:$start \$ ${cmd%%$'\n'*}"
        else
            open=1
        fi
    done <"$page"
}

# same_lines WANT GOT: GOT's lines are WANT's, where a WANT line "..."
# stands for any lines (none included).
same_lines() {
    local -a w g
    local i=0 j=0
    mapfile -t w <<<"$1"
    mapfile -t g <<<"$2"
    while [ "$i" -lt "${#w[@]}" ]; do
        if [ "${w[i]}" = "..." ]; then
            i=$((i + 1))
            [ "$i" -lt "${#w[@]}" ] || return 0
            while [ "$j" -lt "${#g[@]}" ] && [ "${g[j]}" != "${w[i]}" ]; do
                j=$((j + 1))
            done
            [ "$j" -lt "${#g[@]}" ] || return 1
        elif [ "$j" -ge "${#g[@]}" ] || [ "${w[i]}" != "${g[j]}" ]; then
            return 1
        fi
        i=$((i + 1)) j=$((j + 1))
    done
    [ "$j" -eq "${#g[@]}" ]
}

# numbers_masked TEXT: TEXT with every run of digits as '#', and every run
# of spaces as one (a table's columns move with the widths of its numbers).
numbers_masked() {
    sed -E 's/[0-9]+/#/g; s/ +/ /g' <<<"$1"
}

# check_runs DIR: run every exact and shape command in DIR from the
# project root (on 2 CPUs where there are more, as the pages were made;
# a python3 command only where python3 is installed); show each one that printed something else, expected and got, and fail
# if any did.
check_runs() {
    local dir=$1 f cmd want got mode bad=0 pin=()
    if [ "$(nproc)" -gt 2 ] && command -v taskset >/dev/null; then
        pin=(taskset -c "0,1")
    fi
    for f in "$dir"/*.cmd; do
        [ -e "$f" ] || continue
        mode=$(cat "${f%.cmd}.mode")
        [ "$mode" != none ] || continue
        cmd=$(cat "$f")
        [[ $cmd != python3\ * ]] || command -v python3 >/dev/null || continue
        want=$(cat "${f%.cmd}.want")
        got=$(cd "$ROOT" && t "${pin[@]}" bash -c "$cmd" 2>&1)
        if [ "$mode" = shape ]; then
            want=$(numbers_masked "$want")
            got=$(numbers_masked "$got")
        fi
        same_lines "$want" "$got" && continue
        echo "$(cat "${f%.cmd}.where") ($mode)"
        expect_eq "$want" "$got" || true
        bad=$((bad + 1))
    done
    [ "$bad" -eq 0 ] || { echo "$bad shown run(s) out of date"; false; }
}
