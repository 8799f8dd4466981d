#!/usr/bin/env bash
# A single-node Slurm on this machine, for the tests of `--cluster slurm`.
#
#   .ci/slurm.sh start    install slurm-wlm and munge if missing (apt-get, as root), write a
#                         munge key and slurm.conf under $VPOSEBENCH_SLURM_DIR, start munged,
#                         slurmctld and slurmd, wait until the node is idle
#   .ci/slurm.sh stop     stop the three daemons by their pid files
#   .ci/slurm.sh status   sinfo
#
# Clients (sbatch, sinfo, dask-jobqueue) need SLURM_CONF=$VPOSEBENCH_SLURM_DIR/slurm.conf;
# `start` prints the export line. The tests find the folder through the same variable
# (default /tmp/vposebench-slurm). The daemons run as root (SlurmUser=root), the node is this
# machine's short hostname with its CPU count, and nothing is written outside the folder.
set -euo pipefail

DIR=${VPOSEBENCH_SLURM_DIR:-/tmp/vposebench-slurm}
CONF=$DIR/slurm.conf
SOCKET=$DIR/munge/munge.socket
export SLURM_CONF=$CONF

log() { echo "slurm.sh: $*" >&2; }

install_packages() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v sbatch >/dev/null && command -v munged >/dev/null; then
        return
    fi
    if [ "$(id -u)" -ne 0 ]; then
        log "slurm-wlm and munge are missing and installing them needs root"; exit 1
    fi
    log "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
    # the packages start their own daemons with the system config; this script runs its own
    for unit in slurmctld slurmd munge; do
        if command -v systemctl >/dev/null; then systemctl stop "$unit" 2>/dev/null || true; fi
        if command -v service >/dev/null; then service "$unit" stop >/dev/null 2>&1 || true; fi
    done
}

write_config() {
    local host cpus memory
    host=$(hostname -s)
    cpus=$(nproc)
    memory=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
    mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log" "$DIR/munge"
    chmod 700 "$DIR/munge"
    if [ ! -s "$DIR/munge/munge.key" ]; then
        dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
        chmod 400 "$DIR/munge/munge.key"
    fi
    cat > "$CONF" <<CONF
# written by .ci/slurm.sh: one node, this machine
ClusterName=vposebench
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=${VPOSEBENCH_SLURMCTLD_PORT:-6817}
SlurmdPort=${VPOSEBENCH_SLURMD_PORT:-6818}
AuthType=auth/munge
AuthInfo=socket=$SOCKET
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
}

running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
    install_packages
    if running "$DIR/slurmctld.pid"; then
        log "already running ($CONF)"; echo "export SLURM_CONF=$CONF"; return
    fi
    write_config
    running "$DIR/munge/munged.pid" || munged --force --key-file="$DIR/munge/munge.key" \
        --socket="$SOCKET" --pid-file="$DIR/munge/munged.pid" \
        --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed"
    slurmctld -f "$CONF"
    slurmd -f "$CONF"
    for _ in $(seq 120); do
        if [ "$(sinfo -h -o %T 2>/dev/null)" = "idle" ]; then
            log "node $(hostname -s) idle"; echo "export SLURM_CONF=$CONF"; return
        fi
        sleep 0.5
    done
    log "the node did not become idle; logs in $DIR/log"; sinfo >&2 || true; exit 1
}

stop() {
    local pidfile pid
    for pidfile in "$DIR/slurmd.pid" "$DIR/slurmctld.pid" "$DIR/munge/munged.pid"; do
        if running "$pidfile"; then
            pid=$(cat "$pidfile")
            kill "$pid"
            for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
        rm -f "$pidfile"
    done
    log "stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) sinfo ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
