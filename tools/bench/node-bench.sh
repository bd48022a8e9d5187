#!/usr/bin/env bash
# Node throughput and latency, as in docs/BENCHMARKS.md: a private nats-server on a
# free port (JetStream on, for the arbiter), a standalone node or a pair (PAIR=1), and
# the loadgen: account credits over 10,000 assets, 64 in flight with batching off and
# on, then 1 in flight. Stops what it started, by PID.
# Usage: tools/bench/node-bench.sh   (env: PAIR=1 DURATION=8 WARMUP=2 FSYNC=5ms EVENTS=on CLIENTS=1 OUT=dir
#                                     NODE_ARGS="..." NODE_FLAGS="..." RUNS="name loadgen-flags;name loadgen-flags")
# NODE_ARGS go to the node program, NODE_FLAGS to the Node.js runtime that runs it, e.g.
# NODE_FLAGS="--cpu-prof --cpu-prof-dir tmp/prof" (profiles written when the nodes stop;
# tools/bench/cpu-top.ts summarises them).
# With OUT set, each run also writes OUT/<name>.json and OUT/<name>.html (the loadgen's reports).
# After each run: CPU per committed update of each server process (from /proc, over the
# measured span: sampled when the warm-up ends and when the loadgen exits).
# RUNS replaces the default three runs (tools/bench/sitting.sh uses it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
DURATION=${DURATION:-8}; WARMUP=${WARMUP:-2}; FSYNC=${FSYNC:-5ms}; EVENTS=${EVENTS:-on}; CLIENTS=${CLIENTS:-1}; PAIR=${PAIR:-0}
PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
DIR=$(mktemp -d -t txtest-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
nats-server -a 127.0.0.1 -p "$PORT" -js -sd "$DIR/js" > "$DIR/nats.log" 2>&1 & PIDS+=($!)
NAMES=(nats-server)
# shellcheck disable=SC2206
common=(--nats "nats://127.0.0.1:$PORT" --http 0 --fsync "$FSYNC" --events "$EVENTS" --log-level warn ${NODE_ARGS:-})
if [ "$PAIR" = 1 ]; then
  node ${NODE_FLAGS:-} apps/node/bin/txtest-node.js --id b1 --peer b2 --data-dir "$DIR/b1" "${common[@]}" > "$DIR/b1.log" 2>&1 & PIDS+=($!)
  node ${NODE_FLAGS:-} apps/node/bin/txtest-node.js --id b2 --peer b1 --data-dir "$DIR/b2" "${common[@]}" > "$DIR/b2.log" 2>&1 & PIDS+=($!)
  NAMES+=("primary b1" "standby b2")
  want='"role":"primary"'
else
  node ${NODE_FLAGS:-} apps/node/bin/txtest-node.js --id b1 --standalone --data-dir "$DIR/b1" "${common[@]}" > "$DIR/b1.log" 2>&1 & PIDS+=($!)
  NAMES+=("solo b1")
  want='"role":"solo"'
fi
# Polling the status subject is how an operator would wait for the role, too.
for _ in $(seq 1 100); do node apps/loadgen/bin/txtest-loadgen.js req --nats "nats://127.0.0.1:$PORT" status.b1 '{}' 2>/dev/null | grep -q "$want" && break; sleep 0.1; done
# CPU time (clock ticks, user + system) of each server process, in PIDS order.
ticks() { for p in "${PIDS[@]}"; do awk '{ print $14 + $15 }' "/proc/$p/stat"; done; }
run() {
  local name=$1; shift
  local out=()
  [ -n "${OUT:-}" ] && mkdir -p "$OUT" && out=(--json "$OUT/$name.json" --html "$OUT/$name.html")
  echo "## $name"
  (sleep "$WARMUP"; ticks > "$DIR/ticks-start") &
  local sampler=$!
  node apps/loadgen/bin/txtest-loadgen.js --nats "nats://127.0.0.1:$PORT" --nodes b1,b2 --duration "$DURATION" --warmup "$WARMUP" --assets 10000 --progress off "${out[@]}" "$@" | tee "$DIR/run.txt"
  ticks > "$DIR/ticks-end"
  wait "$sampler"
  local committed
  committed=$(sed -n 's/.*(\([0-9,]*\) committed.*/\1/p' "$DIR/run.txt" | tr -d , | head -n 1)
  paste "$DIR/ticks-start" "$DIR/ticks-end" | awk -v n="$committed" -v hz="$(getconf CLK_TCK)" -v names="$(IFS=,; echo "${NAMES[*]}")" '
    BEGIN { split(names, name, ",") }
    { us = ($2 - $1) / hz * 1e6 / n; line = line sprintf("%s%s %.1f µs", NR > 1 ? ", " : "", name[NR], us) }
    END { print "  server CPU per update     " line }'
}
echo "# $([ "$PAIR" = 1 ] && echo pair || echo 'standalone node'), fsync $FSYNC, events $EVENTS, clients $CLIENTS"
if [ -n "${RUNS:-}" ]; then
  IFS=';' read -ra runs <<< "$RUNS"
  # shellcheck disable=SC2086
  for r in "${runs[@]}"; do run $r; done
else
  run batch-off-64 --in-flight 64 --batch off --clients "$CLIENTS"
  run batch-on-64 --in-flight 64 --batch on --clients "$CLIENTS"
  run in-flight-1 --in-flight 1 --batch on --clients 1
fi
