#!/usr/bin/env bash
# The browser tests RUNS times in a row (default 3) with every core kept busy by a spinning process, to show they
# wait on conditions, not on time. Each run is `scripts/e2e.py` (a fresh demo database and gunicorn), as in make test.
#   scripts/e2e_under_load.sh          (after `make deps pwa`; CHROMIUM_PATH defaults to the system's chromium)
set -uo pipefail
cd "$(dirname "$0")/.."
export CHROMIUM_PATH=${CHROMIUM_PATH:-$(command -v chromium)}
spinners=()
for _ in $(seq 1 "$(nproc)"); do sh -c 'while :; do :; done' & spinners+=($!); done
trap 'kill "${spinners[@]}" 2>/dev/null' EXIT
failed=0
for i in $(seq 1 "${RUNS:-3}"); do
  started=$(date +%s)
  log=$(mktemp -t gridpatrol-e2e-load-XXXX.log)
  .venv/bin/python scripts/e2e.py >"$log" 2>&1 || failed=1
  echo "run $i: $(grep -E '^# (pass|fail)' "$log" | tr '\n' ' ')in $(( $(date +%s) - started )) s, load $(cut -d' ' -f1 /proc/loadavg) (log: $log)"
done
exit $failed
