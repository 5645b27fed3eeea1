#!/bin/sh
# common/present.sh STOPFILE - make present's pause before each command.
#
# Exit 0: run the next command. When standard input is a terminal, wait for
# Enter first; q, Q or quit (then Enter), or the end of input, stop the
# presentation: STOPFILE is made, and from then on every call exits 1, so
# the commands left are skipped. When standard input is not a terminal,
# run straight through, as make demo does.
[ -e "$1" ] && exit 1
[ -t 0 ] || exit 0
printf -- '-- Enter: next command; q: stop ' >&2
if read -r answer; then
    case $answer in
    q | Q | quit | Quit | QUIT) ;;
    *) exit 0 ;;
    esac
fi
: >"$1"
exit 1
