#!/usr/bin/env bash
# A/B of two revisions from outside, interleaved: builds the side-by-side binaries of each
# revision (its tree from `git archive`, built into the usual target/sidebyside), copies them
# into a directory per revision (the load generator starts the servers found beside itself),
# then runs the generator of A and of B in turn, one repeat each, alternating which goes first,
# so that a machine whose load drifts weighs on both alike. Ends with the medians and ranges
# of each side's per-repeat ratios (ab_summary.py).
#
#     flock /tmp/bench.lock bash mcp-transport/sidebyside/ab.sh main HEAD --repeats 3 --only http
#
# Options after the two revisions: --repeats N (3) goes to this script, everything else to
# each generator run (e.g. --only http --secs 2). The binaries and each run's output stay in
# $AB_DIR (default target/sidebyside/ab): A/ and B/ hold the binaries, run-{A,B}-N.{md,err}
# the tables and the per-cell lines. AB_SKIP_BUILD=1 reuses the binaries already there.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
[ $# -ge 2 ] || { echo "usage: $0 REV_A REV_B [--repeats N] [generator options]" >&2; exit 2; }
rev_a=$1 rev_b=$2
shift 2
repeats=3
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --repeats) repeats=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/sidebyside}"
ab="${AB_DIR:-$CARGO_TARGET_DIR/ab}"
mkdir -p "$ab"
build() { # rev side
  local src="$ab/src-$2"
  rm -rf "$src" && mkdir -p "$src"
  git -C "$root" archive "$1" | tar -xm -C "$src"  # -m: mtimes now, or cargo may keep an older build
  echo "==> building $2 = $1 ($(git -C "$root" rev-parse --short "$1"))" >&2
  cargo build --release --locked --manifest-path "$src/mcp-transport/sidebyside/Cargo.toml" --bins >&2
  mkdir -p "$ab/$2"
  for bin in loadgen ours rmcp-server bare; do cp "$CARGO_TARGET_DIR/release/$bin" "$ab/$2/"; done
  rm -rf "$src"
}
if [ "${AB_SKIP_BUILD:-}" != 1 ]; then
  build "$rev_a" A
  build "$rev_b" B
fi
rm -f "$ab"/run-*
for r in $(seq 1 "$repeats"); do
  if [ $((r % 2)) = 1 ]; then order="A B"; else order="B A"; fi
  for side in $order; do
    echo "==> repeat $r of $repeats: $side (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    "$ab/$side/loadgen" --repeats 1 "${args[@]}" >"$ab/run-$side-$r.md" 2>"$ab/run-$side-$r.err"
  done
done
python3 "$here/ab_summary.py" "$ab" "A = $rev_a" "B = $rev_b"
