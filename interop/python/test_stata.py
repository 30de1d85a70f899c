"""The official MCP Python SDK as a client of `mcp-stata`, with the Stata stand-in as Stata.

The run tool streams Stata's log as progress, over stdio and over streamable HTTP, in
lockstep: the do-file code waits for a file that the progress callback writes only once the
line before the wait has arrived, so a log held back anywhere on the way deadlocks the test
(and fails it by timeout). The result comes after every progress line, with the outcome as
structured content; an exported graph arrives as image content.
"""

import base64
import subprocess
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

pytestmark = pytest.mark.anyio

# Generous: only a deadlock (a buffered stream) ever reaches it.
LIMIT_SECONDS = 30


@asynccontextmanager
async def stdio_session(bin_dir: Path, env: dict[str, str]):
    params = StdioServerParameters(
        command=str(bin_dir / "mcp-stata"), args=["--transport", "stdio"], env=env
    )
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            yield session


@asynccontextmanager
async def http_session(base: str):
    async with streamable_http_client(f"{base}/mcp") as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            yield session


def lines_of(events) -> list[str]:
    return [line for _, _, message in events for line in (message or "").split("\n")]


async def run_in_lockstep(session: ClientSession, tmp_path: Path):
    """Runs code that waits for `go` after printing `before`; the callback writes `go`."""
    go = tmp_path / "go"
    code = f'display "before"\n_standin_wait_file "{go}"\ndisplay "after"'
    events: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        events.append((progress, total, message))
        if "before" in (message or "").split("\n"):
            # Only now may Stata go past the wait.
            go.write_text("go")

    result = await session.call_tool("stata_run_code", {"code": code}, progress_callback=on_progress)
    return result, list(events), go


def check_lockstep_run(result, events, go: Path) -> None:
    assert not result.is_error, result
    assert go.exists()
    lines = lines_of(events)
    assert "before" in lines and "after" in lines, lines
    assert lines.index("before") < lines.index("after")
    progress = [p for p, _, _ in events]
    assert progress == sorted(progress) and len(set(progress)) == len(progress), progress
    assert all(total == 3.0 for _, total, _ in events), events
    assert int(progress[-1]) == 3
    report = result.structured_content
    assert report["status"] == "success"
    assert report["commands_executed"] == 3 and report["commands_total"] == 3
    assert "after" in report["log_tail"]
    text = "".join(b.text for b in result.content if b.type == "text")
    assert text.startswith("Stata finished without error (3 of 3 commands ran).")


async def test_run_code_streams_in_lockstep_over_stdio(
    stata_bin_dir: Path, stata_env: dict[str, str], tmp_path: Path
) -> None:
    with anyio.fail_after(LIMIT_SECONDS):
        async with stdio_session(stata_bin_dir, stata_env) as session:
            result, events, go = await run_in_lockstep(session, tmp_path)
    check_lockstep_run(result, events, go)


async def test_run_code_streams_in_lockstep_over_streamable_http(
    http_server, stata_env: dict[str, str], tmp_path: Path
) -> None:
    base = http_server("mcp-stata", stata_env)
    with anyio.fail_after(LIMIT_SECONDS):
        async with http_session(base) as session:
            result, events, go = await run_in_lockstep(session, tmp_path)
    check_lockstep_run(result, events, go)


async def test_errors_graphs_and_sessions_over_stdio(
    stata_bin_dir: Path, stata_env: dict[str, str], tmp_path: Path
) -> None:
    with anyio.fail_after(LIMIT_SECONDS):
        async with stdio_session(stata_bin_dir, stata_env) as session:
            failed = await session.call_tool(
                "stata_run_code", {"code": "set obs 3\ngen y = bad_var + 1"}
            )
            graph = await session.call_tool(
                "stata_run_code", {"code": 'graph export "plot.png", replace'}
            )
            await session.call_tool("stata_run_code", {"code": "set obs 4", "session": "main"})
            kept = await session.call_tool(
                "stata_run_code", {"code": "display _N * 10", "session": "main"}
            )
            listed = await session.call_tool("stata_list_sessions", {})

    assert failed.is_error
    assert failed.structured_content["rc"] == 111
    assert failed.structured_content["error_message"] == "bad_var not found"

    images = [b for b in graph.content if b.type == "image"]
    assert len(images) == 1 and images[0].mime_type == "image/png"
    assert base64.b64decode(images[0].data) == (tmp_path / "plot.png").read_bytes()

    assert "40" in kept.structured_content["log_tail"]
    assert [s["name"] for s in listed.structured_content["sessions"]] == ["main"]


def test_the_binary_explains_its_options(stata_bin_dir: Path) -> None:
    out = subprocess.run(
        [str(stata_bin_dir / "mcp-stata"), "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in ("--transport", "--bind", "--stata", "--workdir", "--timeout", "STATA_PATH"):
        assert option in out, out
