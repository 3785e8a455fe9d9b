#!/usr/bin/env bash
# Runs the libFuzzer harnesses built by `make fuzz` (build/fuzz/fuzz_NAME),
# one after the other, each for SECONDS.
#
#   tests/fuzz/run.sh SECONDS NAME...      e.g. tests/fuzz/run.sh 60 scenario set
#
# Each harness reads its seed corpus tests/fuzz/corpus/NAME (never written)
# and keeps what it finds in build/fuzz/corpus/NAME, which later runs start
# from. Its whole output goes to build/fuzz/NAME.log; this prints one line
# per harness (executions, coverage, corpus) and, on a finding, the report
# and the input that triggers it (build/fuzz/artifacts/NAME/crash-*, or
# leak-*, timeout-*, oom-*). Exit status 0 when no harness found anything,
# 1 otherwise. FUZZ_ARGS adds libFuzzer options (e.g. FUZZ_ARGS=-jobs=2).
set -uo pipefail
cd "$(dirname "$0")/../.."
if [ $# -lt 2 ]; then
    echo "usage: $0 SECONDS NAME..." >&2
    exit 2
fi
secs=$1
shift
build=build/fuzz
status=0

# From the last libFuzzer status line: "#N DONE cov: C ft: F corp: K/S ..."
# (with -fork: "#N: cov: C ft: F corp: K exec/s ...").
summary() {
    local log=$1 line execs cov ft corp
    line=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$line")
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$line")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$line")
    corp=$(sed -nE 's/.* corp: ([0-9]+)(\/([0-9A-Za-z]+))?.*/\1 inputs \3/p' <<<"$line")
    echo "${execs:-?} executions, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
}

for name in "$@"; do
    bin=$build/fuzz_$name
    work=$build/corpus/$name
    art=$build/artifacts/$name/
    log=$build/$name.log
    if [ ! -x "$bin" ]; then
        echo "fuzz $name: $bin missing (run make fuzz)" >&2
        status=1
        continue
    fi
    mkdir -p "$work" "$art"
    echo "fuzz $name: ${secs} s (log $log)"
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$secs" -timeout=25 -print_final_stats=1 \
        -dict=tests/fuzz/scenario.dict -artifact_prefix="$art" ${FUZZ_ARGS:-} \
        "$work" "tests/fuzz/corpus/$name" >"$log" 2>&1
    rc=$?
    echo "fuzz $name: $(summary "$log")"
    if [ $rc -ne 0 ]; then
        status=1
        echo "fuzz $name: FINDING (exit $rc); the end of $log:" >&2
        tail -n 60 "$log" >&2
        found=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n 1)
        [ -n "$found" ] && echo "fuzz $name: input in $found; reproduce with: $bin $found" >&2
    fi
done
exit $status
