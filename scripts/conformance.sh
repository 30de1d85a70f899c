#!/usr/bin/env bash
# Runs the official MCP conformance suite (npm @modelcontextprotocol/conformance, which checks
# protocol 2025-11-25 over streamable HTTP) against examples' conformance-server.
#
# Installs Node 22 and the suite into target/node (once; Node 22 comes from the npm registry
# as the `node` package), builds the fixture, starts it on a free loopback port, runs the
# suite's active scenarios with an empty expected-failures baseline (so a warning fails too),
# prints the `Total: N passed, N failed` line and exits non-zero on any failure.
#
# Usage: scripts/conformance.sh [extra arguments for `conformance server`, e.g. --scenario ping]
# Results (checks.json per scenario) go to target/conformance/results.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

suite_version=0.1.16
node_major=22
node_dir="$root/target/node"
results="$root/target/conformance/results"
log="$root/target/conformance/server.log"

installed_version() {
  local manifest="$node_dir/node_modules/@modelcontextprotocol/conformance/package.json"
  [ -f "$manifest" ] && sed -n 's/^  "version": "\(.*\)",$/\1/p' "$manifest"
}
node_ok() {
  [ -x "$node_dir/node_modules/.bin/node" ] &&
    "$node_dir/node_modules/.bin/node" --version 2>/dev/null | grep -q "^v${node_major}\."
}

if ! node_ok || [ "$(installed_version)" != "$suite_version" ]; then
  echo "==> installing Node ${node_major} and @modelcontextprotocol/conformance@${suite_version} into target/node"
  mkdir -p "$node_dir"
  npm install --prefix "$node_dir" --no-audit --no-fund --loglevel=error \
    "node@${node_major}" "@modelcontextprotocol/conformance@${suite_version}"
fi
export PATH="$node_dir/node_modules/.bin:$PATH"
node_ok || { echo "Node ${node_major} is not usable from $node_dir" >&2; exit 1; }
echo "==> node $(node --version), conformance $(installed_version)"

echo "==> building conformance-server"
cargo build -p examples --bin conformance-server --locked
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
server_bin="$target_dir/debug/conformance-server"

mkdir -p "$(dirname "$log")"
rm -rf "$results"
# Port 0: the system picks a free port, and the server logs the address it got.
RUST_LOG="${RUST_LOG:-info}" "$server_bin" --transport http --bind 127.0.0.1:0 >"$log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true' EXIT

url=""
for _ in $(seq 1 300); do
  url=$(sed -n 's|.*serving streamable HTTP at \(http://[^ ]*/mcp\).*|\1|p' "$log" | head -n 1)
  [ -n "$url" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "conformance-server exited early:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
[ -n "$url" ] || { echo "conformance-server did not report its address:" >&2; cat "$log" >&2; exit 1; }
echo "==> conformance-server listening at $url"

output="$root/target/conformance/output.txt"
set +e
conformance server --url "$url" --suite active \
  --expected-failures "$root/scripts/conformance-baseline.yaml" \
  -o "$results" "$@" 2>&1 | tee "$output"
status=${PIPESTATUS[0]}
set -e

echo
# A whole suite ends with `Total: N passed, N failed`; a single --scenario with `Passed: N/N, ...`.
total=$(grep -E '^Total: [0-9]+ passed, [0-9]+ failed' "$output" | tail -n 1 || true)
if [ -n "$total" ]; then
  echo "conformance: $total"
  failed=$(echo "$total" | sed -E 's/^Total: [0-9]+ passed, ([0-9]+) failed.*/\1/')
else
  summary=$(grep -E '^Passed: [0-9]+/[0-9]+, [0-9]+ failed' "$output" | tail -n 1 || true)
  if [ -z "$summary" ]; then
    echo "the conformance suite printed no summary (exit status $status)" >&2
    exit 1
  fi
  echo "conformance: $summary"
  failed=$(echo "$summary" | sed -E 's/^Passed: [0-9]+\/[0-9]+, ([0-9]+) failed.*/\1/')
fi
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then
  echo "conformance suite FAILED (exit status $status); server log: $log" >&2
  exit 1
fi
