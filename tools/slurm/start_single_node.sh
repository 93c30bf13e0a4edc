#!/usr/bin/env bash
# A single-node SLURM on this machine: munge, slurmctld and slurmd from Debian's packages, one
# partition ("debug", the default) holding this node with all its CPUs. For
# tests/test_pipeline_slurm.py (which runs its SLURM cases when `sbatch` answers) and for trying
# `make repro EXECUTOR=slurm` without a cluster. CPU only: no GPU (gres) configuration.
#
#   sudo tools/slurm/start_single_node.sh        # installs if needed, (re)starts the daemons
#   sudo tools/slurm/start_single_node.sh stop   # stops them
#
# Run as root (Debian/Ubuntu; no systemd needed: the daemons are started directly). It rewrites
# /etc/slurm/slurm.conf. There is no accounting database (slurmdbd), so `sacct` does not answer;
# the runner's SLURM executor notices finished jobs by their result files and `squeue`.
set -euo pipefail

LOG_DIR=/var/log/slurm
CONF=/etc/slurm/slurm.conf

stop() {
    for pidfile in /run/slurmd.pid /run/slurmctld.pid; do
        if [[ -s $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            kill "$(cat "$pidfile")"
        fi
    done
}

if [[ ${1:-start} == stop ]]; then
    stop
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "run as root (it installs packages and starts daemons)" >&2
    exit 1
fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        slurmctld slurmd slurm-client munge
fi

# munge: the authentication SLURM's daemons and commands share (one key on one node)
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge
if [[ ! -s /etc/munge/munge.key ]]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi

# slurm.conf: this node as `slurmd -C` sees it (CPUs, sockets, memory)
host=$(hostname -s)
node=$(slurmd -C | head -n 1)
install -d -m 0755 /etc/slurm "$LOG_DIR" /var/spool/slurmctld /var/spool/slurmd
cat >"$CONF" <<EOF
# written by tools/slurm/start_single_node.sh
ClusterName=tempaug
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=30
$node State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

stop
sleep 1
/usr/sbin/slurmctld -c   # -c: a fresh state (no jobs of an earlier start)
/usr/sbin/slurmd

for _ in $(seq 120); do
    state=$(sinfo -h -n "$host" -o %t 2>/dev/null || true)
    if [[ $state == idle* ]]; then
        echo "SLURM up: partition debug, node $host ($node)"
        exit 0
    fi
    if [[ $state == down* || $state == drain* ]]; then
        scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
    fi
    sleep 1
done
echo "SLURM did not come up; see $LOG_DIR/slurmctld.log and $LOG_DIR/slurmd.log" >&2
sinfo >&2 || true
exit 1
