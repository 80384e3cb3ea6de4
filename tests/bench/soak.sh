#!/usr/bin/env bash
# Soak benchmark (issue 10): a release `renmai serve --demo` on a fresh
# database, driven for SECONDS at RATE requests/s of mixed reads (pages, API
# reads) and writes (API interaction writes) by the `soak` example
# (tests/bench/soak.rs), which samples the server's RSS every 5 s. The run
# ends at its deadline: requests still queued are dropped and counted, those
# in flight get 10 s to be answered. It reports the achieved rate and p50,
# p99 and max latency per kind, and fails on any error, any request not
# sent or not answered in time, an achieved rate below 95% of RATE, or RSS
# growth beyond RSS_GROWTH_MB after the warm-up (WARMUP seconds: 60, or a
# quarter of a run shorter than 240 s).
#
#   tests/bench/soak.sh [SECONDS=600] [RATE=1000] [RSS_GROWTH_MB=64] [WARMUP]
#
# Prints the machine load before and after (the machine may be shared).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-600}
rate=${2:-1000}
growth=${3:-64}
warmup=${4:-$((seconds < 240 ? seconds / 4 : 60))}

# RENMAI_SOAK_DEBUG=1: a debug build, to check the generator quickly (its
# figures mean nothing).
if [ "${RENMAI_SOAK_DEBUG:-}" = "1" ]; then
    cargo build --quiet --bin renmai --example soak
    bin="${CARGO_TARGET_DIR:-target}/debug"
else
    cargo build --release --quiet --bin renmai --example soak
    bin="${CARGO_TARGET_DIR:-target}/release"
fi
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin/renmai" --db "$work/soak.db" serve --demo --addr "127.0.0.1:$port" 2>"$work/serve.log" &
server=$!
trap 'kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
token=""
for _ in $(seq 1 300); do
    token=$(grep -o 'rm_[0-9a-f]\{64\}' "$work/serve.log" | head -1 || true)
    if [ -n "$token" ] && python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/healthz')" 2>/dev/null; then break; fi
    sleep 0.2
done
[ -n "$token" ] || { cat "$work/serve.log" >&2; echo "the server did not start" >&2; exit 1; }

# Ids to use: our first seller, customers and accounts of the demo.
read -r seller customers accounts < <(python3 - "$work/soak.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
seller = c.execute("SELECT p.id FROM people p JOIN organizations o ON o.id = p.org_id WHERE o.is_ours = 1 ORDER BY p.id LIMIT 1").fetchone()[0]
accounts = [r[0] for r in c.execute("SELECT id FROM organizations WHERE is_ours = 0 AND id IN (SELECT org_id FROM people) ORDER BY id")]
customers = [r[0] for r in c.execute("SELECT id FROM people WHERE org_id IN (%s) ORDER BY id LIMIT 40" % ",".join("?" * len(accounts)), accounts)]
print(seller, ",".join(customers), ",".join(accounts))
PY
)
echo "machine load before: $(uptime)"
echo "soak: ${seconds} s at ${rate} req/s against pid $server ($(basename "$bin"), demo data)"
status=0
"$bin/examples/soak" --addr "127.0.0.1:$port" --token "$token" --pid "$server" \
    --seller "$seller" --customers "$customers" --accounts "$accounts" \
    --rate "$rate" --seconds "$seconds" --warmup "$warmup" --rss-growth-mb "$growth" || status=$?
echo "machine load after: $(uptime)"
# The server's log outlives the run (its work directory does not).
cp "$work/serve.log" "${TMPDIR:-/tmp}/renmai-soak-serve.log"
echo "server log: ${TMPDIR:-/tmp}/renmai-soak-serve.log"
exit $status
