#!/usr/bin/env bash
# Starts a throw-away single-node Slurm cluster (munged, slurmctld, slurmd)
# whose every file lives in DIR, and waits until its node is idle.
#
#   bash scripts/cluster/start.sh DIR      # then: source DIR/env
#   bash scripts/cluster/stop.sh DIR       # stops what start.sh started
#
# Needs root (slurmd must be root; the daemons run with SlurmUser=root) and
# the Debian packages of `bash scripts/install-deps.sh --cluster`.
#
# DIR gets: munge/ (its own munge key, socket, log: the system munged, if
# any, is neither used nor disturbed), slurm.conf, state/, spool/, log/,
# run/ (the daemons' own pid files), env (`export SLURM_CONF=...` for
# clients: sinfo, sbatch, squeue, scancel) and munged.pid, slurmctld.pid,
# slurmd.pid: the PID of every daemon started, which stop.sh uses.
# The last line on stdout is that export line; everything else goes to
# stderr.
#
# The configuration works in containers without cgroups (Docker, gVisor):
# proctrack/linuxproc, task/none, jobacct_gather/none, select/cons_tres with
# CR_CPU (one CPU is the unit handed out), the node reached as 127.0.0.1.
#
# Environment:
#   CLUSTER_IDLE_TIMEOUT  seconds to wait for each daemon and for the node
#                         to become idle (default 60)
#   CLUSTER_PORT          slurmctld port; slurmd uses the next one (default:
#                         the first free pair from 6817)
#   CLUSTER_EXTRA_CONF    lines appended to slurm.conf (tests use it to
#                         break the configuration on purpose)
# Exits non-zero, after printing the failing daemon's log and stopping what
# it started, when a daemon does not start or the node never becomes idle.
set -euo pipefail

die() { echo "cluster/start: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $0 DIR"
[ "$(id -u)" -eq 0 ] || die "needs root (slurmd runs as root)"
for c in munged munge unmunge slurmctld slurmd sinfo scontrol setpriv setsid; do
    command -v "$c" >/dev/null \
        || die "$c not found: run bash scripts/install-deps.sh --cluster"
done
id munge >/dev/null 2>&1 || die "no munge user: is the munge package installed?"

here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
dir=$(cd "$1" && pwd)
timeout_s=${CLUSTER_IDLE_TIMEOUT:-60}
host=$(hostname -s)
conf=$dir/slurm.conf
mungedir=$dir/munge
socket=$mungedir/munge.socket.2

for d in munged slurmctld slurmd; do
    if [ -s "$dir/$d.pid" ] && kill -0 "$(cat "$dir/$d.pid")" 2>/dev/null; then
        die "$d already running from $dir (pid $(cat "$dir/$d.pid")): run stop.sh first"
    fi
done
# Unix socket paths are limited to 107 bytes.
[ ${#socket} -lt 100 ] || die "DIR path too long for a unix socket: $dir"

# The munge user must be able to reach DIR/munge.
chmod 0755 "$dir"
mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/run" "$mungedir"
rm -f "$dir"/*.pid "$dir/run"/*.pid "$dir/env"

# alive PID: the process exists and is not a zombie (an orphan whose parent
# never reaps it still answers kill -0).
alive() {
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ]
}

show_log() { # NAME FILE...
    local f
    for f in "${@:2}"; do
        [ -f "$f" ] || continue
        echo "----- $1: $f (last 60 lines) -----" >&2
        tail -n 60 "$f" >&2
    done
}

fail() { # NAME MESSAGE: print NAME's logs, stop everything started, exit 1
    echo "cluster/start: $2" >&2
    case $1 in
        munged) show_log munged "$dir/log/munged.out" "$mungedir/munged.log" ;;
        slurmctld) show_log slurmctld "$dir/log/slurmctld.out" "$dir/log/slurmctld.log" ;;
        slurmd) show_log slurmd "$dir/log/slurmd.out" "$dir/log/slurmd.log"
                show_log slurmctld "$dir/log/slurmctld.out" "$dir/log/slurmctld.log"
                echo "----- scontrol show node -----" >&2
                timeout 10 scontrol show node >&2 2>&1 || true ;;
    esac
    bash "$here/stop.sh" "$dir" >&2 || true
    echo "cluster/start: FAILED: $2" >&2
    exit 1
}

# wait_for NAME PID CHECK...: poll CHECK each 0.2 s until it succeeds; fail
# with NAME's log when PID dies or after timeout_s seconds (each CHECK is
# itself bounded by timeout(1)).
wait_for() {
    local name=$1 pid=$2 deadline=$((SECONDS + timeout_s))
    shift 2
    until "$@" >/dev/null 2>&1; do
        alive "$pid" || fail "$name" "$name (pid $pid) exited during start-up"
        [ "$SECONDS" -lt "$deadline" ] \
            || fail "$name" "timed out after ${timeout_s}s waiting for: $*"
        sleep 0.2
    done
}

# --- munge: a fresh key, readable only by the munge user ---
chown munge:munge "$mungedir"
chmod 0755 "$mungedir"
setpriv --reuid=munge --regid=munge --init-groups test -x "$mungedir" \
    || die "the munge user cannot reach $mungedir: make its parents searchable (chmod o+x)"
rm -f "$mungedir/munge.key"
dd if=/dev/urandom of="$mungedir/munge.key" bs=1 count=1024 status=none
chown munge:munge "$mungedir/munge.key"
chmod 0400 "$mungedir/munge.key"

echo "cluster/start: starting munged" >&2
# setsid: the daemons leave the caller's process group and session, so a
# terminal's ^C or timeout(1) on the caller does not reach them; stop.sh
# does. setpriv execs in place, so $! is the daemon's own PID.
setsid setpriv --reuid=munge --regid=munge --init-groups \
    munged --foreground --key-file="$mungedir/munge.key" \
    --socket="$socket" --pid-file="$mungedir/munged.pid" \
    --seed-file="$mungedir/munged.seed" --log-file="$mungedir/munged.log" \
    </dev/null >"$dir/log/munged.out" 2>&1 &
echo $! >"$dir/munged.pid"
munge_ok() { timeout 5 munge -n -S "$socket" | timeout 5 unmunge -S "$socket"; }
wait_for munged "$(cat "$dir/munged.pid")" munge_ok

# --- slurm.conf ---
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -n "${CLUSTER_PORT:-}" ]; then
    port=$CLUSTER_PORT
else
    port=6817
    until port_free "$port" && port_free $((port + 1)); do
        port=$((port + 2))
        [ "$port" -lt 6900 ] || die "no free port pair in 6817..6899"
    done
fi
cpus=$(nproc)
mem=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
cat >"$conf" <<EOF
# Single-node test cluster written by scripts/cluster/start.sh.
ClusterName=talentsim
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups in a container: track processes through /proc, no task
# binding, no accounting.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# Trust the CPUs and memory below rather than draining the node when the
# hardware slurmd sees (a container's view) differs.
SlurmdParameters=config_overrides
ReturnToService=2
InactiveLimit=0
KillWait=5
MinJobAge=300
MailProg=/bin/true
Waittime=0
NodeName=$host NodeAddr=127.0.0.1 NodeHostname=$host CPUs=$cpus Boards=1 SocketsPerBoard=1 CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
if [ -n "${CLUSTER_EXTRA_CONF:-}" ]; then
    printf '%s\n' "$CLUSTER_EXTRA_CONF" >>"$conf"
fi
# Also what marks the slurmstepd processes of this cluster for stop.sh.
export SLURM_CONF=$conf

echo "cluster/start: starting slurmctld (port $port)" >&2
setsid slurmctld -D -i -f "$conf" </dev/null >"$dir/log/slurmctld.out" 2>&1 &
echo $! >"$dir/slurmctld.pid"
ctld_up() { timeout 10 scontrol ping; }
wait_for slurmctld "$(cat "$dir/slurmctld.pid")" ctld_up

echo "cluster/start: starting slurmd (node $host, $cpus CPUs, $mem MB)" >&2
setsid slurmd -D -N "$host" -f "$conf" </dev/null >"$dir/log/slurmd.out" 2>&1 &
echo $! >"$dir/slurmd.pid"
node_idle() { [ "$(timeout 10 sinfo -h -n "$host" -o %T 2>/dev/null)" = idle ]; }
wait_for slurmd "$(cat "$dir/slurmd.pid")" node_idle

echo "export SLURM_CONF=$conf" >"$dir/env"
sinfo >&2
echo "cluster/start: up; pids: munged $(cat "$dir/munged.pid")" \
     "slurmctld $(cat "$dir/slurmctld.pid") slurmd $(cat "$dir/slurmd.pid")" >&2
echo "export SLURM_CONF=$conf"
