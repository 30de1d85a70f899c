#!/usr/bin/env python3
"""User-space instructions a release server spends per `tools/call` (callgrind).

Runs the server under `valgrind --tool=callgrind`, makes 20 warm-up calls from one keep-alive
client, zeroes the counters (`callgrind_control -z`), makes `--calls` more, dumps
(`callgrind_control -d`) and divides the dump's instructions (Ir) by the calls. The client
sends the load generator's exact bytes (src/bin/loadgen/wire.rs): the stateful way (a session,
`progress {steps: 0}`), the stateless 2026-07-28 way (no session, the revision and the client's
capabilities in the request's `_meta`, the mirrored `Mcp-Method`/`Mcp-Name` headers), or, for
`bare`, the stateful request without a session. Deterministic, so unaffected by the machine's
load; kernel time is not counted. Our server runs with its HTTP idle poll off
(`OURS_HTTP_IDLE_POLL_US=0`): under callgrind a spin's length is a matter of timing, not
work per call. Beside the instructions, the calls of glibc's `malloc` and
`realloc` per call, counted from the same dump.

    python3 mcp-transport/sidebyside/callgrind.py target/sidebyside/release   # ours, stateless, bare
    python3 mcp-transport/sidebyside/callgrind.py DIR --runs ours --calls 300 --keep /tmp/cg

With `--keep DIR` the dumps stay there (`<run>.out`) for
`callgrind_annotate --inclusive=yes DIR/ours.out`.
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

VERSION = "2025-11-25"
STATELESS_VERSION = "2026-07-28"


def initialize(i):
    return (
        '{"jsonrpc":"2.0","id":%d,"method":"initialize","params":{"protocolVersion":"%s",'
        '"capabilities":{},"clientInfo":{"name":"loadgen","version":"1"}}}' % (i, VERSION)
    )


INITIALIZED = '{"jsonrpc":"2.0","method":"notifications/initialized"}'


def call(i):
    return (
        '{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"progress",'
        '"arguments":{"steps":0,"delay_ms":0}}}' % i
    )


def stateless_call(i):
    return (
        '{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"progress",'
        '"arguments":{"steps":0,"delay_ms":0},"_meta":{"io.modelcontextprotocol/protocolVersion":'
        '"%s","io.modelcontextprotocol/clientCapabilities":{}}}}' % (i, STATELESS_VERSION)
    )


class Client:
    """One keep-alive connection speaking just enough HTTP/1.1 (content-length or chunked)."""

    def __init__(self, addr, stateless):
        host, port = addr.rsplit(":", 1)
        self.host = addr
        self.sock = socket.create_connection((host, int(port)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.session = None
        self.stateless = stateless

    def post(self, body):
        head = (
            "POST /mcp HTTP/1.1\r\nhost: %s\r\ncontent-type: application/json\r\n"
            "accept: application/json, text/event-stream\r\n" % self.host
        )
        if self.stateless:
            head += (
                "mcp-protocol-version: %s\r\nmcp-method: tools/call\r\nmcp-name: progress\r\n"
                % STATELESS_VERSION
            )
        else:
            head += "mcp-protocol-version: %s\r\n" % VERSION
        if self.session:
            head += "mcp-session-id: %s\r\n" % self.session
        data = body.encode()
        head += "content-length: %d\r\n\r\n" % len(data)
        self.sock.sendall(head.encode() + data)
        return self.response()

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("server closed the connection")
        self.buf += chunk

    def take(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        out, self.buf = self.buf.split(b"\r\n", 1)
        return out

    def response(self):
        status = self.line()
        headers = {}
        while True:
            line = self.line()
            if not line:
                break
            name, value = line.split(b":", 1)
            headers[name.strip().lower()] = value.strip()
        if b"mcp-session-id" in headers and not self.session:
            self.session = headers[b"mcp-session-id"].decode()
        if b"content-length" in headers:
            body = self.take(int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding") == b"chunked":
            body = b""
            while True:
                size = int(self.line().split(b";")[0], 16)
                body += self.take(size)
                self.take(2)
                if size == 0:
                    break
        else:
            body = b""
        if not status.startswith(b"HTTP/1.1 2"):
            raise RuntimeError(f"{status!r}: {body[:300]!r}")
        return body


def allocations(text):
    """Calls of `malloc` and of `realloc` in a callgrind dump."""
    names = {}
    counts = {"malloc": 0, "realloc": 0}
    callee = None
    for line in text.splitlines():
        m = re.match(r"c?fn=\((\d+)\)(?: (.*))?$", line)
        if m:
            if m.group(2):
                names[m.group(1)] = m.group(2)
            callee = names.get(m.group(1)) if line.startswith("cfn=") else None
            continue
        if callee in counts and line.startswith("calls="):
            counts[callee] += int(line[6:].split()[0])
            callee = None
    return counts["malloc"], counts["realloc"]


def control(*args):
    subprocess.run(["callgrind_control", *args], check=True, stdout=subprocess.DEVNULL)


def measure(binary, run, calls, keep):
    out_dir = keep or tempfile.mkdtemp(prefix="callgrind-")
    out = os.path.join(out_dir, f"{run}.out")
    for old in [f for f in os.listdir(out_dir) if f.startswith(f"{run}.out")]:
        os.remove(os.path.join(out_dir, old))
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary, "http"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "OURS_HTTP_IDLE_POLL_US": "0"},
    )
    try:
        addr = proc.stdout.readline().decode().strip()
        stateless = run == "stateless"
        client = Client(addr, stateless)
        make = stateless_call if stateless else call
        if run == "ours":
            client.post(initialize(0))
            client.post(INITIALIZED)
        for i in range(1, 21):
            assert b"done 0" in client.post(make(i))
        control("-z", str(proc.pid))
        for i in range(calls):
            answer = client.post(make(100 + i))
            assert b"done 0" in answer and b'"error"' not in answer, answer
        control("-d", str(proc.pid))
        time.sleep(0.2)
    finally:
        proc.kill()
        proc.wait()
    dumps = sorted(f for f in os.listdir(out_dir) if f.startswith(f"{run}.out."))
    last = os.path.join(out_dir, dumps[-1])
    with open(last) as f:
        text = f.read()
    ir = int(re.search(r"^(?:summary|totals): (\d+)", text, re.M).group(1))
    mallocs, reallocs = allocations(text)
    if keep:
        os.replace(last, out)
    for name in os.listdir(out_dir):
        if name.startswith(f"{run}.out."):
            os.remove(os.path.join(out_dir, name))
    if not keep:
        os.rmdir(out_dir) if not os.listdir(out_dir) else None
    return ir / calls, mallocs / calls, reallocs / calls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", help="the release directory holding `ours` and `bare`")
    ap.add_argument("--runs", default="ours,stateless,bare", help="ours, stateless, bare")
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--keep", help="keep the dumps in this directory")
    a = ap.parse_args()
    if a.keep:
        os.makedirs(a.keep, exist_ok=True)
    for run in a.runs.split(","):
        binary = os.path.join(a.dir, "bare" if run == "bare" else "ours")
        ir, mallocs, reallocs = measure(binary, run, a.calls, a.keep)
        print(
            f"{run}: {ir / 1000:.1f}k instructions, {mallocs:.1f} malloc + "
            f"{reallocs:.1f} realloc per call"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
