"""The official MCP Python SDK as a client of our stdio servers.

(a) progress from `count` arrives as it is produced, all of it before the result;
(b) lockstep: the fixture's tool waits for an ack file that the progress callback writes
    only when progress i arrives, so any buffering on the way deadlocks (and times out);
(c) the high-level `mcp.Client`, which probes `server/discover` first: our servers answer it,
    so it speaks 2026-07-28 (test_modern.py covers that era in depth).
"""

from pathlib import Path

import anyio
import pytest
from mcp import Client, ClientSession, StdioServerParameters, stdio_client

pytestmark = pytest.mark.anyio

# Generous: only a deadlock (a buffered stream) ever reaches it.
LIMIT_SECONDS = 30


def text_of(result) -> str:
    return "".join(block.text for block in result.content if getattr(block, "type", None) == "text")


async def test_count_streams_every_step_before_the_result(streaming_demo: Path) -> None:
    events: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        events.append((progress, total, message))

    params = StdioServerParameters(command=str(streaming_demo), args=["--transport", "stdio"])
    with anyio.fail_after(LIMIT_SECONDS):
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool(
                    "count", {"to": 5, "delay_ms": 0}, progress_callback=on_progress
                )
                seen_at_result = len(events)

    assert not result.is_error, result
    assert text_of(result) == "counted to 5"
    assert seen_at_result == 5, events
    assert [p for p, _, _ in events] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert all(total == 5.0 for _, total, _ in events), events
    assert [m for _, _, m in events] == [f"step {i} of 5" for i in range(1, 6)]


async def test_lockstep_progress_reaches_the_client_before_the_tool_continues(
    fixture_server: Path, tmp_path: Path
) -> None:
    steps = 6
    messages: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        messages.append(message)
        # Only now may the tool go past step i.
        (tmp_path / f"ack-{int(progress)}").write_text("ack")

    params = StdioServerParameters(command=str(fixture_server))
    with anyio.fail_after(LIMIT_SECONDS):
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool(
                    "lockstep",
                    {"steps": steps, "dir": str(tmp_path)},
                    progress_callback=on_progress,
                )

    assert not result.is_error, result
    assert text_of(result) == "done"
    assert messages == [f"step {i}" for i in range(1, steps + 1)]


async def test_the_high_level_client_negotiates_2026_07_28_and_lists_tools(
    streaming_demo: Path,
) -> None:
    params = StdioServerParameters(command=str(streaming_demo))
    with anyio.fail_after(LIMIT_SECONDS):
        async with Client(params) as client:
            # The discovery probe is answered: auto mode speaks the stateless era.
            assert client.protocol_version == "2026-07-28"
            assert client.server_info is not None
            assert client.server_info.name == "streaming-demo"
            listed = await client.list_tools()
            result = await client.call_tool("count", {"to": 2, "delay_ms": 0})

    assert [tool.name for tool in listed.tools] == ["count"]
    assert listed.tools[0].input_schema["required"] == ["to"]
    assert text_of(result) == "counted to 2"
