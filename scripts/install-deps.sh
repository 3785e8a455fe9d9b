#!/usr/bin/env bash
# Installs the Debian packages talentsim needs, only those missing.
# Runs apt-get as root (directly, or through sudo when available).
# --fuzz adds what `make fuzz` needs: clang, its libFuzzer and sanitizer
# runtimes (libclang-rt-dev) and its OpenMP (libomp-dev). --bench adds what
# `make bench` needs for its NumPy peer (python3-numpy, python3-yaml).
# --cluster adds what `make check-cluster` needs: a single-node Slurm
# (slurm-wlm: slurmctld, slurmd, slurm-client), its authentication (munge)
# and Open MPI (openmpi-bin, libopenmpi-dev) for talentsim-mpi.
# The base list has what `talentsim plot` (scripts/plot.py) needs, since
# `make test` runs it: Debian's python3-matplotlib and python3-yaml.
# --browser adds headless Chromium for scripts/check_report_browser.sh
# (`make check-long`).
set -euo pipefail
pkgs=(build-essential pkg-config libgsl-dev libyaml-dev libcriterion-dev
      librandom123-dev python3-matplotlib python3-yaml)
case "${1:-}" in
    --fuzz) pkgs+=(clang libclang-rt-dev libomp-dev) ;;
    --bench) pkgs+=(python3-numpy python3-yaml) ;;
    --cluster) pkgs+=(slurm-wlm munge openmpi-bin libopenmpi-dev) ;;
    --browser) pkgs+=(chromium) ;;
esac
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"
else echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
