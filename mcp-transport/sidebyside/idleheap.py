#!/usr/bin/env python3
"""Heap of N idle sessions, each with a GET stream open, under heaptrack.

    python3 mcp-transport/sidebyside/idleheap.py target/sidebyside/release 1000 -        # RSS only
    python3 mcp-transport/sidebyside/idleheap.py target/sidebyside/release 1000 /tmp/idle  # under heaptrack

Starts `DIR/ours http` under heaptrack, opens one warm-up session and then N sessions (each:
initialize, initialized, then a GET stream held open), waits, prints the server's RSS
growth per session, then stops the server. `heaptrack_print /tmp/idle.zst` (or heapfold.py) then shows what was
allocated and alive at the peak.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

VERSION = "2025-11-25"
INIT = json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
    "protocolVersion": VERSION, "capabilities": {}, "clientInfo": {"name": "h", "version": "1"}}})
INITIALIZED = '{"jsonrpc":"2.0","method":"notifications/initialized"}'


def post(addr, body, session=None):
    s = socket.create_connection(addr)
    head = f"POST /mcp HTTP/1.1\r\nHost: {addr[0]}:{addr[1]}\r\nAccept: application/json, text/event-stream\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\nMCP-Protocol-Version: {VERSION}\r\n"
    if session:
        head += f"Mcp-Session-Id: {session}\r\n"
    s.sendall((head + "\r\n" + body).encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    text = data.decode(errors="replace")
    sid = None
    for line in text.split("\r\n"):
        if line.lower().startswith("mcp-session-id:"):
            sid = line.split(":", 1)[1].strip()
    return sid


def hold(addr):
    sid = post(addr, INIT)
    post(addr, INITIALIZED, sid)
    s = socket.create_connection(addr)
    s.sendall(f"GET /mcp HTTP/1.1\r\nHost: {addr[0]}:{addr[1]}\r\nAccept: text/event-stream\r\nMcp-Session-Id: {sid}\r\nMCP-Protocol-Version: {VERSION}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(4096)
    assert head.startswith(b"HTTP/1.1 200"), head
    return s


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1])


def main():
    bindir, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    cmd = [os.path.join(bindir, "ours"), "http"]
    if out != "-":
        cmd = ["heaptrack", "-o", out] + cmd
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    addr = None
    while addr is None:
        line = proc.stdout.readline()
        if not line:
            sys.exit("server ended")
        line = line.strip()
        if line.count(":") == 1 and line.split(":")[1].isdigit():
            host, port = line.split(":")
            addr = (host, int(port))
    # The server's pid: the child of heaptrack, or the process itself.
    pid = proc.pid
    if out != "-":
        time.sleep(0.5)
        kids = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        for k in kids:
            if "ours" in open(f"/proc/{k}/cmdline").read():
                pid = int(k)
    warm = hold(addr)
    time.sleep(0.3)
    before = rss(pid)
    held = [hold(addr) for _ in range(n)]
    time.sleep(1.0)
    after = rss(pid)
    print(f"rss before {before} KiB, after {after} KiB, per session {(after - before) / n:.2f} KiB")
    os.kill(pid, signal.SIGINT)
    proc.wait(timeout=60)
    for s in held + [warm]:
        s.close()


if __name__ == "__main__":
    main()
