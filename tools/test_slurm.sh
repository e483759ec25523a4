#!/usr/bin/env bash
# A one-node Slurm cluster on this machine (Debian's slurm-wlm and munge), a 2-task array job of
# `danet evaluate --shard auto --save-counts`, then `--merge`, compared with the unsplit run: the
# merged report must be the unsplit one, byte for byte. Needs root (it installs and starts daemons).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
danet=${1:-$repo/.build/debug/danet}

missing=()
for package in slurm-wlm munge; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

base=$(mktemp -d)
stop() {
    local status=$?
    for daemon in slurmd slurmctld; do
        [ -f "$base/$daemon.pid" ] || continue
        local pid
        pid=$(cat "$base/$daemon.pid")
        kill "$pid" 2>/dev/null || true
        # slurmctld writes its state as it stops: removing the folder under it fails ("Directory
        # not empty"), so wait up to 10 s for each daemon to be gone first.
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
    rm -rf "$base"
    exit "$status"
}
trap stop EXIT
mkdir -p "$base/state" "$base/spool" "$base/out"
chmod 755 "$base"

# munge, which Slurm authenticates with: a key, and the daemon as its own user.
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
[ -f /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
chmod 0700 /etc/munge && chmod 0400 /etc/munge/munge.key
pgrep -x munged >/dev/null || su -s /bin/sh munge -c /usr/sbin/munged

host=$(hostname -s)
cat > "$base/slurm.conf" <<CONF
ClusterName=danet-test
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$base/state
SlurmdSpoolDir=$base/spool
SlurmctldPidFile=$base/slurmctld.pid
SlurmdPidFile=$base/slurmd.pid
SlurmctldLogFile=$base/slurmctld.log
SlurmdLogFile=$base/slurmd.log
MpiDefault=none
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$base/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 30); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 1; done
sinfo

eval=$repo/Fixtures/pipeline/eval
common=(--images "$eval/images" --labels "$eval/labels" --weights "$repo/Fixtures/danet/official_resnet7_r50.pth.tar"
        --base-size 96 --crop-size 64 --scales 0.5,1,1.5 --threads 1)
cat > "$base/job.sh" <<JOB
#!/bin/bash
set -e
"$danet" evaluate ${common[*]} --shard auto --save-counts "$base/out/part-\$SLURM_ARRAY_TASK_ID.json"
JOB
if ! timeout 600 sbatch --wait --array=0-1 --cpus-per-task=1 --output="$base/out/task-%a.txt" "$base/job.sh"; then
    echo "the Slurm array job failed:"; cat "$base"/out/task-*.txt "$base"/*.log 2>/dev/null | tail -40
    exit 1
fi
for task in 0 1; do echo "== task $task"; cat "$base/out/task-$task.txt"; done

"$danet" evaluate --merge "$base/out/part-0.json" "$base/out/part-1.json" > "$base/merged.txt"
"$danet" evaluate "${common[@]}" > "$base/unsplit.txt"
echo "== merged";  head -2 "$base/merged.txt"
echo "== unsplit"; head -2 "$base/unsplit.txt"
if ! diff "$base/merged.txt" "$base/unsplit.txt"; then
    echo "the merged shards differ from the unsplit evaluation"
    exit 1
fi
echo "slurm: a 2-task array job's shards merged to exactly the unsplit report"
