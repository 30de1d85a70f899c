#!/usr/bin/env bash
# A real single-node Slurm cluster for the mcp-stata tests, from Debian's packages, run as
# background processes this script owns (no systemd, no cgroups). Adapted from the team's tested
# recipe (SLURM.md: Debian 12, slurm 22.05, munge 0.5.15).
#
#   scripts/slurm.sh install        apt-get install slurmctld slurmd slurm-client munge (if missing)
#   scripts/slurm.sh start [BASE]   write BASE/slurm.conf, start munged, slurmctld, slurmd; wait
#                                   until the node is idle; print `export SLURM_CONF=...`
#   scripts/slurm.sh stop [BASE]    stop the daemons this script started (by their recorded pids)
#
# BASE defaults to target/slurm. `start` is idempotent: a cluster already running from BASE is
# reused. Use it as `eval "$(scripts/slurm.sh start)"`.
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=${1:-start}
BASE=$(realpath -m "${2:-target/slurm}")

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null &&
    command -v munged >/dev/null; then
    return
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    slurmctld slurmd slurm-client munge >/dev/null
}

alive() { [ -s "$BASE/run/$1" ] && kill -0 "$(cat "$BASE/run/$1")" 2>/dev/null; }

start() {
  export SLURM_CONF="$BASE/slurm.conf"
  if alive slurmctld.bgpid && alive slurmd.bgpid && [ "$(sinfo -h -o %T 2>/dev/null | head -1)" = idle ]; then
    echo "export SLURM_CONF=$SLURM_CONF"
    return
  fi
  local host ncpu mem
  host=$(hostname -s)
  ncpu=$(nproc)
  # At most the physical memory, else slurmd drains the node.
  mem=$(($(awk '/MemTotal/{print int($2/1024)}' /proc/meminfo) * 9 / 10))
  rm -rf "$BASE/state" "$BASE/spool"
  mkdir -p "$BASE"/{state,spool,log,run}

  if [ ! -s /etc/munge/munge.key ]; then
    $sudo /usr/sbin/mungekey --create --keyfile=/etc/munge/munge.key
    $sudo chown munge:munge /etc/munge/munge.key
    $sudo chmod 0400 /etc/munge/munge.key
  fi
  $sudo mkdir -p /run/munge
  $sudo chown munge:munge /run/munge
  $sudo chmod 0755 /run/munge
  if ! munge -n >/dev/null 2>&1; then
    $sudo runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
    cp /run/munge/munged.pid "$BASE/run/munged.pid"
  fi

  # ANCHOR: config
  cat >"$SLURM_CONF" <<CONF
ClusterName=ci
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$BASE/state
SlurmdSpoolDir=$BASE/spool
SlurmctldPidFile=$BASE/run/slurmctld.pid
SlurmdPidFile=$BASE/run/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$BASE/log/jobcomp.txt
MpiDefault=none
SwitchType=switch/none
MailProg=/bin/true
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
KillWait=5
MinJobAge=600
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${ncpu} RealMemory=${mem} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF
  # ANCHOR_END: config

  # Foreground mode (-D), backgrounded, so this script owns the pids.
  nohup slurmctld -D -c -f "$SLURM_CONF" >"$BASE/log/slurmctld.stdout" 2>&1 &
  echo $! >"$BASE/run/slurmctld.bgpid"
  nohup slurmd -D -f "$SLURM_CONF" >"$BASE/log/slurmd.stdout" 2>&1 &
  echo $! >"$BASE/run/slurmd.bgpid"

  local st=""
  for _ in $(seq 300); do
    st=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
    if [ "$st" = idle ]; then
      echo "export SLURM_CONF=$SLURM_CONF"
      return
    fi
    sleep 0.1
  done
  echo "slurm did not come up (node state: ${st:-?})" >&2
  tail -20 "$BASE/log/slurmctld.log" "$BASE/log/slurmd.log" >&2
  exit 1
}

stop() {
  local pids=() p
  for f in slurmd.bgpid slurmctld.bgpid munged.pid; do
    [ -s "$BASE/run/$f" ] && pids+=("$(cat "$BASE/run/$f")")
    rm -f "$BASE/run/$f"
  done
  [ ${#pids[@]} -eq 0 ] && return
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 100); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && return
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}

case "$cmd" in
install) install ;;
start) start ;;
stop) stop ;;
*)
  echo "usage: $0 install|start|stop [BASE]" >&2
  exit 2
  ;;
esac
