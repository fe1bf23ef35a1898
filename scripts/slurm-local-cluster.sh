#!/usr/bin/env bash
# A throw-away one-node Slurm cluster (slurmctld + slurmd on this machine), all of its
# state under one folder, for tests and for trying pipelines/slurm/ without a cluster.
#
#   scripts/slurm-local-cluster.sh start DIR [CPUS]   start it; prints the SLURM_CONF to export
#   scripts/slurm-local-cluster.sh stop DIR           stop it (by its PID files) and wait for the daemons to end
#
# Every client command needs SLURM_CONF=DIR/slurm.conf. Authentication is auth/none (no munge
# daemon needed): only for a private test machine. Needs root (slurmd starts job steps as the
# submitting user); install Slurm with scripts/install-deps.sh. Every wait has a time limit.
set -euo pipefail

command=${1:?usage: slurm-local-cluster.sh start|stop DIR [CPUS]}
dir=${2:?usage: slurm-local-cluster.sh start|stop DIR [CPUS]}
cpus=${3:-4}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
conf="$dir/slurm.conf"

# Waits until process $1 has ended (stopped daemons may linger as zombies: read /proc, not kill -0).
wait_ended() {
  local pid=$1 state
  for _ in $(seq 1 100); do
    state=$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    if [ -z "$state" ] || [ "$state" = Z ]; then return 0; fi
    sleep 0.1
  done
  echo "slurm-local-cluster: pid $pid still running after 10 s; killing it" >&2
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  local pid
  for daemon in slurmd slurmctld; do
    pid=$(cat "$dir/$daemon.pid" 2>/dev/null || true)
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null || true
      wait_ended "$pid"
    fi
    rm -f "$dir/$daemon.pid"
  done
}

case "$command" in
start)
  for tool in slurmctld slurmd sinfo; do
    command -v "$tool" >/dev/null || { echo "slurm-local-cluster: $tool not found (run scripts/install-deps.sh)" >&2; exit 1; }
  done
  [ "$(id -u)" -eq 0 ] || { echo "slurm-local-cluster: needs root (SlurmUser=root)" >&2; exit 1; }
  host=$(hostname -s)
  mkdir -p "$dir/spool" "$dir/state" "$dir/log"
  cat > "$conf" <<EOF
ClusterName=gcml-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(( 20000 + RANDOM % 20000 ))
SlurmdPort=$(( 40000 + RANDOM % 20000 ))
SlurmUser=root
SlurmdUser=root
AuthType=auth/none
CredType=cred/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=pmix
ReturnToService=2
MailProg=/bin/true
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=1000 State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  slurmctld -f "$conf"
  slurmd -f "$conf"
  export SLURM_CONF="$conf"
  for _ in $(seq 1 150); do
    if sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
      echo "SLURM_CONF=$conf"
      exit 0
    fi
    sleep 0.1
  done
  echo "slurm-local-cluster: the node did not become idle within 15 s; logs in $dir/log" >&2
  tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
  stop
  exit 1
  ;;
stop)
  stop
  ;;
*)
  echo "usage: slurm-local-cluster.sh start|stop DIR [CPUS]" >&2
  exit 2
  ;;
esac
