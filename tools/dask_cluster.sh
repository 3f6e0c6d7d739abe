#!/usr/bin/env bash
# Run a command against a real Dask cluster on this machine: one scheduler and two
# workers (each under a nanny), separate processes on 127.0.0.1, the way a cluster
# of several machines is used. The command sees DASK_SCHEDULER_ADDRESS.
#
#   tools/dask_cluster.sh .venv/bin/python -m pytest --nbval notebooks/09_beyond_one_machine.ipynb
#
# Everything started here is stopped on exit (success, failure or Ctrl-C), and the
# script fails if any of it is still running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${DASK_BIN:-.venv/bin}
WORKERS=2
WAIT_S=90  # bounded: a scheduler and two spawned workers start in seconds on a laptop
logs=$(mktemp -d "${TMPDIR:-/tmp}/dask-cluster.XXXXXX")
pids=()

# The processes of the group led by $1 that still run (zombies, already ended, left out).
running_in_group() {
    ps -eo pid=,pgid=,stat= | awk -v group="$1" '$2 == group && $3 !~ /^Z/ { print $1 }'
}

# Wait at most $1 seconds for the groups led by the other arguments to have nothing running.
wait_for_groups() {
    local deadline=$((SECONDS + $1))
    shift
    while [ $SECONDS -lt $deadline ]; do
        local alive=0
        for pid in "$@"; do
            [ -n "$(running_in_group "$pid")" ] && alive=1
        done
        [ $alive -eq 0 ] && return 0
        sleep 0.2
    done
    return 1
}

teardown() {
    local status=$?
    trap - EXIT INT TERM
    # Each part runs in its own session (setsid). First each worker's leader alone: its
    # nanny then closes the worker itself (signalled at the same moment, a nanny whose
    # worker ended first starts a new one). Then the scheduler, once the workers are gone
    # (a worker closing waits for a scheduler that is no longer there). Then whatever is
    # left in the groups is killed.
    for pid in "${pids[@]:1}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    wait_for_groups 10 "${pids[@]:1}" || true
    [ -n "${pids[0]:-}" ] && { kill -TERM "${pids[0]}" 2>/dev/null || true; }
    if ! wait_for_groups 10 "${pids[@]}"; then
        for pid in "${pids[@]}"; do
            kill -KILL -- "-$pid" 2>/dev/null || true
        done
        wait_for_groups 5 "${pids[@]}" || true
    fi
    local left=""
    for pid in "${pids[@]}"; do
        left+=$(running_in_group "$pid" | tr '\n' ' ')
    done
    if [ -n "$left" ]; then
        echo "dask_cluster: processes still running after teardown: $left" >&2
        status=1
    fi
    if [ $status -ne 0 ]; then
        echo "dask_cluster: logs kept in $logs" >&2
    else
        rm -rf "$logs"
    fi
    exit $status
}

trap teardown EXIT
trap 'exit 130' INT TERM

[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

# Port 0: the scheduler picks a free port and writes its address to the file.
setsid "$BIN/dask" scheduler --host 127.0.0.1 --port 0 --no-dashboard \
    --scheduler-file "$logs/scheduler.json" >"$logs/scheduler.log" 2>&1 &
pids+=($!)
for n in $(seq 1 $WORKERS); do
    setsid "$BIN/dask" worker --scheduler-file "$logs/scheduler.json" --host 127.0.0.1 \
        --nthreads 1 --nworkers 1 --no-dashboard --name "worker-$n" \
        >"$logs/worker-$n.log" 2>&1 &
    pids+=($!)
done

# Wait, bounded, until the scheduler has written its address and sees every worker.
address=$("$BIN/python" - "$logs/scheduler.json" "$WORKERS" "$WAIT_S" <<'EOF'
import json, os, sys, time
path, workers, wait_s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + wait_s
while not os.path.exists(path) and time.monotonic() < deadline:
    time.sleep(0.1)
if not os.path.exists(path):
    sys.exit(f"dask_cluster: no scheduler address within {wait_s:g} s")
from distributed import Client
with Client(scheduler_file=path, timeout=max(1.0, deadline - time.monotonic())) as client:
    client.wait_for_workers(workers, timeout=max(1.0, deadline - time.monotonic()))
    print(json.load(open(path))["address"])
EOF
) || { echo "dask_cluster: the cluster did not come up; see $logs" >&2; exit 1; }

echo "dask_cluster: scheduler $address with $WORKERS workers" >&2
export DASK_SCHEDULER_ADDRESS=$address
set +e
"$@"
status=$?
set -e
exit $status
