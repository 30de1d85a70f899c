"""The official MCP Python SDK as a client of our HTTP servers: streamable HTTP and the
legacy HTTP+SSE transport, served together by `--transport http`.

Each transport is tested twice: `count` delivers every progress event before the result,
and in lockstep: the fixture's tool waits for an ack file that the progress callback writes
only when progress i arrives, so every event must reach the client before the tool's next
step starts; any buffering on the way deadlocks the test (and fails it by timeout).
"""

from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from mcp import Client, ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

pytestmark = pytest.mark.anyio

# Generous: only a deadlock (a buffered stream) ever reaches it.
LIMIT_SECONDS = 30


def text_of(result) -> str:
    return "".join(block.text for block in result.content if getattr(block, "type", None) == "text")


@asynccontextmanager
async def session_over(transport: str, base: str):
    if transport == "streamable-http":
        async with streamable_http_client(f"{base}/mcp") as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session
    else:
        async with sse_client(f"{base}/sse") as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


TRANSPORTS = ["streamable-http", "sse"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_count_streams_every_step_before_the_result(http_server, transport: str) -> None:
    base = http_server("streaming-demo")
    events: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        events.append((progress, total, message))

    with anyio.fail_after(LIMIT_SECONDS):
        async with session_over(transport, base) as session:
            result = await session.call_tool(
                "count", {"to": 5, "delay_ms": 0}, progress_callback=on_progress
            )
            seen_at_result = len(events)

    assert not result.is_error, result
    assert text_of(result) == "counted to 5"
    assert seen_at_result == 5, events
    assert [p for p, _, _ in events] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert [m for _, _, m in events] == [f"step {i} of 5" for i in range(1, 6)]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_lockstep_each_event_arrives_before_the_next_step(
    http_server, transport: str, tmp_path: Path
) -> None:
    base = http_server("fixture-server")
    steps = 6
    messages: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        messages.append(message)
        # Only now may the tool go past step i.
        (tmp_path / f"ack-{int(progress)}").write_text("ack")

    with anyio.fail_after(LIMIT_SECONDS):
        async with session_over(transport, base) as session:
            result = await session.call_tool(
                "lockstep", {"steps": steps, "dir": str(tmp_path)}, progress_callback=on_progress
            )

    assert not result.is_error, result
    assert text_of(result) == "done"
    assert messages == [f"step {i}" for i in range(1, steps + 1)]


async def test_the_high_level_client_over_streamable_http(http_server) -> None:
    base = http_server("streaming-demo")
    with anyio.fail_after(LIMIT_SECONDS):
        async with Client(f"{base}/mcp") as client:
            assert client.server_info is not None
            assert client.server_info.name == "streaming-demo"
            listed = await client.list_tools()
            result = await client.call_tool("count", {"to": 2, "delay_ms": 0})

    assert [tool.name for tool in listed.tools] == ["count"]
    assert text_of(result) == "counted to 2"
