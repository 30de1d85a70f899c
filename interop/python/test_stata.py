"""The official MCP Python SDK as a client of `mcp-stata`, with the Stata stand-in as Stata.

The run tool streams Stata's log as progress, over stdio and over streamable HTTP, in
lockstep: the do-file code waits for a file that the progress callback writes only once the
line before the wait has arrived, so a log held back anywhere on the way deadlocks the test
(and fails it by timeout). The result comes after every progress line, with the outcome as
structured content; an exported graph arrives as image content.

With `--backend slurm` against the test cluster (`scripts/slurm.sh start`, `SLURM_CONF` set),
over streamable HTTP: a job's lines arrive in lockstep after its queue state, a job queued
behind another reports pending before running, cancelling the call removes the job and leaves
no process, and a job array of four parameter sets returns four outcomes.
"""

import base64
import os
import subprocess
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import procs
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


# --- the Slurm backend, over streamable HTTP -------------------------------------------------

MARK = "MCP_STATA_TEST_MARK"


@pytest.fixture
def slurm_env(stata_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    if not os.environ.get("SLURM_CONF"):
        pytest.fail(
            "SLURM_CONF is not set: start the test cluster with "
            '`eval "$(scripts/slurm.sh start)"` (scripts/test.sh does)',
            pytrace=False,
        )
    env = dict(stata_env)
    env.update(
        {
            "MCP_STATA_BACKEND": "slurm",
            "MCP_STATA_SLURM_POLL": "0.2",
            MARK: str(tmp_path),
        }
    )
    return env


def marked_processes(mark: str) -> list[int]:
    """Live Stata (stand-in) processes whose environment holds MARK=mark: the server's runs."""
    return procs.marked_processes(MARK, mark, "stata-standin")


def squeue(job_id: str) -> str:
    return subprocess.run(["squeue", "-h", "-j", job_id], capture_output=True, text=True).stdout.strip()


def job_id_in(message: str) -> str:
    return message.split("Slurm job ", 1)[1].split()[0]


async def test_slurm_job_streams_its_state_then_its_lines_in_lockstep(
    http_server, slurm_env: dict[str, str], tmp_path: Path
) -> None:
    base = http_server("mcp-stata", slurm_env)
    with anyio.fail_after(LIMIT_SECONDS):
        async with http_session(base) as session:
            result, events, go = await run_in_lockstep(session, tmp_path)
    assert not result.is_error, result
    messages = [message or "" for _, _, message in events]
    running = next(i for i, m in enumerate(messages) if " is running on " in m)
    first_line = next(i for i, m in enumerate(messages) if "before" in m.split("\n"))
    assert running < first_line, messages
    report = result.structured_content
    assert report["status"] == "success" and report["commands_executed"] == 3
    slurm = report["slurm"]
    assert slurm["job_id"] == job_id_in(messages[running])
    assert slurm["state"] == "COMPLETED" and slurm["exit_code"] == 0 and slurm["node"]


async def test_slurm_job_behind_another_is_pending_before_running(
    http_server, slurm_env: dict[str, str], tmp_path: Path
) -> None:
    base = http_server("mcp-stata", slurm_env)
    release_blocker = tmp_path / "go-blocker"
    blocker = subprocess.run(
        [
            "sbatch",
            "--parsable",
            "--exclusive",
            f"--output={tmp_path / 'blocker.out'}",
            f"--wrap=while [ ! -e '{release_blocker}' ]; do sleep 0.1; done",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    release_job = tmp_path / "go-job"
    code = f'display "ran"\n_standin_wait_file "{release_job}"'
    messages: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        messages.append(message or "")
        if " is pending (" in (message or ""):
            release_blocker.write_text("go")
        if " is running on " in (message or ""):
            release_job.write_text("go")

    with anyio.fail_after(LIMIT_SECONDS):
        async with http_session(base) as session:
            result = await session.call_tool("stata_run_code", {"code": code}, progress_callback=on_progress)
    assert not result.is_error, result
    pending = next(i for i, m in enumerate(messages) if " is pending (" in m)
    running = next(i for i, m in enumerate(messages) if " is running on " in m)
    ran = next(i for i, m in enumerate(messages) if "ran" in m.split("\n"))
    assert pending < running < ran, messages
    with anyio.fail_after(LIMIT_SECONDS):
        while squeue(blocker):
            await anyio.sleep(0.05)


async def test_cancelling_a_slurm_call_removes_the_job_and_leaves_no_process(
    http_server, slurm_env: dict[str, str], tmp_path: Path
) -> None:
    base = http_server("mcp-stata", slurm_env)
    code = f'display "started"\n_standin_wait_file "{tmp_path / "never"}"'
    job: dict[str, str] = {}
    started = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        if " is running on " in (message or ""):
            job["id"] = job_id_in(message or "")
        if "started" in (message or "").split("\n"):
            started.set()

    with anyio.fail_after(LIMIT_SECONDS):
        async with http_session(base) as session:
            async with anyio.create_task_group() as tg:

                async def call() -> None:
                    await session.call_tool("stata_run_code", {"code": code}, progress_callback=on_progress)

                tg.start_soon(call)
                await started.wait()
                assert squeue(job["id"]), "the job runs"
                assert marked_processes(str(tmp_path)), "Stata runs on the node"
                # The SDK sends notifications/cancelled for a call its caller abandons.
                tg.cancel_scope.cancel()
            while squeue(job["id"]) or marked_processes(str(tmp_path)):
                await anyio.sleep(0.05)
            # The server still serves.
            again = await session.call_tool("stata_run_code", {"code": "display 6*7"})
    assert "42" in again.structured_content["log_tail"]


async def test_a_slurm_job_array_of_four_sets_returns_four_outcomes(
    http_server, slurm_env: dict[str, str], tmp_path: Path
) -> None:
    base = http_server("mcp-stata", slurm_env)
    do_file = tmp_path / "sets.do"
    do_file.write_text('display "set `1\'"\nerror `2\'\n')
    sets = [["a", "0"], ["b", "0"], ["c", "111"], ["d", "0"]]
    states: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        assert total == 4.0
        states.append(message or "")

    with anyio.fail_after(LIMIT_SECONDS):
        async with http_session(base) as session:
            result = await session.call_tool(
                "stata_run_array",
                {"path": str(do_file), "parameter_sets": sets},
                progress_callback=on_progress,
            )
    assert result.is_error, "one set failed"
    report = result.structured_content
    assert report["backend"] == "slurm"
    elements = report["elements"]
    assert [e["index"] for e in elements] == [0, 1, 2, 3]
    assert [e["status"] for e in elements] == ["success", "success", "stata_error", "success"]
    assert elements[2]["rc"] == 111
    for e in elements:
        assert e["slurm"]["job_id"] == f"{report['job_id']}_{e['index']}"
        assert any(m.startswith(f"[{e['index']}] Slurm job ") for m in states), states


@pytest.mark.parametrize("kind", ["stdio", "streamable-http"])
async def test_run_code_streams_in_lockstep_in_the_2026_07_28_era(
    kind: str, stata_bin_dir: Path, http_server, stata_env: dict[str, str], tmp_path: Path
) -> None:
    from mcp import Client

    if kind == "stdio":
        where = StdioServerParameters(
            command=str(stata_bin_dir / "mcp-stata"), args=["--transport", "stdio"], env=stata_env
        )
    else:
        where = f"{http_server('mcp-stata', stata_env)}/mcp"
    with anyio.fail_after(LIMIT_SECONDS):
        async with Client(where, mode="2026-07-28") as client:
            assert client.protocol_version == "2026-07-28"
            result, events, go = await run_in_lockstep(client, tmp_path)
    check_lockstep_run(result, events, go)
