"""Tasks with the official MCP Python SDK (`mcp` 2.3.0) over streamable HTTP, 2026-07-28.

The SDK has no task helpers of its own; it has the means an extension is built with: a
`ClientExtension` that advertises `io.modelcontextprotocol/tasks` and claims the
`resultType: "task"` shape of `tools/call`, and the typed request API (`send_request` with a
request type whose `name_param` puts the task id in `Mcp-Name`, as SEP-2663 requires).

The fixture's `lockstep` tool is an ordinary generator (`#[tool(task = "optional")]`): the
first client starts it as a task and disconnects; a second client reconnects, sees each
status message ("step i") through `tasks/get`, acknowledges it (the tool goes on only then),
and fetches the result inlined in the completed task.
"""

from pathlib import Path
from typing import Any, Literal

import anyio
import pytest
from mcp import Client
from mcp.client.extension import ClientExtension, ResultClaim
from mcp_types import Request, Result
from pydantic import ConfigDict

pytestmark = pytest.mark.anyio

LIMIT_SECONDS = 30
STEPS = 3
TASKS = "io.modelcontextprotocol/tasks"


class CreatedTask(Result):
    """`CreateTaskResult` (SEP-2663): a flat task."""

    model_config = ConfigDict(extra="allow")
    result_type: Literal["task"] = "task"
    task_id: str
    status: str
    status_message: str | None = None
    ttl_ms: int | None = None
    poll_interval_ms: int | None = None


class DetailedTask(Result):
    """A `tasks/get` result: the task, with its result once completed."""

    model_config = ConfigDict(extra="allow")
    result_type: str | None = None
    task_id: str
    status: str
    status_message: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class GetTask(Request[dict[str, Any], Literal["tasks/get"]]):
    """`tasks/get`; its `taskId` goes into `Mcp-Name`."""

    method: Literal["tasks/get"] = "tasks/get"
    name_param = "taskId"


async def keep_task(task: CreatedTask, _ctx) -> Any:
    raise AssertionError("the test reads the claimed task itself")


class Tasks(ClientExtension):
    identifier = TASKS

    def claims(self):
        return [ResultClaim(method="tools/call", result_type="task", model=CreatedTask, resolve=keep_task)]


def text_of(result: dict[str, Any]) -> str:
    return "".join(block.get("text", "") for block in result.get("content", []))


async def get_task(client: Client, task_id: str) -> DetailedTask:
    return await client.session.send_request(GetTask(params={"taskId": task_id}), DetailedTask)


async def test_a_task_outlives_its_client_and_a_new_client_sees_it_through(
    http_server, tmp_path: Path
) -> None:
    url = f"{http_server('fixture-server')}/mcp"
    with anyio.fail_after(LIMIT_SECONDS):
        async with Client(url, mode="2026-07-28", extensions=[Tasks()]) as first:
            created = await first.session.call_tool(
                "lockstep", {"steps": STEPS, "dir": str(tmp_path)}, allow_claimed=True
            )
            assert isinstance(created, CreatedTask), created
            assert created.status == "working"
            assert created.status_message == "step 1"
            task_id = created.task_id
        # The first client is gone; the task runs on.
        async with Client(url, mode="2026-07-28", extensions=[Tasks()]) as second:
            seen: list[str] = []
            for i in range(1, STEPS + 1):
                while True:
                    task = await get_task(second, task_id)
                    assert task.status == "working", task
                    if task.status_message == f"step {i}":
                        break
                    await anyio.sleep(0.01)
                seen.append(task.status_message)
                # Only now may the tool go past step i.
                (tmp_path / f"ack-{i}").write_text("ack")
            assert seen == [f"step {i}" for i in range(1, STEPS + 1)]
            while (task := await get_task(second, task_id)).status == "working":
                await anyio.sleep(0.01)
            assert task.status == "completed", task
            assert text_of(task.result) == "done"
