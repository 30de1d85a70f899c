#!/usr/bin/env python3
"""The summary of an A/B run of ab.sh: per side, the median (min-max) over its repeats of
each HTTP and stdio tools/call figure and of the ratios taken within each repeat.

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
        print(f"\n## {side} {name}: median (min-max) of {len(runs)} repeats")
        http(runs)
        stdio(runs)


def http(runs):
    """The HTTP tools/call figures of one side's repeats, if it ran them (any subset of the
    client counts and servers: a column whose server did not run stays empty)."""
    figs = [(c, f"tools/call HTTP, {c} client(s), calls/s") for c in (1, 4, 16)]
    figs = [(c, fig) for c, fig in figs if (fig, "ours") in runs[0]]
    if not figs:
        return
    print("\n| clients | ours calls/s | ours/bare | ours/rmcp | stateless/bare "
          "| ours server CPU µs/call | bare server CPU µs/call "
          "| ours generator CPU µs/call | bare generator CPU µs/call |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for clients, fig in figs:
        cpu = f"{fig}: server CPU µs per operation"
        gen = f"{fig}: generator CPU µs per operation"

        def col(key, kind):
            xs = [r[(key, kind)] for r in runs if (key, kind) in r]
            return spread(xs, 1) if xs else ""

        def ratio(a, b):
            xs = [r[(fig, a)] / r[(fig, b)] for r in runs if (fig, a) in r and (fig, b) in r]
            return spread(xs, 2) if xs else ""

        ours = spread([r[(fig, "ours")] for r in runs], 0)
        print(f"| {clients} | {ours} | {ratio('ours', 'bare hyper')} "
              f"| {ratio('ours', 'rmcp')} | {ratio('ours stateless', 'bare hyper')} "
              f"| {col(cpu, 'ours')} | {col(cpu, 'bare hyper')} "
              f"| {col(gen, 'ours')} | {col(gen, 'bare hyper')} |")


def stdio(runs):
    """The stdio tools/call figures of one side's repeats, if it ran them."""
    if ("tools/call stdio, 1 client(s), calls/s", "ours") not in runs[0]:
        return
    switches = any(k[0].endswith("context switches per 100 calls") for k in runs[0])
    print("\n| stdio clients | ours calls/s | ours/rmcp | ours/rmcp stdio_pipes "
          "| round trip p50, µs | ours server CPU µs/call | ours server CPU, cores"
          + (" | ours server voluntary / involuntary context switches per 100 calls"
             if switches else "") + " |")
    print("| --- | --- | --- | --- | --- | --- | --- |" + (" --- |" if switches else ""))
    for clients in (1, 4):
        fig = f"tools/call stdio, {clients} client(s), calls/s"
        if (fig, "ours") not in runs[0]:
            continue
        cpu = f"{fig}: server CPU µs per operation"
        col = lambda key: [r[(key, "ours")] for r in runs]  # noqa: E731
        ratio = lambda b: [r[(fig, "ours")] / r[(fig, b)] for r in runs]  # noqa: E731
        cores = [r[(fig, "ours")] * r[(cpu, "ours")] / 1e6 for r in runs]
        trip = (spread(col("tools/call stdio, 1 client, round trip p50, µs"), 1)
                if clients == 1 else "")
        row = (f"| {clients} | {spread(col(fig), 0)} | {spread(ratio('rmcp'), 2)} "
               f"| {spread(ratio('rmcp stdio_pipes'), 2)} | {trip} "
               f"| {spread(col(cpu), 1)} | {spread(cores, 2)} |")
        if switches:
            vol = col(f"{fig}: server voluntary context switches per 100 calls")
            inv = col(f"{fig}: server involuntary context switches per 100 calls")
            row += f" {spread(vol, 1)} / {spread(inv, 1)} |"
        print(row)

if __name__ == "__main__":
    main()
