"""Fixtures for the interop tests: where the Rust example binaries are."""

import os
from pathlib import Path

import pytest


@pytest.fixture
def anyio_backend() -> str:
    # The SDK runs on anyio; asyncio is the backend it is used with most.
    return "asyncio"


@pytest.fixture(scope="session")
def bin_dir() -> Path:
    """The cargo target folder holding `streaming-demo` and `fixture-server`."""
    value = os.environ.get("MCP_EXAMPLES_BIN_DIR")
    if not value:
        pytest.fail(
            "MCP_EXAMPLES_BIN_DIR is not set: point it at the cargo target dir's debug folder "
            "after `cargo build -p examples` (for example target/debug)",
            pytrace=False,
        )
    path = Path(value)
    for name in ("streaming-demo", "fixture-server"):
        if not (path / name).is_file():
            pytest.fail(
                f"{path / name} does not exist: run `cargo build -p examples` with the same target dir",
                pytrace=False,
            )
    return path


@pytest.fixture
def streaming_demo(bin_dir: Path) -> Path:
    return bin_dir / "streaming-demo"


@pytest.fixture
def fixture_server(bin_dir: Path) -> Path:
    return bin_dir / "fixture-server"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def http_server(bin_dir: Path):
    """Starts an example server with `--transport http` on a free loopback port.

    Call it with the binary's name (and extra arguments, if any); yields the base URL (`http://127.0.0.1:PORT`). The
    process is stopped when the test ends.
    """
    import socket
    import subprocess
    import time

    started: list[subprocess.Popen] = []

    def start(name: str, extra_env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> str:
        port = _free_port()
        env = dict(os.environ)
        env.update(extra_env or {})
        proc = subprocess.Popen(
            [str(bin_dir / name), "--transport", "http", "--bind", f"127.0.0.1:{port}", *args],
            stdin=subprocess.DEVNULL,
            env=env,
        )
        started.append(proc)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"{name} exited with {proc.returncode} before listening", pytrace=False)
                if time.monotonic() > deadline:
                    pytest.fail(f"{name} did not listen on port {port}", pytrace=False)
                time.sleep(0.01)
        return f"http://127.0.0.1:{port}"

    yield start
    for proc in started:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def stata_bin_dir() -> Path:
    """The cargo target folder holding `mcp-stata` and the Stata stand-in `stata-standin`."""
    value = os.environ.get("MCP_EXAMPLES_BIN_DIR")
    if not value:
        pytest.fail(
            "MCP_EXAMPLES_BIN_DIR is not set: point it at the cargo target dir's debug folder "
            "after `cargo build -p mcp-stata -p stata-standin` (for example target/debug)",
            pytrace=False,
        )
    path = Path(value)
    for name in ("mcp-stata", "stata-standin"):
        if not (path / name).is_file():
            pytest.fail(
                f"{path / name} does not exist: run `cargo build -p mcp-stata -p stata-standin` "
                "with the same target dir",
                pytrace=False,
            )
    return path


@pytest.fixture
def stata_env(stata_bin_dir: Path, tmp_path: Path) -> dict[str, str]:
    """The environment of an `mcp-stata` server whose Stata is the stand-in, working in tmp_path."""
    env = dict(os.environ)
    env.update(
        {
            "STATA_PATH": str(stata_bin_dir / "stata-standin"),
            "MCP_STATA_WORKDIR": str(tmp_path),
            "MCP_STATA_JOBS_DIR": str(tmp_path / "jobs"),
            "RUST_LOG": "warn",
        }
    )
    return env


@pytest.fixture(scope="session")
def ts_client_node() -> tuple[Path, Path]:
    """Node 22 and the folder holding the TypeScript v2 client (`@modelcontextprotocol/client`),
    installed by scripts/test.sh into target/node-ts: (node binary, its node_modules)."""
    value = os.environ.get("MCP_TS_CLIENT_DIR")
    if not value:
        pytest.fail(
            "MCP_TS_CLIENT_DIR is not set: run `npm install --prefix target/node-ts node@22 "
            "@modelcontextprotocol/client@2` and point it at target/node-ts",
            pytrace=False,
        )
    root = Path(value)
    node = root / "node_modules" / ".bin" / "node"
    if not node.is_file():
        pytest.fail(f"{node} does not exist: install Node 22 into {root}", pytrace=False)
    return node, root / "node_modules"
