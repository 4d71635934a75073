#!/usr/bin/env bash
# Benchmark: `make run` from a fresh clone to the first 200 from /healthz (issue 18).
#
#   bench/make_run_fresh.sh [PORT]
#
# Clones this repository's HEAD into a temporary directory, runs `make run` there with an
# empty uv cache and pip's cache off (every package is downloaded, as on a new machine),
# polls http://127.0.0.1:PORT/healthz every 0.25 s and prints the seconds to the first 200.
# The server is stopped and the clone removed afterwards. The log stays in $WORK/make-run.log.
set -euo pipefail
PORT=${1:-5077}
REPO=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
WORK=$(mktemp -d /tmp/make-run-fresh.XXXXXX)
git clone -q "$REPO" "$WORK/clone"
start=$(date +%s.%N)
cd "$WORK/clone"
# Its own session, so that the server and everything make started stop together.
UV_CACHE_DIR="$WORK/uv-cache" PIP_NO_CACHE_DIR=1 \
  setsid make run PORT="$PORT" >"$WORK/make-run.log" 2>&1 &
pid=$!
cd /
trap 'kill -- -"$pid" 2>/dev/null || true; sleep 1; rm -rf "$WORK/clone" "$WORK/uv-cache"' EXIT
for _ in $(seq 1 2400); do
  if curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz"; then
    end=$(date +%s.%N)
    printf 'fresh clone to the first 200 from /healthz: %.1f s (load: %s)\n' \
      "$(echo "$end - $start" | bc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
    exit 0
  fi
  sleep 0.25
done
echo "no 200 from /healthz within 600 s; see $WORK/make-run.log" >&2
exit 1
