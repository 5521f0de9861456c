from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from node_harness import NodeProcess, free_port_pair
from solders.keypair import Keypair


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """One node process per test module (the runtime, a faucet, 100 ms slots)."""
    base: Path = tmp_path_factory.mktemp("node")
    process = NodeProcess(base / "data", free_port_pair(), Keypair()).start()
    yield process
    process.stop()
    assert process.process is not None and process.process.returncode == 0
