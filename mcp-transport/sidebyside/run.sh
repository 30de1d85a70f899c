#!/usr/bin/env bash
# The side-by-side benchmark (see BENCHMARKS.md): builds the three servers and the load
# generator in release mode, then runs the generator, which starts a fresh server process for
# every cell. Options go to the generator (--repeats, --secs, --load-secs, --sessions,
# --events, --only http,stdio,latency,flood,rss,idle, --http-clients 4,16, --http-servers
# ours,bare). The tables go to stdout, progress to stderr.
#
#     bash mcp-transport/sidebyside/run.sh            # the full run behind BENCHMARKS.md
#     bash mcp-transport/sidebyside/run.sh --repeats 1 --only http
#
# To compare two revisions of our server, interleaved: ab.sh (e.g. `ab.sh main HEAD --only http`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# A target directory of its own beside the workspace's, so the two builds never mix.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/../../target/sidebyside}"
cargo build --release --locked --manifest-path "$here/Cargo.toml" --bins >&2
exec "$CARGO_TARGET_DIR/release/loadgen" "$@"
