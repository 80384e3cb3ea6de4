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
