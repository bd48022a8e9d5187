#!/usr/bin/env bash
# Makes a fresh Debian machine ready to run TxTest (and, with --tests, to test it):
# checks Node.js, installs nats-server (and, with --tests, chromium for the browser
# test, prometheus for promtool, systemd for systemd-analyze) from apt when missing, then the npm packages from the lock file when
# node_modules is missing or older than it. Safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tests=0
for arg in "$@"; do
  case "$arg" in
    --tests) tests=1 ;;
    -h | --help) echo "usage: infra/bootstrap.sh [--tests]   (--tests: also chromium, promtool and systemd-analyze, for the browser, alert-rule and unit-file tests)"; exit 0 ;;
    *) echo "bootstrap: unknown argument \"$arg\" (usage: infra/bootstrap.sh [--tests])" >&2; exit 2 ;;
  esac
done

# Node.js >= 20.19: what the toolchain (tsx, vitest, Nx) and require(esm) need.
if ! command -v node >/dev/null 2>&1; then
  echo "bootstrap: Node.js is missing; TxTest needs 20.19 or later (Debian 13: apt-get install nodejs npm; else nvm install 20)" >&2
  exit 2
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "bootstrap: Node.js $(node --version) is too old; TxTest needs 20.19 or later (Debian 13: apt-get install nodejs npm; else nvm install 20)" >&2
  exit 2
fi

need_apt=()
command -v nats-server >/dev/null 2>&1 || need_apt+=(nats-server)
# The visualizer's browser test drives Debian's chromium with playwright-core (no browser download).
[ "$tests" -eq 0 ] || [ -x /usr/bin/chromium ] || need_apt+=(chromium)
# The alert rules are unit-tested with promtool, which Debian ships in prometheus.
[ "$tests" -eq 0 ] || command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
# The systemd unit is checked with systemd-analyze verify.
[ "$tests" -eq 0 ] || command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
if [ "${#need_apt[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "bootstrap: installing ${need_apt[*]} from apt" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
