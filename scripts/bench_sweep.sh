#!/usr/bin/env bash
# Sweep throughput and the overhead of shards and MPI (docs/cluster.md):
# bench/sweep_bench.yaml run in one process at all cores, as 4 shards one
# after another, and under mpirun with one worker rank per core; medians of
# RUNS interleaved runs (default 3). Needs ./talentsim and ./talentsim-mpi
# (make MPI=1); `make bench-sweep` builds both.
set -euo pipefail
RUNS=${RUNS:-3}
SWEEP=bench/sweep_bench.yaml
cores=$(nproc)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

calc() { awk "BEGIN { printf \"%.6g\", $1 }"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# wall seconds of one command, in a fresh output directory (a sweep skips
# stored points, so each run starts empty)
wall() {
    rm -rf "$tmp/out"
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >"$tmp/last.txt" 2>&1 || { cat "$tmp/last.txt" >&2; exit 1; }
    t1=$(date +%s.%N)
    calc "$t1 - $t0"
}
shards() {
    for k in 1 2 3 4; do ./talentsim sweep "$SWEEP" -o "$tmp/out" -q --shard "$k/4"; done
}
mpi() {
    mpirun --oversubscribe --allow-run-as-root --bind-to none -x OMP_NUM_THREADS=1 \
        -np $((cores + 1)) ./talentsim-mpi sweep "$SWEEP" -o "$tmp/out" -q
}

points=$(./talentsim sweep "$SWEEP" --list | tail -n +2 | wc -l)
loc=() sh=() mp=() mg=()
for _ in $(seq "$RUNS"); do
    loc+=("$(wall ./talentsim sweep "$SWEEP" -o "$tmp/out" -q)")
    t0=$(date +%s.%N); ./talentsim merge -q "$tmp/out"; t1=$(date +%s.%N)
    mg+=("$(calc "$t1 - $t0")")
    cp "$tmp/out/sweep.csv" "$tmp/ref.csv"
    sh+=("$(wall shards)")
    mp+=("$(wall mpi)")
    ./talentsim merge -q "$tmp/out"
    cmp -s "$tmp/out/sweep.csv" "$tmp/ref.csv" || { echo "MPI sweep.csv differs" >&2; exit 1; }
done
l=$(median "${loc[@]}"); s=$(median "${sh[@]}"); m=$(median "${mp[@]}"); g=$(median "${mg[@]}")
printf 'sweep of %d points (bench/sweep_bench.yaml), %d cores, medians of %d runs:\n' \
    "$points" "$cores" "$RUNS"
printf '  one process, %d threads:          %6.2f s  %6.1f points/min\n' "$cores" "$l" \
    "$(calc "$points * 60 / $l")"
printf '  4 shards one after another:        %6.2f s  %.2fx the one process\n' "$s" "$(calc "$s / $l")"
printf '  mpirun, %d worker ranks x 1 thread: %6.2f s  %.2fx the one process\n' "$cores" "$m" \
    "$(calc "$m / $l")"
printf '  merge:                             %6.3f s\n' "$g"
