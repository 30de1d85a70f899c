"""The official MCP Python SDK's high-level `mcp.Client` against our servers in both eras.

- pinned to 2026-07-28 (`mode="2026-07-28"`, no probe, no handshake) and in auto mode (which
  probes `server/discover` and must now negotiate 2026-07-28), over stdio and streamable
  HTTP, each in lockstep: the fixture's tool waits for an ack file that the progress callback
  writes only when progress i arrives, so every event must reach the client live;
- legacy mode (`mode="legacy"`) still negotiates 2025-11-25 with the same servers;
- multi round-trip input: the conformance fixture's tool asks for a name, the client's
  elicitation callback answers the `input_required` result, and the retry completes.
"""

from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp import types

pytestmark = pytest.mark.anyio

# Generous: only a deadlock (a buffered stream) ever reaches it.
LIMIT_SECONDS = 30
STEPS = 6


def text_of(result) -> str:
    return "".join(block.text for block in result.content if getattr(block, "type", None) == "text")


def target(kind: str, fixture_server: Path, http_server):
    if kind == "stdio":
        return StdioServerParameters(command=str(fixture_server))
    return f"{http_server('fixture-server')}/mcp"


async def lockstep(client: Client, tmp_path: Path) -> list[str | None]:
    messages: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        messages.append(message)
        # Only now may the tool go past step i.
        (tmp_path / f"ack-{int(progress)}").write_text("ack")

    result = await client.call_tool(
        "lockstep", {"steps": STEPS, "dir": str(tmp_path)}, progress_callback=on_progress
    )
    assert not result.is_error, result
    assert text_of(result) == "done"
    return messages


@pytest.mark.parametrize("kind", ["stdio", "streamable-http"])
@pytest.mark.parametrize("mode", ["2026-07-28", "auto"])
async def test_modern_client_streams_in_lockstep(
    kind: str, mode: str, fixture_server: Path, http_server, tmp_path: Path
) -> None:
    with anyio.fail_after(LIMIT_SECONDS):
        async with Client(target(kind, fixture_server, http_server), mode=mode) as client:
            assert client.protocol_version == "2026-07-28"
            messages = await lockstep(client, tmp_path)
    assert messages == [f"step {i}" for i in range(1, STEPS + 1)]


@pytest.mark.parametrize("kind", ["stdio", "streamable-http"])
async def test_legacy_mode_still_negotiates_2025_11_25(
    kind: str, fixture_server: Path, http_server, tmp_path: Path
) -> None:
    with anyio.fail_after(LIMIT_SECONDS):
        async with Client(target(kind, fixture_server, http_server), mode="legacy") as client:
            assert client.protocol_version == "2025-11-25"
            messages = await lockstep(client, tmp_path)
    assert messages == [f"step {i}" for i in range(1, STEPS + 1)]


@pytest.mark.parametrize("kind", ["stdio", "streamable-http"])
async def test_input_required_is_answered_by_the_elicitation_callback(
    kind: str, bin_dir: Path, http_server
) -> None:
    asked: list[str] = []

    async def on_elicit(context, params: types.ElicitRequestParams):
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"name": "Ada"})

    server = bin_dir / "conformance-server"
    if kind == "stdio":
        where = StdioServerParameters(command=str(server))
    else:
        where = f"{http_server('conformance-server')}/mcp"
    with anyio.fail_after(LIMIT_SECONDS):
        async with Client(where, mode="2026-07-28", elicitation_callback=on_elicit) as client:
            result = await client.call_tool("test_input_required_result_elicitation", {})
    assert text_of(result) == "Hello, Ada!"
    assert asked == ["What is your name?"]
