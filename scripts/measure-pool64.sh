#!/usr/bin/env bash
# The dashboard's own CPU while it watches a pool of 64 worker processes: `pool` with
# size=64, tasks=128 and max_sleep_ms=60000 (each task sleeps up to a minute, so the pool
# is busy for the whole window), sampled every 500 ms, at 200x60 (a big screen: graphs
# and the long processes table). The form is filled in by keys, as a user would.
#
#   scripts/measure-pool64.sh [CONLAB]      (default target/release/conlab)
#
# Environment as for measure-idle.sh; MEASURE_SECONDS defaults to 30 here.

set -euo pipefail
here=$(dirname "$0")
conlab=${1:-target/release/conlab}
# e opens the form on `size`; each field is cleared with backspaces and typed again.
clear="BSpace BSpace BSpace BSpace BSpace"
keys="e $clear 6 4 Down $clear 1 2 8 Down $clear 6 0 0 0 0 Enter Enter"
MEASURE_SECONDS=${MEASURE_SECONDS:-30} exec "$here/measure-idle.sh" -n "conlab watching pool size=64" \
    -s 200x60 -k "$keys" "$conlab" --scenario pool --interval 500
