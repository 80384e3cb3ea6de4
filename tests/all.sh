#!/usr/bin/env bash
# Runs every test of renmai on a fresh machine: installs what the tests need,
# checks formatting and lints, then runs the whole workspace's tests.
# Usage: tests/all.sh        (from anywhere; CI calls it from .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo test --workspace"
cargo test --workspace --quiet

# --- browser end-to-end test (pages) -------------------------------------
# Real headless Chromium from Debian (no browser download), driven from Node
# with playwright-core. RENMAI_SKIP_BROWSER=1 skips it on a local machine;
# in CI a Chromium that cannot be installed fails the run.
if [ "${RENMAI_SKIP_BROWSER:-}" != "1" ]; then
  step "e2e: Chromium and playwright-core"
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    SUDO=""; [ "$(id -u)" != "0" ] && SUDO="sudo"
    $SUDO apt-get update && $SUDO apt-get install -y chromium chromium-driver
  fi
  command -v chromium >/dev/null || { echo "e2e: chromium could not be installed" >&2; exit 1; }
  (cd tests/e2e && npm ci --no-audit --no-fund)
  step "e2e: pages in headless Chromium"
  cargo build --quiet --bin renmai
  node tests/e2e/e2e.mjs
fi
# --- end of the browser section -------------------------------------------
