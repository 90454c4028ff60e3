#!/usr/bin/env bash
# Runs the whole test suite RUNS times (default 5) in a shuffled order while a CPU hog keeps every
# core busy, and stops at the first failure. The suite must pass this every time: a test that
# depends on the machine's speed or on the order of tests is a defect.
#
#   bash scripts/test-under-load.sh            # 5 shuffled runs under load
#   RUNS=10 bash scripts/test-under-load.sh    # more runs
#   bash scripts/test-under-load.sh test/conformance   # extra vitest arguments (a subset)
#
# The Redis store tests run too when redis-server is installed (scripts/with-redis.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${RUNS:-5}"
CORES="$(nproc)"
hogs=()
stop_hogs() {
  for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${hogs[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_hogs EXIT INT TERM

for _ in $(seq "$CORES"); do
  node -e 'for (;;) {}' &
  hogs+=("$!")
done
echo "${#hogs[@]} CPU hogs running (one per core)"

runner=(npx vitest run --sequence.shuffle)
if command -v redis-server >/dev/null; then runner=(bash scripts/with-redis.sh "${runner[@]}"); fi

for run in $(seq "$RUNS"); do
  seed="$RANDOM$RANDOM"
  echo "==> run $run of $RUNS (shuffle seed $seed)"
  started=$SECONDS
  if ! "${runner[@]}" --sequence.seed="$seed" "$@"; then
    echo "run $run failed; rerun it with: npx vitest run --sequence.shuffle --sequence.seed=$seed $*"
    exit 1
  fi
  echo "run $run passed in $((SECONDS - started)) s"
done
echo "all $RUNS runs passed under load"
