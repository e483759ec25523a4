#!/usr/bin/env bash
# The default thread count follows the CPU affinity and a cgroup CPU quota: `danet-bench kernels`
# reports it under `taskset -c 0` and inside a cgroup limited to half a CPU (cgroup v1 `cpu` or v2
# `cpu.max`). The cgroup part needs root and a writable cgroup hierarchy; it says so when it cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${1:-.build/debug/danet-bench}
threads() { python3 -c 'import json, sys; print(json.load(sys.stdin)["defaultThreads"])'; }
failed=0

pinned=$(taskset -c 0 "$bench" kernels | threads)
echo "taskset -c 0: default threads $pinned (expected 1)"
[ "$pinned" = 1 ] || failed=1

group=""
if [ -w /sys/fs/cgroup/cpu ] && [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
    group=/sys/fs/cgroup/cpu/danet-test-$$
    mkdir "$group"
    echo 100000 > "$group/cpu.cfs_period_us"
    echo 50000 > "$group/cpu.cfs_quota_us"
elif [ -w /sys/fs/cgroup ] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
    grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control || echo +cpu > /sys/fs/cgroup/cgroup.subtree_control || true
    group=/sys/fs/cgroup/danet-test-$$
    mkdir "$group"
    echo "50000 100000" > "$group/cpu.max" || { rmdir "$group"; group=""; }
fi
if [ -n "$group" ]; then
    limited=$(sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" kernels' sh "$group" "$bench" | threads)
    rmdir "$group"
    echo "cgroup quota of half a CPU: default threads $limited (expected 1)"
    [ "$limited" = 1 ] || failed=1
else
    echo "cgroup quota: not run (no writable cgroup hierarchy with the cpu controller here)"
fi
exit $failed
