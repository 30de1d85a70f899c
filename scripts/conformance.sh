#!/usr/bin/env bash
# Runs the official MCP conformance suite (npm @modelcontextprotocol/conformance) against
# examples' conformance-server over streamable HTTP, in both protocol eras, then again against
# mcp-gateway fronting conformance-server (started by the gateway over stdio, mounted with
# `prefix = ""`): the gateway must be as conformant as the server behind it.
#
#   1. 0.1.16 (the stable line, protocol 2025-11-25), `--suite active`, with an empty
#      expected-failures baseline (so a warning fails too);
#   2. 0.2.0-alpha.12 with `--requirements 2026-07-28` (the stateless era);
#   3. 0.2.0-alpha.12 with `--requirements 2025-11-25` (the stateful era);
#   4. runs 2 and 3 again through HAProxy round-robin in front of two replicas sharing a
#      Redis store (scripts/conformance-replicas.sh).
#
# The alphas' exit status ignores scenarios the requirement set lists as "not scored"
# (the tasks-* extension and the pending json-schema-2020-12, http-header-validation and
# http-custom-header-server-validation), so each run's per-scenario lines (`✓ name: ...` /
# `✗ name: ...`) are checked instead: every scenario must pass, and each 2026-07-28 run (direct
# and through the gateway) must list each of the ten tasks-* scenarios of the
# io.modelcontextprotocol/tasks extension with a ✓ (a scenario missing from the summary fails
# the run too).
#
# Node 22 and each suite version install into target/ (once; Node 22 comes from the npm
# registry as the `node` package): 0.1.16 into target/node, the alpha into
# target/node-alpha. The fixture is built once and started once for all three runs; the
# gateway once for its three runs (named gateway-*).
#
# Usage: scripts/conformance.sh [extra arguments for every `conformance server` run]
# Results (checks.json per scenario) go to target/conformance/<run>/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

stable_version=0.1.16
alpha_version=0.2.0-alpha.12
node_major=22
out_dir="$root/target/conformance"
log="$out_dir/server.log"

installed_version() {
  local manifest="$1/node_modules/@modelcontextprotocol/conformance/package.json"
  [ -f "$manifest" ] && sed -n 's/^  "version": "\(.*\)",$/\1/p' "$manifest"
}
node_ok() {
  [ -x "$1/node_modules/.bin/node" ] &&
    "$1/node_modules/.bin/node" --version 2>/dev/null | grep -q "^v${node_major}\."
}
install_suite() { # dir version
  if ! node_ok "$1" || [ "$(installed_version "$1")" != "$2" ]; then
    echo "==> installing Node ${node_major} and @modelcontextprotocol/conformance@$2 into $1"
    mkdir -p "$1"
    npm install --prefix "$1" --no-audit --no-fund --loglevel=error \
      "node@${node_major}" "@modelcontextprotocol/conformance@$2"
  fi
  node_ok "$1" || { echo "Node ${node_major} is not usable from $1" >&2; exit 1; }
}
install_suite "$root/target/node" "$stable_version"
install_suite "$root/target/node-alpha" "$alpha_version"

echo "==> building conformance-server and mcp-gateway"
# The whole workspace's binaries, as scripts/test.sh builds them just before (so nothing is
# built again here): building only these two packages unifies fewer features and compiled
# tokio, hyper, mcp-core and mcp-transport a second time, into a second set of artifacts.
cargo build --workspace --bins --examples --locked
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
server_bin="$target_dir/debug/conformance-server"
gateway_bin="$target_dir/debug/mcp-gateway"

mkdir -p "$out_dir"
rm -rf "$out_dir"/stable "$out_dir"/alpha-* "$out_dir"/gateway-*
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done' EXIT

# Starts a server (the command after $1, its log) on port 0 and sets `url` to the
# streamable HTTP address it logs.
start_server() {
  local server_log=$1
  shift
  # Created before the server starts: the background job opens it only once it runs, and the
  # first look below may come before that (a missing file failed the script under pipefail).
  : >"$server_log"
  RUST_LOG="${RUST_LOG:-info}" "$@" --transport http --bind 127.0.0.1:0 >>"$server_log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  url=""
  for _ in $(seq 1 300); do
    url=$(sed -n 's|.*serving streamable HTTP at \(http://[^ ]*/mcp\).*|\1|p' "$server_log" | head -n 1)
    [ -n "$url" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$1 exited early:" >&2
      cat "$server_log" >&2
      exit 1
    fi
    sleep 0.1
  done
  [ -n "$url" ] || { echo "$1 did not report its address:" >&2; cat "$server_log" >&2; exit 1; }
}

# Port 0: the system picks a free port, and the server logs the address it got.
start_server "$log" "$server_bin"
echo "==> conformance-server listening at $url (both eras)"

failed_runs=()

# Runs one suite; $1 names the run, $2 the install dir, the rest are its arguments.
run_suite() {
  local name=$1 dir=$2
  shift 2
  local output="$out_dir/$name.txt"
  echo
  echo "==> conformance run '$name': conformance server --url $url $*"
  set +e
  PATH="$dir/node_modules/.bin:$PATH" conformance server --url "$url" "$@" \
    -o "$out_dir/$name" "${extra[@]}" 2>&1 | tee "$output"
  local status=${PIPESTATUS[0]}
  set -e
  # Per-scenario lines of the summary: `✓ name: N passed, N failed` or `✗ name: ...`.
  local scenario_lines bad
  scenario_lines=$(sed -n '/=== SUMMARY ===/,/^Total:/p' "$output" | grep -E '^[✓✗] ' || true)
  if [ -z "$scenario_lines" ]; then
    echo "conformance '$name': the suite printed no per-scenario summary (exit status $status)" >&2
    failed_runs+=("$name")
    return
  fi
  bad=$(echo "$scenario_lines" | grep '^✗ ' || true)
  local scenario
  for scenario in "${required_scenarios[@]}"; do
    if ! echo "$scenario_lines" | grep -q "^✓ $scenario: "; then
      bad+=$'\n'"(scenario $scenario did not pass or did not run)"
    fi
  done
  local passed total
  passed=$(echo "$scenario_lines" | grep -c '^✓ ' || true)
  total=$(echo "$scenario_lines" | wc -l)
  echo "conformance '$name': $passed of $total scenarios pass; $(grep -E '^Total: ' "$output" | tail -n 1)"
  if [ -n "$bad" ]; then
    echo "conformance '$name' FAILED:" >&2
    echo "$bad" >&2
    failed_runs+=("$name")
  fi
}

extra=("$@")
# The tasks extension's scenarios (SEP-2663), all required in the 2026-07-28 run.
tasks_scenarios=(tasks-lifecycle tasks-capability-negotiation tasks-wire-fields
  tasks-request-state-removal tasks-mrtr-input tasks-request-headers
  tasks-dispatch-and-envelope tasks-status-notifications tasks-required-task-error
  tasks-mrtr-composition)
required_scenarios=()
run_suite stable "$root/target/node" --suite active \
  --expected-failures "$root/scripts/conformance-baseline.yaml"
# The stable suite ends with `Total: N passed, N failed` and no ✓/✗ lines for a single
# scenario; its exit status covers it (the empty baseline makes warnings fail too).
if ! grep -qE '^Total: [0-9]+ passed, 0 failed' "$out_dir/stable.txt"; then
  case " ${failed_runs[*]-} " in *" stable "*) ;; *) failed_runs+=("stable") ;; esac
fi
required_scenarios=("${tasks_scenarios[@]}")
run_suite alpha-2026-07-28 "$root/target/node-alpha" --requirements 2026-07-28
required_scenarios=()
run_suite alpha-2025-11-25 "$root/target/node-alpha" --requirements 2025-11-25

# The same three runs through mcp-gateway, which starts conformance-server over stdio and
# mounts it unprefixed.
gateway_config="$out_dir/gateway.toml"
cat >"$gateway_config" <<EOF
[servers.conformance]
command = ["$server_bin", "--transport", "stdio"]
prefix = ""
EOF
start_server "$out_dir/gateway.log" "$gateway_bin" --config "$gateway_config"
echo "==> mcp-gateway fronting conformance-server (stdio, unprefixed) at $url"
run_suite gateway-stable "$root/target/node" --suite active \
  --expected-failures "$root/scripts/conformance-baseline.yaml"
if ! grep -qE '^Total: [0-9]+ passed, 0 failed' "$out_dir/gateway-stable.txt"; then
  case " ${failed_runs[*]-} " in *" gateway-stable "*) ;; *) failed_runs+=("gateway-stable") ;; esac
fi
# Tasks pass through the gateway as they do direct (it runs each as a task of its own
# that follows the server's): the ten tasks-* scenarios are required here too.
required_scenarios=("${tasks_scenarios[@]}")
run_suite gateway-alpha-2026-07-28 "$root/target/node-alpha" --requirements 2026-07-28
required_scenarios=()
run_suite gateway-alpha-2025-11-25 "$root/target/node-alpha" --requirements 2025-11-25

# The alpha in both eras again, through HAProxy round-robin in front of two replicas
#    sharing a Redis store (scripts/conformance-replicas.sh starts all of it).
echo
if ! bash "$root/scripts/conformance-replicas.sh" "$server_bin"; then
  failed_runs+=("replicas")
fi

echo
if [ "${#failed_runs[@]}" -ne 0 ]; then
  echo "conformance suite FAILED in: ${failed_runs[*]}; server log: $log" >&2
  exit 1
fi
echo "conformance: every scenario passes in all three direct runs, through mcp-gateway and through two replicas, the tasks-* extension included"
