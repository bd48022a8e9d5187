#!/usr/bin/env bash
# The whole test suite: every Nx project's vitest run, one project at a time (the
# process tests start real servers and want the cores), then one summary line.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export NX_DAEMON=false NX_NO_CLOUD=true
rm -rf tmp/test-results && mkdir -p tmp/test-results
npx nx run-many -t test --output-style=static --parallel=1
rc=$?
node tools/test-summary.mjs || rc=1
exit $rc
