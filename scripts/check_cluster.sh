#!/usr/bin/env bash
# make check-cluster: runs a sweep three ways on this machine and checks the
# merged results are byte-identical: in one process (the reference), as the
# Slurm job array of scripts/slurm/sweep.sbatch on a real single-node Slurm
# cluster started for the test (scripts/cluster/start.sh), and under Open
# MPI with 2 and 3 ranks (talentsim-mpi); then a small calibration
# (tests/data/calibration_small.yaml) in one process, under mpirun -np 2 and
# 3 and as one Slurm job, whose posterior.csv must be byte-identical. Needs root, as CI runs it; installs
# the packages it needs (scripts/install-deps.sh --cluster). docs/cluster.md.
#
#   bash scripts/check_cluster.sh                      # the full check
#   CLUSTER_SELFTEST=1 bash scripts/check_cluster.sh   # the machinery only
#
# CLUSTER_SELFTEST=1 checks the cluster and MPI machinery without talentsim:
# the shipped sweep.sbatch submitted as a 4-task array running a stand-in
# for talentsim that records its arguments, sweep.sbatch's error for a
# missing sweep file, `mpirun hostname` and a small MPI program (mpicc,
# Allreduce and a 8 MB message) at 2 and 3 ranks.
#
# Every step runs under timeout(1); the cluster is stopped by the PIDs it
# recorded (scripts/cluster/stop.sh) on any exit, and a daemon left running
# is a failure. Prints a PASS/FAIL line per step and a summary; on failure
# the step's log, the Slurm job outputs and the daemon logs, and keeps the
# work directory. Exit status 0 only when every step passed.
#
# Environment: CLUSTER_SELFTEST=1 (above); CLUSTER_KEEP=1 keeps the work
# directory after a pass; CLUSTER_STEP_TIMEOUT=S replaces every step's time
# limit (defaults: 900 s to install or build, 120 s to start the cluster,
# 300 s for each sweep); CLUSTER_EXTRA_CONF, CLUSTER_IDLE_TIMEOUT and
# CLUSTER_PORT go to start.sh (CLUSTER_EXTRA_CONF=Bogus=1 checks the
# failure path).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export ROOT
SWEEP_FILE=tests/data/sweep_small.yaml
CALIB_FILE=tests/data/calibration_small.yaml
MPIRUN=(mpirun --oversubscribe --allow-run-as-root -x OMP_NUM_THREADS=1)

# ---- steps: each runs as `bash check_cluster.sh --step NAME` under timeout ----

step_deps() { bash scripts/install-deps.sh --cluster; }

step_build() {
    make talentsim
    make MPI=1 talentsim-mpi
}

step_cluster() { bash scripts/cluster/start.sh "$T/cluster"; }

step_local() {
    ./talentsim sweep "$SWEEP_FILE" -o "$T/local"
    ./talentsim merge "$T/local"
    test -s "$T/local/sweep.csv"
}

# show_job_outputs DIR: every Slurm job output in DIR.
show_job_outputs() {
    local f
    for f in "$1"/slurm-*.out; do
        [ -f "$f" ] || continue
        echo "----- $f -----"
        cat "$f"
    done
}

# submit_sweep JOBDIR SBATCH_ARGS...: sweep.sbatch as shipped, with the
# array and CPUs per task set for this 2-CPU node on the command line.
submit_sweep() {
    local jobdir=$1
    shift
    mkdir -p "$jobdir"
    sbatch --wait --array=1-4 --cpus-per-task=1 --chdir="$jobdir" \
        "$ROOT/scripts/slurm/sweep.sbatch" "$@"
}

# compare NAME DIR: merge DIR, then cmp its sweep.csv with the local one.
compare() {
    "$ROOT/talentsim" merge "$2"
    if ! cmp "$T/local/sweep.csv" "$2/sweep.csv"; then
        echo "$1: $2/sweep.csv differs from the one-process run:"
        diff "$T/local/sweep.csv" "$2/sweep.csv" | head -n 20 || true
        return 1
    fi
    echo "$1: sweep.csv identical to the one-process run ($(wc -l <"$2/sweep.csv") lines)"
}

step_slurm() {
    local rc=0
    TALENTSIM=$ROOT/talentsim submit_sweep "$T/jobs" \
        "$ROOT/$SWEEP_FILE" "$T/slurm" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "sbatch --wait: exit $rc (highest exit status of the array tasks)"
        show_job_outputs "$T/jobs"
        return 1
    fi
    compare slurm "$T/slurm"
}

step_mpi() { # NP
    OMP_NUM_THREADS=1 "${MPIRUN[@]}" -np "$1" ./talentsim-mpi sweep "$SWEEP_FILE" -o "$T/mpi$1"
    compare "mpi -np $1" "$T/mpi$1"
}
step_mpi2() { step_mpi 2; }
step_mpi3() { step_mpi 3; }

# A calibration: one process, then mpirun -np 2 and 3 (each batch of
# particles split over the ranks), then the same as one Slurm job; every
# posterior.csv must be the one-process one, byte for byte.
same_posterior() { # NAME DIR
    if ! cmp "$T/calib_local/posterior.csv" "$2/posterior.csv"; then
        echo "$1: $2/posterior.csv differs from the one-process calibration"
        return 1
    fi
    echo "$1: posterior.csv identical to the one-process calibration"
}
step_calibrate() {
    ./talentsim calibrate "$CALIB_FILE" -q -o "$T/calib_local"
    local np
    for np in 2 3; do
        OMP_NUM_THREADS=1 "${MPIRUN[@]}" -np "$np" ./talentsim-mpi calibrate "$CALIB_FILE" -q \
            -t 1 -o "$T/calib_mpi$np"
        same_posterior "calibrate mpi -np $np" "$T/calib_mpi$np"
    done
}
step_calibrate_slurm() {
    mkdir -p "$T/calib_jobs"
    if ! sbatch --wait --ntasks=2 --cpus-per-task=1 --chdir="$T/calib_jobs" \
        --wrap="$(printf '%q ' "${MPIRUN[@]}" --mca plm ^slurm --mca ras ^slurm -np 2 "$ROOT/talentsim-mpi" calibrate \
                 "$ROOT/$CALIB_FILE" -q -t 1 -o "$T/calib_slurm")"; then
        show_job_outputs "$T/calib_jobs"
        return 1
    fi
    same_posterior "calibrate slurm job" "$T/calib_slurm"
}

# --- self-test steps (CLUSTER_SELFTEST=1) ---

step_self_slurm() {
    local fake=$T/fake-talentsim rc=0 k want got
    # Stands in for talentsim: records its arguments and OMP_NUM_THREADS.
    cat >"$fake" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
[ "$1" = sweep ] && [ "$3" = -o ] && [ "$5" = --shard ] || exit 3
mkdir -p "$4"
shard=${6%/*}
echo "$* OMP_NUM_THREADS=$OMP_NUM_THREADS" >"$4/shard-$shard.txt"
EOF
    chmod 0755 "$fake"
    echo 'sweep: {}' >"$T/fake-sweep.yaml"
    TALENTSIM=$fake submit_sweep "$T/jobs" "$T/fake-sweep.yaml" "$T/slurm" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "sbatch --wait: exit $rc"
        show_job_outputs "$T/jobs"
        return 1
    fi
    for k in 1 2 3 4; do
        want="sweep $T/fake-sweep.yaml -o $T/slurm --shard $k/4 --threads 1 OMP_NUM_THREADS=1"
        got=$(cat "$T/slurm/shard-$k.txt" 2>/dev/null || echo "(missing)")
        if [ "$got" != "$want" ]; then
            echo "array task $k ran: $got"
            echo "expected:          $want"
            show_job_outputs "$T/jobs"
            return 1
        fi
        echo "array task $k: $got"
    done
    # Job outputs are named slurm-<array job id>_<task>.out.
    [ "$(find "$T/jobs" -name 'slurm-*_[1-4].out' | wc -l)" -eq 4 ] \
        || { echo "expected 4 outputs slurm-%A_%a.out:"; ls -l "$T/jobs"; return 1; }
}

step_self_slurm_noargs() {
    local rc=0
    mkdir -p "$T/jobs-noargs"
    # Without a sweep file the script must fail, saying why.
    env -u SWEEP -u OUT sbatch --wait --array=1 --cpus-per-task=1 \
        --chdir="$T/jobs-noargs" "$ROOT/scripts/slurm/sweep.sbatch" || rc=$?
    show_job_outputs "$T/jobs-noargs"
    [ "$rc" -ne 0 ] || { echo "sweep.sbatch without arguments exited 0"; return 1; }
    grep -q "no sweep file" "$T"/jobs-noargs/slurm-*.out \
        || { echo "no 'no sweep file' message"; return 1; }
    echo "sweep.sbatch without arguments: exit $rc, with its message"
}

step_self_mpi() { # NP
    local out
    out=$("${MPIRUN[@]}" -np "$1" hostname)
    echo "$out"
    [ "$(wc -l <<<"$out")" -eq "$1" ] || { echo "expected $1 lines"; return 1; }
    cat >"$T/mpi_hello.c" <<'EOF'
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
    int rank, size, n = 1 << 20, ok = 1;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    double *a = malloc(sizeof *a * n), *b = malloc(sizeof *b * n);
    for (int i = 0; i < n; i++) a[i] = rank + 1;
    MPI_Allreduce(a, b, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    ok = b[n - 1] == size * (size + 1) / 2.0;
    if (rank == 0) MPI_Send(a, n, MPI_DOUBLE, size - 1, 0, MPI_COMM_WORLD);
    if (rank == size - 1) {
        MPI_Recv(b, n, MPI_DOUBLE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        ok = ok && b[n - 1] == 1.0;
    }
    printf("rank %d of %d: %s\n", rank, size, ok ? "ok" : "WRONG");
    MPI_Finalize();
    return !ok;
}
EOF
    [ -x "$T/mpi_hello" ] || mpicc -O2 -o "$T/mpi_hello" "$T/mpi_hello.c"
    "${MPIRUN[@]}" -np "$1" "$T/mpi_hello"
}
step_self_mpi2() { step_self_mpi 2; }
step_self_mpi3() { step_self_mpi 3; }

if [ "${1:-}" = --step ]; then
    "step_$2"
    exit
fi

# ---- driver ----

[ "$(id -u)" -eq 0 ] || { echo "check-cluster: needs root (slurmd runs as root)" >&2; exit 1; }
T=$(mktemp -d /tmp/talentsim-cluster.XXXXXX)
chmod 0755 "$T" # the munge user must reach $T/cluster/munge
mkdir -p "$T/logs"
export T
results=()
failed=0
cluster_up=0
step_pid=

# Daemon logs, Slurm job outputs: printed once, after any failure.
show_cluster_logs() {
    local f
    for f in "$T"/cluster/log/slurmctld.log "$T"/cluster/log/slurmd.log \
             "$T"/cluster/munge/munged.log "$T"/cluster/log/*.out; do
        [ -s "$f" ] || continue
        echo "----- $f (last 40 lines) -----"
        tail -n 40 "$f"
    done
    for f in "$T"/jobs*/slurm-*.out; do
        [ -f "$f" ] || continue
        echo "----- $f -----"
        cat "$f"
    done
}

cleanup() {
    local rc=$? pids=() f p left=()
    trap - EXIT INT TERM
    set +e
    if [ -n "$step_pid" ]; then # interrupted: end the running step first
        kill -TERM "$step_pid" 2>/dev/null
        wait "$step_pid" 2>/dev/null
        results+=("FAIL  interrupted during a step")
        failed=1
    fi
    for f in "$T"/cluster/*.pid; do
        [ -s "$f" ] && pids+=("$(basename "$f" .pid):$(cat "$f")")
    done
    if [ -d "$T/cluster" ]; then
        timeout -k 5 60 bash scripts/cluster/stop.sh "$T/cluster" || failed=1
    fi
    for p in "${pids[@]}"; do
        st=$(awk '{print $3}' "/proc/${p#*:}/stat" 2>/dev/null)
        [ -n "$st" ] && [ "$st" != Z ] && left+=("$p")
    done
    if [ ${#left[@]} -gt 0 ]; then
        echo "check-cluster: FAIL: daemons still running after stop.sh: ${left[*]}"
        failed=1
    fi
    if [ "$failed" -ne 0 ] || [ "$rc" -ne 0 ]; then
        show_cluster_logs
    fi
    echo "check-cluster: summary"
    [ ${#results[@]} -eq 0 ] || printf '  %s\n' "${results[@]}"
    if [ "$failed" -ne 0 ] || [ "$rc" -ne 0 ]; then
        echo "check-cluster: FAIL (${SECONDS}s); work directory kept: $T"
        [ "$rc" -ne 0 ] || rc=1
    else
        echo "check-cluster: PASS (${SECONDS}s)"
        if [ "${CLUSTER_KEEP:-0}" = 1 ]; then echo "work directory: $T"; else rm -rf "$T"; fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run NAME SECONDS: runs step NAME under timeout, records PASS/FAIL.
run() {
    local name=$1 secs=${CLUSTER_STEP_TIMEOUT:-$2} rc=0 t0=$SECONDS log=$T/logs/$1.log
    echo "check-cluster: $name ..."
    # In the background, so that a signal to this script is handled at once
    # (bash runs traps only between foreground commands).
    timeout -k 5 "$secs" bash "$0" --step "$name" >"$log" 2>&1 &
    step_pid=$!
    wait "$step_pid" || rc=$?
    step_pid=
    if [ "$rc" -eq 0 ]; then
        results+=("PASS  $name ($((SECONDS - t0))s)")
    else
        [ "$rc" -eq 124 ] && echo "(timed out after ${secs}s)" >>"$log"
        results+=("FAIL  $name ($((SECONDS - t0))s, exit $rc)")
        failed=1
        echo "----- $name failed (exit $rc); last 60 lines of $log -----"
        tail -n 60 "$log"
    fi
    echo "check-cluster: ${results[-1]}"
    return "$rc"
}
skip() {
    results+=("SKIP  $1 (the cluster did not start)")
    failed=1
}

run deps 900 || exit 1
if [ "${CLUSTER_SELFTEST:-0}" = 1 ]; then
    echo "check-cluster: self-test (CLUSTER_SELFTEST=1): cluster and MPI machinery only"
    if run cluster 120; then cluster_up=1; fi
    export SLURM_CONF=$T/cluster/slurm.conf
    if [ "$cluster_up" = 1 ]; then
        run self_slurm 120 || true
        run self_slurm_noargs 60 || true
    else
        skip self_slurm
        skip self_slurm_noargs
    fi
    run self_mpi2 120 || true
    run self_mpi3 120 || true
else
    run build 900 || exit 1
    if run cluster 120; then cluster_up=1; fi
    export SLURM_CONF=$T/cluster/slurm.conf
    run local 300 || exit 1
    if [ "$cluster_up" = 1 ]; then run slurm 300 || true; else skip slurm; fi
    run mpi2 300 || true
    run mpi3 300 || true
    run calibrate 300 || true
    if [ "$cluster_up" = 1 ]; then run calibrate_slurm 300 || true; else skip calibrate_slurm; fi
fi

[ "$failed" -eq 0 ] # the summary comes from cleanup
