"""The official MCP Python SDK as a client of `mcp-gateway` (streamable HTTP), which mounts
`streaming-demo`, the fixture server and `mcp-stata` (with the Stata stand-in), each over
stdio, from a config file:

(a) the demo's `count` is served as `demo_count`, its progress ahead of the result;
(b) progress crosses both hops in lockstep: the fixture's tool waits for an ack file that the
    progress callback writes only when progress i arrived, so buffering at either hop deadlocks
    (and times out); the same for Stata's log, whose do-file waits for a file the callback
    writes once the line before the wait arrived;
(c) cancelling the call at the gateway reaches the mounted tool: the fixture's tool future is
    dropped (it writes `dropped`), Stata's process group is gone;
(d) the mounted server killed mid-call gives the caller a JSON-RPC error, not a hang; the
    gateway starts it again and later calls work;
(e) the high-level `mcp.Client` speaks 2026-07-28 with the gateway, which relays in lockstep.
"""

import os
import signal
from pathlib import Path

import anyio
import procs
import pytest
from mcp import Client, ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

pytestmark = pytest.mark.anyio

# Generous: only a deadlock (a buffered stream) or a hang ever reaches it.
LIMIT_SECONDS = 30
# Marks the environment of the servers the gateway starts, so the test can find them.
MARK = "MCP_GATEWAY_TEST_MARK"


def text_of(result) -> str:
    return "".join(block.text for block in result.content if getattr(block, "type", None) == "text")


def toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def marked(mark: str, exe: str) -> list[int]:
    """Live processes named `exe` that the gateway started for the test marked `mark`."""
    return procs.marked_processes(MARK, mark, exe)


@pytest.fixture
def gateway(bin_dir: Path, stata_bin_dir: Path, http_server, tmp_path: Path) -> str:
    """`mcp-gateway` on a free port with demo, fixture and stata mounted: its /mcp URL."""
    stata_dir = tmp_path / "stata"
    (stata_dir / "jobs").mkdir(parents=True)
    mark = toml_string(str(tmp_path))
    config = tmp_path / "gateway.toml"
    config.write_text(
        f"""
[servers.demo]
command = [{toml_string(str(bin_dir / "streaming-demo"))}, "--transport", "stdio"]

[servers.fixture]
command = [{toml_string(str(bin_dir / "fixture-server"))}]
env = {{ {MARK} = {mark}, RUST_LOG = "warn" }}

[servers.stata]
command = [{toml_string(str(stata_bin_dir / "mcp-stata"))}, "--transport", "stdio"]
env = {{ STATA_PATH = {toml_string(str(stata_bin_dir / "stata-standin"))}, MCP_STATA_WORKDIR = {toml_string(str(stata_dir))}, MCP_STATA_JOBS_DIR = {toml_string(str(stata_dir / "jobs"))}, RUST_LOG = "warn", {MARK} = {mark} }}
"""
    )
    return f"{http_server('mcp-gateway', args=('--config', str(config)))}/mcp"


async def test_demo_count_is_served_as_demo_count(gateway: str) -> None:
    events: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        events.append((progress, total, message))

    with anyio.fail_after(LIMIT_SECONDS):
        async with streamable_http_client(gateway) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                names = {tool.name for tool in (await session.list_tools()).tools}
                result = await session.call_tool(
                    "demo_count", {"to": 4, "delay_ms": 0}, progress_callback=on_progress
                )
                seen_at_result = len(events)
    assert {"demo_count", "fixture_lockstep", "fixture_hang", "stata_stata_run_code"} <= names, names
    assert not result.is_error, result
    assert text_of(result) == "counted to 4"
    assert seen_at_result == 4, events
    assert events == [(float(i), 4.0, f"step {i} of 4") for i in range(1, 5)]


async def test_progress_crosses_both_hops_in_lockstep(gateway: str, tmp_path: Path) -> None:
    steps = 6
    messages: list[str | None] = []
    acks = tmp_path / "acks"
    acks.mkdir()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        messages.append(message)
        # Only now may the tool behind the gateway go past step i.
        (acks / f"ack-{int(progress)}").write_text("ack")

    with anyio.fail_after(LIMIT_SECONDS):
        async with streamable_http_client(gateway) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool(
                    "fixture_lockstep",
                    {"steps": steps, "dir": str(acks)},
                    progress_callback=on_progress,
                )
    assert not result.is_error, result
    assert text_of(result) == "done"
    assert messages == [f"step {i}" for i in range(1, steps + 1)]


async def test_stata_streams_through_the_gateway_in_lockstep(gateway: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    code = f'display "before"\n_standin_wait_file "{go}"\ndisplay "after"'
    lines: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        lines.extend((message or "").split("\n"))
        if "before" in lines:
            # Only now may Stata go past the wait.
            go.write_text("go")

    with anyio.fail_after(LIMIT_SECONDS):
        async with streamable_http_client(gateway) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool(
                    "stata_stata_run_code", {"code": code}, progress_callback=on_progress
                )
    assert not result.is_error, result
    assert go.exists()
    assert lines.index("before") < lines.index("after"), lines
    assert result.structured_content["status"] == "success"


async def test_cancelling_drops_the_mounted_tool(gateway: str, tmp_path: Path) -> None:
    hang = tmp_path / "hang"
    hang.mkdir()
    started = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        if message == "started":
            started.set()

    with anyio.fail_after(LIMIT_SECONDS):
        async with streamable_http_client(gateway) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                async with anyio.create_task_group() as tg:

                    async def call() -> None:
                        await session.call_tool("fixture_hang", {"dir": str(hang)}, progress_callback=on_progress)

                    tg.start_soon(call)
                    await started.wait()
                    assert not (hang / "dropped").exists()
                    # The SDK sends notifications/cancelled for a call its caller abandons.
                    tg.cancel_scope.cancel()
                # The gateway drops its call, which cancels the fixture's: its guard writes this.
                while not (hang / "dropped").exists():
                    await anyio.sleep(0.02)
                again = await session.call_tool("fixture_echo", {"text": "still serving"})
    assert text_of(again) == "still serving"


async def test_cancelling_a_stata_run_ends_its_process_group(gateway: str, tmp_path: Path) -> None:
    code = f'display "started"\n_standin_wait_file "{tmp_path / "never"}"'
    started = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        if "started" in (message or "").split("\n"):
            started.set()

    with anyio.fail_after(LIMIT_SECONDS):
        async with streamable_http_client(gateway) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                async with anyio.create_task_group() as tg:

                    async def call() -> None:
                        await session.call_tool("stata_stata_run_code", {"code": code}, progress_callback=on_progress)

                    tg.start_soon(call)
                    await started.wait()
                    assert marked(str(tmp_path), "stata-standin"), "Stata runs"
                    tg.cancel_scope.cancel()
                while marked(str(tmp_path), "stata-standin"):
                    await anyio.sleep(0.05)
                again = await session.call_tool("stata_stata_run_code", {"code": "display 6*7"})
    assert "42" in again.structured_content["log_tail"]


async def test_a_mounted_server_killed_mid_call_gives_an_error_then_comes_back(
    gateway: str, tmp_path: Path
) -> None:
    hang = tmp_path / "hang"
    hang.mkdir()
    started = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        if message == "started":
            started.set()

    failure: list[MCPError] = []
    with anyio.fail_after(LIMIT_SECONDS):
        async with streamable_http_client(gateway) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                async with anyio.create_task_group() as tg:

                    async def call() -> None:
                        try:
                            await session.call_tool(
                                "fixture_hang", {"dir": str(hang)}, progress_callback=on_progress
                            )
                        except MCPError as e:
                            failure.append(e)

                    tg.start_soon(call)
                    await started.wait()
                    [pid] = marked(str(tmp_path), "fixture-server")
                    os.kill(pid, signal.SIGKILL)
                # The call ended with the gateway's error, not a hang (fail_after bounds it).
                assert len(failure) == 1
                assert failure[0].code == -32000, failure[0]
                assert "`fixture` went away before answering" in failure[0].message
                # Started again: the next call waits for it (within a few seconds) and works.
                again = await session.call_tool("fixture_echo", {"text": "back"})
                assert text_of(again) == "back"
                [restarted] = marked(str(tmp_path), "fixture-server")
    assert restarted != pid


async def test_the_high_level_client_speaks_2026_07_28_through_the_gateway(
    gateway: str, tmp_path: Path
) -> None:
    steps = 4
    messages: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        messages.append(message)
        (tmp_path / f"ack-{int(progress)}").write_text("ack")

    with anyio.fail_after(LIMIT_SECONDS):
        async with Client(gateway, mode="auto") as client:
            assert client.protocol_version == "2026-07-28"
            result = await client.call_tool(
                "fixture_lockstep", {"steps": steps, "dir": str(tmp_path)}, progress_callback=on_progress
            )
    assert not result.is_error, result
    assert messages == [f"step {i}" for i in range(1, steps + 1)]
