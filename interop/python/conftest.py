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
