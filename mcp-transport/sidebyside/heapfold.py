#!/usr/bin/env python3
"""Groups a heaptrack peak-cost folded file by the innermost frame of interest.

    heaptrack_print -f X.zst --flamegraph-cost-type peak -F X.folded
    python3 mcp-transport/sidebyside/heapfold.py X.folded N   # bytes per session, N sessions
"""
import re, subprocess, sys, collections
lines = open(sys.argv[1]).read().splitlines()
n = int(sys.argv[2])
names = set()
stacks = []
for line in lines:
    stack, cost = line.rsplit(" ", 1)
    frames = [re.sub(r" \(.*\)$", "", f) for f in stack.split(";")]
    stacks.append((frames, int(cost)))
    names.update(frames)
names = sorted(names)
out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True).stdout.split("\n")
dem = {a: re.sub(r"\[[0-9a-f]+\]", "", b) for a, b in zip(names, out)}
# skip allocator plumbing
SKIP = re.compile(r"^(<?alloc::|<alloc::|alloc::|core::|std::|__rust|<std::|<core::|_rust|malloc|calloc|realloc|<hashbrown|hashbrown::|<bytes::bytes_mut|<tokio::runtime::task|tokio::runtime::task|<tokio::runtime::scheduler|tokio::runtime::scheduler|tokio::runtime::context|<tokio::runtime::blocking|tokio::runtime::blocking)")
INTEREST = re.compile(r"(mcp_|hyper|tokio::|tokio_util|h2::|bytes::|http::)")
agg = collections.Counter()
for frames, cost in stacks:
    d = [dem[f] for f in frames]
    # innermost interesting frame plus innermost of our crates
    label = None
    for f in reversed(d):
        if INTEREST.search(f) and not SKIP.search(f):
            label = f
            break
    ours = next((f for f in reversed(d) if "mcp_" in f), "")
    if ours == label:
        ours = ""
    agg[(label or d[-1])[:150] + ("  <= " + ours[:120] if ours else "")] += cost
tot = sum(agg.values())
print(f"total {tot} B = {tot / n:.0f} B per session")
for k, v in agg.most_common(40):
    if v / n < 4:
        break
    print(f"{v / n:8.0f} B/session  {k}")
