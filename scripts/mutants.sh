#!/usr/bin/env bash
# Mutation testing (docs/testing.md): applies each one-line mutation of
# tests/mutants.txt to a scratch copy of the working tree, runs the tests
# there as `make test-unit` does, and prints the mutation score.
#
# Usage: scripts/mutants.sh [--list FILE] [--timeout SECONDS] [--keep]
#                           [NAME-SUBSTRING...]
#
# A mutant is KILLED when the build fails ("build"), a test fails (its name
# is shown), the docs check fails or the build or tests exceed the timeout;
# SURVIVED when everything passes; ERROR when its entry no longer fits the
# code (file missing, `from` text not found exactly once). The unmutated
# copy must build and pass first, or nothing is scored.
#
# Exit status: 0 every mutant killed, 1 a mutant survived or was an ERROR,
# 2 bad usage, a malformed list, or a failing unmutated tree.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
list=$root/tests/mutants.txt
timeout_s=300
keep=0
filters=()

usage() {
    sed -n '6,7s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

die() {
    echo "mutants: $*" >&2
    exit 2
}

while (($#)); do
    case $1 in
    --list) (($# >= 2)) || die "--list needs a file"; list=$2; shift 2 ;;
    --timeout) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--timeout needs seconds"
        timeout_s=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; filters+=("$@"); break ;;
    -*) usage >&2; exit 2 ;;
    *) filters+=("$1"); shift ;;
    esac
done

# ---- the list ----------------------------------------------------------

names=() files=() froms=() tos=() whys=() starts=()
declare -A seen_name=()

# Checks and stores the block that began on list line $1 (fields in blk).
end_block() {
    local at=$1 k
    for k in name file from to why; do
        [[ -v blk[$k] ]] || die "$list:$at: mutation without '$k:'"
    done
    [[ ${blk[name]} =~ ^[A-Za-z0-9._-]+$ ]] ||
        die "$list:$at: a name is letters, digits, '.', '_' and '-'"
    [[ ${blk[file]} != /* && /${blk[file]}/ != */../* ]] ||
        die "$list:$at: file must be relative to the repository root"
    [[ -z ${seen_name[${blk[name]}]:-} ]] ||
        die "$list:$at: name '${blk[name]}' already used on line ${seen_name[${blk[name]}]}"
    [[ -n ${blk[from]} ]] || die "$list:$at: empty 'from:'"
    [[ ${blk[from]} != "${blk[to]}" ]] || die "$list:$at: 'to:' equals 'from:'"
    seen_name[${blk[name]}]=$at
    names+=("${blk[name]}") files+=("${blk[file]}") froms+=("${blk[from]}")
    tos+=("${blk[to]}") whys+=("${blk[why]}") starts+=("$at")
}

read_list() {
    [[ -r $list ]] || die "cannot read $list"
    local line key val n=0 start=0
    declare -gA blk=()
    while IFS= read -r line || [[ -n $line ]]; do
        n=$((n + 1))
        line=${line%$'\r'}
        [[ $line == '#'* ]] && continue
        if [[ $line =~ ^[[:space:]]*$ ]]; then
            ((start)) && end_block "$start"
            start=0 blk=()
            continue
        fi
        [[ $line =~ ^([a-z]+):(.*)$ ]] || die "$list:$n: expected 'key: value'"
        key=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]}
        val=${val#"${val%%[![:space:]]*}"}
        val=${val%"${val##*[![:space:]]}"}
        case $key in name | file | from | to | why) ;;
        *) die "$list:$n: unknown key '$key' (name, file, from, to, why)" ;;
        esac
        [[ -v blk[$key] ]] && die "$list:$n: '$key:' given twice in one mutation"
        ((start)) || start=$n
        blk[$key]=$val
    done <"$list"
    ((start)) && end_block "$start"
    return 0
}

read_list
sel=()
for i in "${!names[@]}"; do
    ok=$((${#filters[@]} == 0))
    for f in "${filters[@]}"; do
        [[ ${names[i]} == *"$f"* ]] && ok=1
    done
    ((ok)) && sel+=("$i")
done
((${#sel[@]})) || die "no mutation in $list matches: ${filters[*]:-(empty list)}"

# ---- the scratch copy --------------------------------------------------

scratch=$(mktemp -d "${TMPDIR:-/tmp}/talentsim-mutants.XXXXXX") ||
    die "cannot create a scratch directory"
cleanup() {
    if ((keep)); then
        echo "scratch copy kept in $scratch (logs: $scratch/.mutants/)"
    else
        rm -rf -- "$scratch"
    fi
}
mkdir "$scratch/.mutants"
logdir=$scratch/.mutants

# Every process a build or test run starts carries this variable, so that
# what is left of it can be found: Criterion's workers call setsid() and
# escape timeout's process-group kill, and so do the programs they start.
marker=TALENTSIM_MUTANTS=$scratch
trap cleanup EXIT
trap 'reap; exit 130' INT TERM

# Tracked and untracked-but-not-ignored files as they are now on disk
# (uncommitted edits included); no build/, results/ or .git.
copy_tree() {
    if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$root" && git ls-files -z -co --exclude-standard |
            while IFS= read -r -d '' p; do
                case $p in build/* | results/*) continue ;; esac
                [[ -f $p || -L $p ]] && printf '%s\0' "$p"
            done | xargs -0 cp -P --parents -t "$scratch" --)
    else
        tar -C "$root" --exclude=./build --exclude=./results --exclude=./.git \
            --exclude=./talentsim -cf - . | tar -C "$scratch" -xf -
    fi
}
copy_tree || die "cannot copy the working tree to $scratch"

# The scratch make must not inherit the caller's make (jobserver, BUILD=...).
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

# Runs "$@" with the time limit, output appended to log $1; returns its exit
# status (124 or 137 on timeout), then kills whatever it left running.
# Waiting on a background job lets an interrupt stop the run at once.
limited() {
    local log=$1
    shift
    env "$marker" timeout -k 10 "$timeout_s" "$@" >>"$log" 2>&1 &
    wait $!
    local rc=$?
    reap
    return $rc
}

# Kills the processes whose environment holds $marker (a few passes, as a
# dying parent may just have forked).
reap() {
    local _ p pids
    for _ in 1 2 3; do
        pids=()
        while IFS= read -r p; do
            p=${p#/proc/} p=${p%/environ}
            [[ $p != "$$" ]] && pids+=("$p")
        done < <(grep -lzaxF -- "$marker" /proc/[0-9]*/environ 2>/dev/null)
        ((${#pids[@]})) || return 0
        kill -KILL "${pids[@]}" 2>/dev/null
        sleep 0.2
    done
    return 0
}

# Builds the program and the test binary.
build() {
    limited "$1" make -C "$scratch" -j2 all build/tests/run_tests
}

# Runs the tests as `make test-unit` does, stopping at the first failure.
run_tests() {
    limited "$1" env CRITERION_FAIL_FAST=1 \
        make -C "$scratch" --no-print-directory test-unit
}

# Why the tests failed, from a log: the first failing test, else the docs
# check, else the last line.
failure_of() {
    local t
    t=$(sed -n 's/^\[FAIL\] \([^:]*::[^:]*\).*/\1/p' "$1" | head -n 1)
    if [[ -n $t ]]; then
        echo "$t"
    elif grep -q 'docs/parameters.md is stale' "$1"; then
        echo "docs-check"
    else
        tail -n 1 "$1"
    fi
}

# Occurrences of the text $FROM in file $1 (one line each; none overlapping).
count_in() {
    awk 'BEGIN { f = ENVIRON["FROM"]; n = 0 }
         { s = $0; while ((i = index(s, f)) > 0) { n++; s = substr(s, i + length(f)) } }
         END { print n }' "$1"
}

# Writes file $1 with $FROM replaced by $TO into $2.
replace_in() {
    awk 'BEGIN { f = ENVIRON["FROM"]; t = ENVIRON["TO"] }
         { s = $0; o = ""
           while ((i = index(s, f)) > 0) { o = o substr(s, 1, i - 1) t; s = substr(s, i + length(f)) }
           print o s }' "$1" >"$2"
}

echo "mutants: ${#sel[@]} of ${#names[@]} from ${list#"$root"/}, scratch copy $scratch"
t0=$SECONDS
if ! build "$logdir/baseline-build.log"; then
    tail -n 20 "$logdir/baseline-build.log" >&2
    die "the unmutated copy does not build; fix that first"
fi
if ! run_tests "$logdir/baseline-tests.log"; then
    tail -n 20 "$logdir/baseline-tests.log" >&2
    die "tests fail on the unmutated copy ($(failure_of "$logdir/baseline-tests.log")); a score would be meaningless"
fi
echo "baseline: builds, tests pass ($((SECONDS - t0)) s)"

# ---- the mutants -------------------------------------------------------

killed=0 survived=0 errors=0
width=0
for i in "${sel[@]}"; do ((${#names[i]} > width)) && width=${#names[i]}; done
report() {
    printf '%-8s  %-*s  %s\n' "$1" "$width" "$2" "$3"
}

for i in "${sel[@]}"; do
    name=${names[i]} file=${files[i]} target=$scratch/${files[i]}
    log=$logdir/$name.log
    if [[ ! -f $target ]]; then
        report ERROR "$name" "$file does not exist (${list#"$root"/}:${starts[i]})"
        errors=$((errors + 1))
        continue
    fi
    n=$(FROM=${froms[i]} count_in "$target")
    if [[ $n != 1 ]]; then
        report ERROR "$name" "'from' occurs $n times in $file, not once: ${list#"$root"/}:${starts[i]} is stale"
        errors=$((errors + 1))
        continue
    fi
    cp -- "$target" "$logdir/original"
    FROM=${froms[i]} TO=${tos[i]} replace_in "$logdir/original" "$target"
    t1=$SECONDS
    if build "$log"; then
        rc=0
        run_tests "$log" || rc=$?
        case $rc in
        0) report SURVIVED "$name" "$file: ${whys[i]}"; survived=$((survived + 1)) ;;
        124 | 137) report KILLED "$name" "(timeout)"; killed=$((killed + 1)) ;;
        *) report KILLED "$name" "$(failure_of "$log")  [$((SECONDS - t1)) s]"
            killed=$((killed + 1)) ;;
        esac
    else
        rc=$?
        case $rc in
        124 | 137) report KILLED "$name" "(timeout, build)" ;;
        *) report KILLED "$name" "(build)" ;;
        esac
        killed=$((killed + 1))
    fi
    # cp gives the restored file a new mtime, so make rebuilds it next time.
    cp -- "$logdir/original" "$target"
done

total=${#sel[@]}
pct=$(awk -v k="$killed" -v n="$total" 'BEGIN { printf "%.0f", 100 * k / n }')
echo "mutation score: $killed/$total killed ($pct%)" \
    "- $survived survived, $errors errors, $((SECONDS - t0)) s"
((survived == 0 && errors == 0))
