#!/usr/bin/env bash
# Two talentsim runs into one output directory, N times (default 200), under
# load: never may both succeed, and the directory must always hold one
# complete result set of one run, nothing else.
#
#   scripts/concurrent_runs.sh [N]      (TALENTSIM_BIN=path, default ./talentsim
#                                        in the repository root, where it runs)
#
# Each trial starts run A (seed 1) and run B (seed 2) on the same fresh -o
# directory at once, in alternating order, each with 2 threads, while busy
# loops keep every core loaded (LOAD=0: no busy loops). Without --force exactly one must exit 0 and
# the other exit 2 (directory in use, or holding the first run's results).
# Every fourth trial gives both --force: both may succeed, one after the
# other, but a run that fails must fail with exit 2 naming the directory.
# Either way the directory must then hold exactly the five result files, and
# they must be byte for byte those of a reference run with the seed that
# manifest.json names (so no file of the other run is mixed in), with the
# manifest's resolved_sha256 matching scenario.resolved.yaml.
#
# Bounded in time: each run is killed after RUN_TIMEOUT seconds (default 60)
# and the whole loop stops after TIME_LIMIT seconds (default 1800); both
# count as failures. Exit status 0 when every trial passed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

N=${1:-200}
BIN=${TALENTSIM_BIN:-./talentsim}
RUN_TIMEOUT=${RUN_TIMEOUT:-60}
TIME_LIMIT=${TIME_LIMIT:-1800}
LOAD=${LOAD:-1}
SCENARIO=scenarios/baseline.yaml
ARGS=(-q -r 2 -t 2 --set sample_fraction=0.01)
FILES="manifest.json replications.csv scenario.resolved.yaml summary.csv targets.csv"

work=$(mktemp -d /tmp/ts_concurrent_XXXXXX)
busy=()
cleanup() {
    for pid in "${busy[@]}"; do kill "$pid" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail=0
complain() { echo "trial $trial: $*" >&2; fail=$((fail + 1)); }

# The reference result set of seed $1 in $work/ref$1.
reference() {
    "$BIN" "$SCENARIO" "${ARGS[@]}" -s "$1" -o "$work/ref$1" ||
        { echo "reference run with seed $1 failed" >&2; exit 1; }
}

# Checks $work/out: the five files, of one seed's reference set.
check_dir() {
    local out=$work/out names seed f sha
    names=$(cd "$out" 2>/dev/null && ls -A | tr '\n' ' ')
    [ "$names" = "$FILES " ] || { complain "directory holds: $names"; return; }
    seed=$(sed -n 's/^  "seed": \([0-9]*\),$/\1/p' "$out/manifest.json")
    [ "$seed" = 1 ] || [ "$seed" = 2 ] || { complain "manifest seed '$seed'"; return; }
    for f in $FILES; do
        [ "$f" = manifest.json ] && continue
        cmp -s "$out/$f" "$work/ref$seed/$f" ||
            complain "$f is not that of the run with seed $seed (manifest.json)"
    done
    sha=$(sha256sum "$out/scenario.resolved.yaml" | cut -d' ' -f1)
    grep -q "\"resolved_sha256\": \"$sha\"" "$out/manifest.json" ||
        complain "manifest.json does not match scenario.resolved.yaml"
}

# A failed run must have exited 2 with one line naming the directory.
check_refusal() {
    local rc=$1 err=$2
    [ "$rc" = 2 ] || { complain "a run exited $rc: $(cat "$err")"; return; }
    [ "$(wc -l < "$err")" = 1 ] && grep -q "'$work/out'" "$err" ||
        complain "refusal message: $(cat "$err")"
}

# One trial; $1 = 1 to give both runs --force.
trial_once() {
    local force=() rc_a rc_b pid_a pid_b
    [ "$1" = 1 ] && force=(-f)
    rm -rf "$work/out"
    start() { timeout "$RUN_TIMEOUT" "$BIN" "$SCENARIO" "${ARGS[@]}" "${force[@]}" \
                  -s "$1" -o "$work/out" 2> "$work/err$1" & }
    if [ $((trial % 2)) = 0 ]; then
        start 1; pid_a=$!; start 2; pid_b=$!
    else
        start 2; pid_b=$!; start 1; pid_a=$!
    fi
    wait "$pid_a"; rc_a=$?
    wait "$pid_b"; rc_b=$?
    if [ "$rc_a" = 0 ] && [ "$rc_b" = 0 ]; then
        [ "$1" = 1 ] || complain "both runs succeeded"
    elif [ "$rc_a" != 0 ] && [ "$rc_b" != 0 ]; then
        complain "both runs failed: $rc_a $(cat "$work/err1"); $rc_b $(cat "$work/err2")"
    elif [ "$rc_a" != 0 ]; then
        check_refusal "$rc_a" "$work/err1"
    else
        check_refusal "$rc_b" "$work/err2"
    fi
    check_dir
}

[ -x "$BIN" ] || { echo "no talentsim at $BIN (make first)" >&2; exit 1; }
reference 1
reference 2
[ "$LOAD" = 0 ] || for _ in $(seq "$(nproc)"); do
    ( while :; do :; done ) &
    busy+=($!)
done
t0=$SECONDS
for trial in $(seq "$N"); do
    if [ $((SECONDS - t0)) -ge "$TIME_LIMIT" ]; then
        complain "time limit of $TIME_LIMIT s reached after $((trial - 1)) trials"
        break
    fi
    trial_once $((trial % 4 == 3))
done
echo "concurrent runs: $N trials in $((SECONDS - t0)) s, $fail failures"
[ "$fail" = 0 ]
