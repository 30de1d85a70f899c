#!/usr/bin/env python3
"""Times `stata_run_code {"code": "display \\"hello\\""}` through an `mcp-stata` binary over stdio,
with the Stata stand-in as Stata: the time to the progress message holding `hello` and to the
result, over N calls (median and 10th percentile).

    python3 scripts/bench-stata.py BINARY [local|slurm] [N]

`slurm` needs the test cluster (`eval "$(scripts/slurm.sh start)"`). The stand-in is taken from
the binary's directory (`stata-standin`). See BENCHMARKS.md for what it showed.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

binary = os.path.abspath(sys.argv[1])
backend = sys.argv[2] if len(sys.argv) > 2 else "local"
n = int(sys.argv[3]) if len(sys.argv) > 3 else 40
work = tempfile.mkdtemp()
env = dict(
    os.environ,
    STATA_PATH=os.path.join(os.path.dirname(binary), "stata-standin"),
    MCP_STATA_WORKDIR=work,
    MCP_STATA_JOBS_DIR=os.path.join(work, "jobs"),
    MCP_STATA_BACKEND=backend,
    MCP_STATA_SLURM_POLL="0.1",
    RUST_LOG="warn",
)
server = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)


def send(message: dict) -> None:
    server.stdin.write(json.dumps(message) + "\n")
    server.stdin.flush()


send({"jsonrpc": "2.0", "id": 0, "method": "initialize",
      "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}})
server.stdout.readline()
send({"jsonrpc": "2.0", "method": "notifications/initialized"})
results, firsts = [], []
for i in range(1, n + 1):
    start, first = time.perf_counter(), None
    send({"jsonrpc": "2.0", "id": i, "method": "tools/call",
          "params": {"name": "stata_run_code", "arguments": {"code": 'display "hello"'}, "_meta": {"progressToken": i}}})
    while True:
        message = json.loads(server.stdout.readline())
        if first is None and message.get("method") == "notifications/progress" and "hello" in message["params"].get("message", "").split("\n"):
            first = time.perf_counter() - start
        if message.get("id") == i:
            break
    results.append(time.perf_counter() - start)
    firsts.append(first)
server.stdin.close()
server.wait()
results.sort()
firsts.sort()
print(f"{backend}, {n} calls: line median {statistics.median(firsts) * 1000:.1f} ms (p10 {firsts[n // 10] * 1000:.1f}), "
      f"result median {statistics.median(results) * 1000:.1f} ms (p10 {results[n // 10] * 1000:.1f})")
