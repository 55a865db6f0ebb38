#!/usr/bin/env bash
# Measures a terminal program at idle, or in a session it is driven through by keys: starts
# it in a detached tmux session (120x40, or -s COLSxROWS) on a private tmux server, lets it
# start up, sends the keys of -k (tmux send-keys names, separated by spaces) and waits
# SETTLE_SECONDS, then prints its average CPU (percent of one core, from utime+stime in
# /proc/<pid>/stat) over the measuring window and its peak RSS (VmHWM). Only the program's
# own process is measured, not its children.
#
#   scripts/measure-idle.sh [-n NAME] [-s COLSxROWS] [-k KEYS] COMMAND [ARG...]
#   scripts/measure-idle.sh target/release/conlab
#   scripts/measure-idle.sh -n htop htop -d 5
#   scripts/measure-pool64.sh          (the dashboard watching a pool of 64 processes)
#
# Output: `NAME: cpu X.XX% of one core, peak RSS Y.Y MiB` (NAME defaults to the command line).
# Environment: STARTUP_SECONDS (default 2), SETTLE_SECONDS (default 2, only with -k),
# MEASURE_SECONDS (default 20).
# The CPU figure has the resolution of one clock tick (1/CLK_TCK s) over the window, e.g.
# 0.05% of one core for 100 ticks/s over 20 s. Run by hand, on a machine that is otherwise
# quiet; the tmux session and the program are ended on exit, including on Ctrl-C.

set -euo pipefail

usage() {
    echo "usage: $0 [-n NAME] [-s COLSxROWS] [-k KEYS] COMMAND [ARG...]" >&2
    exit 2
}

name=""
size="120x40"
keys=""
while getopts "n:s:k:h" opt; do
    case $opt in
    n) name=$OPTARG ;;
    s) size=$OPTARG ;;
    k) keys=$OPTARG ;;
    *) usage ;;
    esac
done
[[ $size =~ ^([0-9]+)x([0-9]+)$ ]] || usage
cols=${BASH_REMATCH[1]}
rows=${BASH_REMATCH[2]}
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
[ -n "$name" ] || name="$*"

startup=${STARTUP_SECONDS:-2}
window=${MEASURE_SECONDS:-20}
tck=$(getconf CLK_TCK)

# A private server (own socket), so other tmux sessions on this machine are never touched.
socket="measure-idle-$$"
socket_path="${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$socket"
pid=""

cleanup() {
    local status=$?
    trap - EXIT INT TERM HUP
    tmux -L "$socket" kill-server 2>/dev/null || true
    rm -f "$socket_path"
    # The program is the pane's process, a child of the tmux server; wait for it to go
    # (the server reaps it on SIGHUP), and kill it outright if it will not.
    if [ -n "$pid" ]; then
        local i
        for i in $(seq 50); do
            [ -e "/proc/$pid" ] || break
            [ "$(proc_state "$pid")" != Z ] || break
            [ "$i" -lt 30 ] || kill -KILL "$pid" 2>/dev/null || true
            sleep 0.1
        done
        if [ -e "/proc/$pid" ] && [ "$(proc_state "$pid")" != Z ]; then
            echo "$0: pid $pid is still alive" >&2
            status=1
        fi
    fi
    exit "$status"
}

on_signal() {
    echo "$0: interrupted" >&2
    exit 130
}

# Fields after the command name (which may hold spaces and parentheses): state is the 1st,
# utime the 12th, stime the 13th (fields 3, 14 and 15 of proc(5)).
stat_fields() {
    local text
    text=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    echo "${text##*) }"
}

proc_state() {
    local fields
    fields=$(stat_fields "$1") || return 0
    echo "${fields%% *}"
}

cpu_ticks() {
    local fields
    fields=$(stat_fields "$1") || return 1
    # shellcheck disable=SC2086 # split the fields on purpose
    set -- $fields
    echo $((${12} + ${13}))
}

trap cleanup EXIT
trap on_signal INT TERM HUP

# remain-on-exit keeps the pane (and what it printed) if the program fails to start.
pid=$(tmux -L "$socket" -f /dev/null new-session -d -x "$cols" -y "$rows" -s measure \
    -P -F '#{pane_pid}' -- "$@" \; set-option -t measure remain-on-exit on)

# Sleep in the background and wait, so a signal runs the trap at once.
sleep "$startup" &
wait $!

state=$(proc_state "$pid")
if [ -z "$state" ] || [ "$state" = Z ]; then
    echo "$0: '$*' exited during start-up; its screen:" >&2
    tmux -L "$socket" capture-pane -p -t measure 2>/dev/null | sed '/^$/d' >&2 || true
    exit 1
fi
if [ -n "$keys" ]; then
    # shellcheck disable=SC2086 # one tmux key name a word, on purpose
    tmux -L "$socket" send-keys -t measure $keys
    sleep "${SETTLE_SECONDS:-2}" &
    wait $!
fi
echo "measuring pid $pid ($(cat "/proc/$pid/comm")) for ${window} s" >&2

ticks_before=$(cpu_ticks "$pid")
t_before=$EPOCHREALTIME
sleep "$window" &
wait $!
ticks_after=$(cpu_ticks "$pid") || {
    echo "$0: pid $pid ended during the measurement" >&2
    exit 1
}
t_after=$EPOCHREALTIME
hwm_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")

awk -v name="$name" -v ticks=$((ticks_after - ticks_before)) -v tck="$tck" \
    -v t0="$t_before" -v t1="$t_after" -v kib="$hwm_kib" 'BEGIN {
        printf "%s: cpu %.2f%% of one core, peak RSS %.1f MiB\n",
            name, 100 * ticks / tck / (t1 - t0), kib / 1024
    }'
