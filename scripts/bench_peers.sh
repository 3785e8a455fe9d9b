#!/usr/bin/env bash
# The benchmark figures that need something besides the engine: the limit
# kernel (bench/limit.c), the NumPy peer (bench/peer_numpy.py) and the
# shared-prefix run, and the scaling against the machine's own. Part of
# `make bench`; prints medians of RUNS interleaved
# runs (default 3) and their ratios. Needs ./talentsim and build/bench/limit.
set -euo pipefail
RUNS=${RUNS:-3}
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# wall seconds of one command (stdout and stderr kept in $tmp/last.txt)
wall() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >"$tmp/last.txt" 2>&1
    t1=$(date +%s.%N)
    calc "$t1 - $t0"
}
calc() { awk "BEGIN { printf \"%.6g\", $1 }"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# 1. per-core throughput: the engine's one-replication workload at 1 thread
#    against the limit kernel, in the same run, interleaved.
eng=() lim=()
for _ in $(seq "$RUNS"); do
    ./talentsim scenarios/baseline.yaml -r 1 -t 1 -q -o "$tmp/one" -f --set sample_fraction=1
    ay=$(grep -o '"agent_years": *[0-9.e+]*' "$tmp/one/manifest.json" | grep -o '[0-9.e+]*$')
    s=$(wall ./talentsim scenarios/baseline.yaml -r 1 -t 1 -q -o "$tmp/one" -f --set sample_fraction=1)
    eng+=("$(calc "$ay / $s")")
    build/bench/limit -r 1 >"$tmp/limit.txt"
    lim+=("$(grep -o 'agent_years_per_s=[0-9.e+]*' "$tmp/limit.txt" | cut -d= -f2)")
done
e=$(median "${eng[@]}"); l=$(median "${lim[@]}")
printf 'engine, 1 thread, whole process (1 replication, full scale): %.3g agent-years/s\n' "$e"
printf 'limit kernel (bench/limit.c), 1 thread:                       %.3g agent-years/s\n' "$l"
printf 'engine / limit kernel:                                         %.2f (target >= 0.5)\n' \
    "$(calc "$e / $l")"

# 2. whole process against the NumPy peer on the same scenario and workload.
./talentsim scenarios/baseline.yaml --dump >"$tmp/resolved.yaml"
ts=() np=()
for _ in $(seq "$RUNS"); do
    ts+=("$(wall ./talentsim scenarios/baseline.yaml -r 4 -t 1 -q -o "$tmp/np" -f --set sample_fraction=0.25)")
    np+=("$(wall env OMP_NUM_THREADS=1 "$PY" bench/peer_numpy.py "$tmp/resolved.yaml" -r 4 --sample-fraction 0.25)")
done
a=$(median "${ts[@]}"); b=$(median "${np[@]}")
printf 'baseline, 4 replications at sample_fraction 0.25, 1 thread: talentsim %.2f s, NumPy peer %.2f s: %.1fx (target >= 10x)\n' \
    "$a" "$b" "$(calc "$b / $a")"

# 3. the five policy scenarios and the baseline: together against one by one.
files=(scenarios/baseline.yaml scenarios/secure_campus.yaml scenarios/china_talent_push.yaml
       scenarios/collaboration_ban.yaml scenarios/de_escalation.yaml scenarios/us_talent_drive.yaml)
together=() apart=()
for _ in $(seq "$RUNS"); do
    together+=("$(wall ./talentsim "${files[@]}" -r 20 -q -o "$tmp/six" -f --set sample_fraction=0.25)")
    sum=0
    for f in "${files[@]}"; do
        sum=$(calc "$sum + $(wall ./talentsim "$f" -r 20 -q -o "$tmp/alone" -f --set sample_fraction=0.25)")
    done
    apart+=("$sum")
done
a=$(median "${together[@]}"); b=$(median "${apart[@]}")
printf 'six scenarios (20 replications at 0.25, all threads): together %.2f s, one by one %.2f s: %.2f (target <= 0.5)\n' \
    "$a" "$b" "$(calc "$a / $b")"

# 4. scaling 1 -> 2 threads, as the median of per-pair ratios (a 1-thread and
#    a 2-thread run back to back, so that the VM's drift cancels), next to
#    the machine's own ceiling: two limit kernels (in cache) at once against
#    one, the scaling of work with nothing shared.
ratio_pairs() { # ratio_pairs "CMD1" "CMD2": median of wall(CMD1) / wall(CMD2)
    local r=() x y
    for _ in $(seq "$RUNS"); do
        x=$(wall bash -c "$1")
        y=$(wall bash -c "$2")
        r+=("$(calc "$x / $y")")
    done
    median "${r[@]}"
}
lim1='build/bench/limit -n 20000 -y 500 -r 1'
ceiling=$(ratio_pairs "$lim1; $lim1" "$lim1 & $lim1 & wait")
run="./talentsim scenarios/baseline.yaml -q -o $tmp/sc -f"
one=$(ratio_pairs "$run -r 1 -t 1" "$run -r 1 -t 2")
side=$(ratio_pairs "$run -r 24 -t 1 --set sample_fraction=0.25" \
                   "$run -r 24 -t 2 --set sample_fraction=0.25")
printf 'machine ceiling, two limit kernels at once against one after the other: %.2fx\n' "$ceiling"
printf 'scaling 1 -> 2 threads, one replication (full scale):             %.2fx (target >= 1.85x; %.0f%% of the ceiling)\n' \
    "$one" "$(calc "100 * $one / $ceiling")"
printf 'scaling 1 -> 2 threads, 24 replications side by side (at 0.25):  %.2fx (target >= 1.9x; %.0f%% of the ceiling)\n' \
    "$side" "$(calc "100 * $side / $ceiling")"
