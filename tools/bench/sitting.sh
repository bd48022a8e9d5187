#!/usr/bin/env bash
# One benchmark sitting, as docs/BENCHMARKS.md reports it: the peers first, then TxTest
# standalone, the pair (64 in flight with and without batching, 1 in flight, a wide
# batched window, --fsync always, the order book), and the failover drill, all on this
# machine one after the other so they compare.
# The peers (raw NATS request-reply, Redis + WAIT, JetStream) are the machine's shared
# peer benchmark in ../shared/bench/peers, outside this repository: it is copied to a
# temp dir and run there; PEERS=0 skips it where it does not exist.
# Writes every loadgen report (JSON and HTML) and the peers' results to OUT.
# Usage: tools/bench/sitting.sh [OUT]   (env: DURATION=8 WARMUP=2 KILLS=20 PEERS=1)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
OUT=${1:-tmp/sitting-$(date +%Y%m%d-%H%M)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
export DURATION=${DURATION:-8} WARMUP=${WARMUP:-2}
KILLS=${KILLS:-20}

if [ "${PEERS:-1}" = 1 ]; then
  peers=$(mktemp -d -t txtest-peers.XXXXXX)
  cp -r ../shared/bench/peers/. "$peers/"
  (cd "$peers" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && ./run.sh) > "$OUT/peers.md" 2> "$OUT/peers.log"
  cp "$peers/results.json" "$OUT/peers.json" 2>/dev/null || true
  rm -rf "$peers"
  echo "peers: $OUT/peers.md"
fi

OUT="$OUT" RUNS="standalone-batch-off-64 --in-flight 64 --batch off;standalone-batch-on-64 --in-flight 64 --batch on;standalone-in-flight-1 --in-flight 1" \
  tools/bench/node-bench.sh
OUT="$OUT" PAIR=1 RUNS="pair-batch-off-64 --in-flight 64 --batch off;pair-batch-on-64 --in-flight 64 --batch on;pair-in-flight-1 --in-flight 1;pair-batch-on-1024x4 --in-flight 1024 --clients 4 --batch on;pair-orderbook-64 --workload orderbook --instruments 100 --in-flight 64 --batch on" \
  tools/bench/node-bench.sh
OUT="$OUT" PAIR=1 EVENTS=off RUNS="pair-events-off-64 --in-flight 64 --batch on;pair-events-off-1024x4 --in-flight 1024 --clients 4 --batch on" \
  tools/bench/node-bench.sh
OUT="$OUT" PAIR=1 FSYNC=always RUNS="pair-fsync-always-64 --in-flight 64 --batch on" tools/bench/node-bench.sh
node apps/loadgen/bin/txtest-loadgen.js drill --kills "$KILLS" --progress off --json "$OUT/drill.json" --html "$OUT/drill.html"
echo "reports: $OUT"
