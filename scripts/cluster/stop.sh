#!/usr/bin/env bash
# Stops the single-node Slurm cluster that scripts/cluster/start.sh DIR
# started: cancels its jobs, then stops slurmd, slurmctld and munged by the
# PIDs recorded in DIR/*.pid (SIGTERM, up to CLUSTER_STOP_TIMEOUT seconds,
# default 10, then SIGKILL), and kills any slurmstepd those daemons left
# (a slurmstepd whose environment holds SLURM_CONF=DIR/slurm.conf: only
# this cluster's). Safe to run twice, or on a DIR whose start failed
# half-way.
#
#   bash scripts/cluster/stop.sh DIR
#
# Exits non-zero only if a process could not be stopped even by SIGKILL.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
[ -d "$1" ] || exit 0
dir=$(cd "$1" && pwd)
grace=${CLUSTER_STOP_TIMEOUT:-10}
status=0

# alive PID: exists and is not a zombie (an orphan whose parent never reaps
# it still answers kill -0).
alive() {
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ]
}

# stop_pid NAME PID [GRACE]: TERM, wait up to GRACE s (default $grace),
# KILL, wait up to 5 s.
stop_pid() {
    local name=$1 pid=$2 wait_s=${3:-$grace} i
    alive "$pid" || return 0
    echo "cluster/stop: stopping $name (pid $pid)" >&2
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < wait_s * 10; i++)); do
        alive "$pid" || return 0
        sleep 0.1
    done
    echo "cluster/stop: $name (pid $pid) ignored SIGTERM for ${wait_s}s: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        alive "$pid" || return 0
        sleep 0.1
    done
    echo "cluster/stop: $name (pid $pid) still alive after SIGKILL" >&2
    status=1
}

# Jobs first, while slurmctld still runs, so no step outlives the cluster.
if [ -f "$dir/slurm.conf" ] && [ -s "$dir/slurmctld.pid" ] \
   && alive "$(cat "$dir/slurmctld.pid")" && command -v squeue >/dev/null; then
    export SLURM_CONF=$dir/slurm.conf
    jobs=$(timeout 10 squeue -h -o %A 2>/dev/null || true)
    if [ -n "$jobs" ]; then
        echo "cluster/stop: cancelling jobs: ${jobs//$'\n'/ }" >&2
        # shellcheck disable=SC2086 # one job id per word
        timeout 10 scancel $jobs 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            [ -z "$(timeout 5 squeue -h -o %A 2>/dev/null || true)" ] && break
            sleep 0.1
        done
    fi
fi

for name in slurmd slurmctld munged; do
    f=$dir/$name.pid
    [ -s "$f" ] || continue
    pid=$(cat "$f")
    # Only a process of that name: the PID may have been reused since.
    if alive "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
        stop_pid "$name" "$pid"
    fi
    if ! alive "$pid" || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != "$name" ]; then
        rm -f "$f"
    fi
done

# descendants PID: the PIDs of PID's children, grandchildren, ...
descendants() {
    local c
    for c in $(pgrep -P "$1" || true); do
        echo "$c"
        descendants "$c"
    done
}

# slurmstepd processes of this cluster (they re-parent away from slurmd),
# with the job processes under them, when scancel did not end them.
mark="SLURM_CONF=$dir/slurm.conf"
for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    if [ "$(cat "$p/comm" 2>/dev/null)" != slurmstepd ] || ! alive "$pid"; then
        continue
    fi
    tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qxF "$mark" || continue
    for c in $(descendants "$pid"); do
        if alive "$c"; then kill -KILL "$c" 2>/dev/null || true; fi
    done
    stop_pid slurmstepd "$pid" 1
done
exit "$status"
