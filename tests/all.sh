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

# ---- Bolt server for the Neo4j store (issue 6) ---------------------------------
# tests/it/conformance.rs runs the Neo4j store against the Bolt server named by
# BOLT_URI/BOLT_USER/BOLT_PASSWORD/BOLT_DATABASE. Unless they are already set,
# scripts/bolt-server installs ArcadeDB with its Bolt plugin (PyPI, needs only
# python3 + pip) and starts a fresh one on loopback; it is stopped on exit.
if [[ -z ${BOLT_URI:-} ]]; then
  bolt_port=${RENMAI_TEST_BOLT_PORT:-7697}
  step "starting a Bolt server on port $bolt_port (scripts/bolt-server)"
  trap 'scripts/bolt-server stop "$bolt_port" || true' EXIT
  set -a
  eval "$(scripts/bolt-server start "$bolt_port" --fresh)"
  set +a
fi
# ---- end of the Bolt section ----------------------------------------------------

step "cargo test --workspace"
cargo test --workspace --quiet
