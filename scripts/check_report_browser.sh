#!/usr/bin/env bash
# Renders DIR/report.html (written by `talentsim plot DIR`) in a real
# browser, Debian's headless Chromium, offline, and checks that every figure
# was decoded and drawn: the printed PDF must hold one image per PNG of
# DIR/plots/, each with that PNG's width and height (an image that failed
# to decode is not embedded). Chromium resolves no host name here, so a
# report that needed anything from outside would also show up as missing
# images. docs/plots.md; run by `make check-report` (part of check-long).
#
# Usage: scripts/check_report_browser.sh DIR [DIR...]
# Exit status: 0 every report good, 1 a report failed the check or Chromium
# is missing (bash scripts/install-deps.sh --browser), 2 bad usage.
set -euo pipefail

if (($# == 0)) || [[ $1 == -h || $1 == --help ]]; then
    sed -n '9,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
    (($# == 0)) && exit 2 || exit 0
fi
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $browser ]]; then
    echo "check_report_browser: chromium not found; install it with: bash scripts/install-deps.sh --browser" >&2
    exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Chromium refuses to run as root with its sandbox on.
sandbox=()
[[ $(id -u) -eq 0 ]] && sandbox=(--no-sandbox)

check_one() {
    local dir=$1 pdf=$work/report.pdf
    [[ -f $dir/report.html && -d $dir/plots ]] ||
        { echo "check_report_browser: $dir: no report.html or plots/ (run talentsim plot $dir)" >&2; return 1; }
    rm -f "$pdf"
    if ! timeout 120 "$browser" --headless "${sandbox[@]}" --disable-gpu \
        --user-data-dir="$work/profile" --no-first-run --disable-background-networking \
        --host-resolver-rules="MAP * ~NOTFOUND" --no-pdf-header-footer \
        --print-to-pdf="$pdf" "file://$(realpath "$dir")/report.html" \
        >"$work/log" 2>&1 || [[ ! -s $pdf ]]; then
        echo "check_report_browser: $dir: chromium failed:" >&2
        tail -5 "$work/log" >&2
        return 1
    fi
    /usr/bin/python3 - "$dir/plots" "$pdf" <<'EOF'
import collections, os, re, struct, sys
plots, pdf = sys.argv[1], sys.argv[2]
want = collections.Counter()
for name in sorted(os.listdir(plots)):
    if name.endswith(".png"):
        with open(os.path.join(plots, name), "rb") as f:
            head = f.read(24)
        want[struct.unpack(">II", head[16:24])] += 1
data = open(pdf, "rb").read()
# Image XObjects and the soft masks (alpha channels) some of them carry.
smasks = {int(m) for m in re.findall(rb"/SMask (\d+) 0 R", data)}
got = collections.Counter()
for num, body in re.findall(rb"(\d+) 0 obj\s*<<(.*?)>>\s*stream", data, re.S):
    if re.search(rb"/Subtype\s*/Image", body) and int(num) not in smasks:
        w = re.search(rb"/Width (\d+)", body)
        h = re.search(rb"/Height (\d+)", body)
        got[(int(w.group(1)), int(h.group(1)))] += 1
n = sum(want.values())
if n == 0 or got != want:
    sys.exit(f"{plots}: {n} PNG(s) {dict(want)}, the printed page holds {dict(got)}")
print(f"check_report_browser: {os.path.dirname(plots)}: all {n} figures drawn by Chromium")
EOF
}

rc=0
for dir in "$@"; do
    check_one "${dir%/}" || rc=1
done
exit $rc
