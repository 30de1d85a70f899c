"""The official TypeScript v2 client (`@modelcontextprotocol/client` 2.x), pinned to 2026-07-28,
against the fixture server over streamable HTTP, in lockstep (interop/typescript/lockstep.mjs):
the tool goes past step i only after the client's progress handler received progress i."""

import json
import os
import subprocess
from pathlib import Path

STEPS = 5
SCRIPT = Path(__file__).resolve().parent.parent / "typescript" / "lockstep.mjs"


def test_the_typescript_client_pinned_to_2026_07_28_streams_in_lockstep(
    http_server, ts_client_node, tmp_path: Path
) -> None:
    node, node_modules = ts_client_node
    base = http_server("fixture-server")
    # ES modules resolve bare imports from their own folder upwards (not NODE_PATH): run a
    # copy of the script beside a link to target/node-ts/node_modules.
    work = tmp_path / "client"
    work.mkdir()
    (work / "node_modules").symlink_to(node_modules)
    script = work / "lockstep.mjs"
    script.write_text(SCRIPT.read_text())
    acks = tmp_path / "acks"
    acks.mkdir()
    done = subprocess.run(
        [str(node), str(script), f"{base}/mcp", str(acks), str(STEPS)],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["version"] == "2026-07-28"
    assert out["messages"] == [f"step {i}" for i in range(1, STEPS + 1)]
    assert out["text"] == "done"
