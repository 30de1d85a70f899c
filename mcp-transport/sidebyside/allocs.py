#!/usr/bin/env python3
"""Allocations a release server makes per `tools/call` and per progress notification.

Counts glibc `malloc` and `realloc` calls with perf's uprobes (`probe_libc:malloc`,
`probe_libc:realloc`; made once with `perf probe -x <libc> malloc` and `... realloc`) while one
keep-alive client drives the server over streamable HTTP (or stdio), after a warm-up.
Deterministic, so unaffected by the machine's load.

    python3 mcp-transport/sidebyside/allocs.py target/sidebyside/release   # ours and bare
    python3 mcp-transport/sidebyside/allocs.py DIR --servers ours --calls 200 --steps 2000

Per call: `progress {steps: 0}` (no progress token), as the side-by-side bench's calls/s.
Per notification: one call of `--steps` steps with a progress token, minus one call of none,
divided by the steps (stdio and HTTP).
"""

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import time

VERSION = "2025-11-25"


def call(i, steps, token):
    meta = {"_meta": {"progressToken": i}} if token else {}
    return json.dumps(
        {
            "jsonrpc": "2.0",
            "id": i,
            "method": "tools/call",
            "params": {"name": "progress", "arguments": {"steps": steps, "delay_ms": 0}, **meta},
        }
    ).encode()


INITIALIZE = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": VERSION,
            "capabilities": {},
            "clientInfo": {"name": "allocs", "version": "1"},
        },
    }
).encode()
INITIALIZED = b'{"jsonrpc":"2.0","method":"notifications/initialized"}'


class Http:
    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port))
        self.session = None

    def post(self, body):
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": VERSION,
        }
        if self.session:
            headers["Mcp-Session-Id"] = self.session
        self.conn.request("POST", "/mcp", body, headers)
        r = self.conn.getresponse()
        data = r.read()
        self.session = self.session or r.getheader("Mcp-Session-Id")
        return data


class Stdio:
    def __init__(self, proc):
        self.proc = proc

    def post(self, body):
        self.proc.stdin.write(body + b"\n")
        self.proc.stdin.flush()
        if b'"id"' not in body:
            return b""
        while True:
            line = self.proc.stdout.readline()
            if b'"result"' in line or b'"error"' in line:
                return line


def counted(pid, work):
    """malloc and realloc calls of `pid` while `work` runs."""
    perf = subprocess.Popen(
        ["perf", "stat", "-x,", "-e", "probe_libc:malloc,probe_libc:realloc", "-p", str(pid)],
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)
    work()
    time.sleep(0.3)
    perf.send_signal(signal.SIGINT)
    _, err = perf.communicate()
    counts = {}
    for line in err.splitlines():
        parts = line.split(",")
        if len(parts) > 2 and parts[2].startswith("probe_libc:"):
            counts[parts[2].split(":")[1]] = int(parts[0])
    return counts.get("malloc", 0), counts.get("realloc", 0)


def measure(binary, transport, calls, steps, bare):
    if transport == "http":
        proc = subprocess.Popen([binary, "http"], stdout=subprocess.PIPE)
        addr = proc.stdout.readline().decode().strip()
        client = Http(addr)
    else:
        proc = subprocess.Popen([binary, "stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        client = Stdio(proc)
    try:
        if not bare:
            client.post(INITIALIZE)
            client.post(INITIALIZED)
        for i in range(1, 6):
            assert b"done 0" in client.post(call(i, 0, False))
        m, r = counted(proc.pid, lambda: [client.post(call(100 + i, 0, False)) for i in range(calls)])
        out = {"per call": (m / calls, r / calls)}
        if not bare and steps:
            def flood():
                answer = client.post(call(10, steps, True))
                assert f"done {steps}".encode() in answer, answer[-200:]

            fm, fr = counted(proc.pid, flood)
            one_m, one_r = m / calls, r / calls
            out["per notification"] = ((fm - one_m) / steps, (fr - one_r) / steps)
        return out
    finally:
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", help="the release directory holding `ours` and `bare`")
    ap.add_argument("--servers", default="ours,bare")
    ap.add_argument("--transports", default="http,stdio")
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--steps", type=int, default=2000)
    a = ap.parse_args()
    for server in a.servers.split(","):
        bare = server == "bare"
        for transport in a.transports.split(","):
            if bare and transport != "http":
                continue
            out = measure(os.path.join(a.dir, server), transport, a.calls, a.steps, bare)
            for what, (m, r) in out.items():
                print(f"{server} {transport} {what}: {m:.1f} malloc, {r:.1f} realloc")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
