#!/usr/bin/env python3
"""The summary of an A/B run of ab.sh: per side, the median (min-max) over its repeats of
each HTTP tools/call figure and of the ratios taken within each repeat.

    python3 mcp-transport/sidebyside/ab_summary.py target/sidebyside/ab "A = main" "B = HEAD"

Reads the per-cell lines the generator prints to stderr (`  figure | server | value`).
"""

import glob
import re
import statistics
import sys

LINE = re.compile(r"\s+(.*?) \| (.*?) \| ([\d.]+)$")


def load(path):
    values = {}
    with open(path) as f:
        for line in f:
            m = LINE.match(line.rstrip())
            if m:
                values[(m.group(1), m.group(2))] = float(m.group(3))
    return values


def spread(xs, digits):
    return f"{statistics.median(xs):.{digits}f} ({min(xs):.{digits}f}-{max(xs):.{digits}f})"


def main():
    ab, names = sys.argv[1], sys.argv[2:]
    for side, name in zip("AB", names + [""] * 2):
        runs = [load(p) for p in sorted(glob.glob(f"{ab}/run-{side}-*.err"))]
        runs = [r for r in runs if r]
        if not runs:
            continue
        print(f"\n## {side} {name}: median (min-max) of {len(runs)} repeats\n")
        print("| clients | ours calls/s | ours/bare | ours/rmcp | stateless/bare "
              "| ours server CPU µs/call | bare server CPU µs/call |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for clients in (1, 4, 16):
            fig = f"tools/call HTTP, {clients} client(s), calls/s"
            if (fig, "ours") not in runs[0]:
                continue
            cpu = f"{fig}: server CPU µs per operation"
            col = lambda key, kind: [r[(key, kind)] for r in runs]  # noqa: E731
            ratio = lambda a, b: [r[(fig, a)] / r[(fig, b)] for r in runs]  # noqa: E731
            print(f"| {clients} | {spread(col(fig, 'ours'), 0)} "
                  f"| {spread(ratio('ours', 'bare hyper'), 2)} "
                  f"| {spread(ratio('ours', 'rmcp'), 2)} "
                  f"| {spread(ratio('ours stateless', 'bare hyper'), 2)} "
                  f"| {spread(col(cpu, 'ours'), 1)} | {spread(col(cpu, 'bare hyper'), 1)} |")


if __name__ == "__main__":
    main()
