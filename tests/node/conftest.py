from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from node_harness import NodeProcess, free_port_pair
from solders.keypair import Keypair

from heliostat.node.storage.interface import NodeStorage
from heliostat.node.storage.sqlite import SqliteStorage


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """One node process per test module (the runtime, a faucet, 100 ms slots)."""
    base: Path = tmp_path_factory.mktemp("node")
    process = NodeProcess(base / "data", free_port_pair(), Keypair()).start()
    yield process
    process.stop()
    assert process.process is not None and process.process.returncode == 0


@pytest.fixture(scope="session")
def postgres() -> Iterator[object]:
    """A PostgreSQL server for the session (pgserver's bundled binaries), removed at the end."""
    from postgres_harness import PostgresServer

    server = PostgresServer()
    yield server
    server.stop()


class StorageFactory:
    """Opens the same store on every call; `node_env` points a node process at it."""

    def __init__(self, open_store: Callable[[], NodeStorage], node_env: dict[str, str]) -> None:
        self.open_store = open_store
        self.node_env = node_env

    def __call__(self) -> NodeStorage:
        return self.open_store()


@pytest.fixture(params=["sqlite", "postgres"])
def storage_factory(request: pytest.FixtureRequest, tmp_path: Path) -> StorageFactory:
    """An SQLite file (where a node with data dir tmp_path/data keeps it) or a fresh
    PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "data" / "node.sqlite"
        path.parent.mkdir(exist_ok=True)
        return StorageFactory(lambda: SqliteStorage(path), {})
    from heliostat.node.storage.postgres import PostgresStorage

    dsn = request.getfixturevalue("postgres").fresh_dsn()
    env = {"HELIOSTAT_NODE_STORAGE": "postgres", "HELIOSTAT_NODE_POSTGRES_DSN": dsn}
    return StorageFactory(lambda: PostgresStorage(dsn), env)
