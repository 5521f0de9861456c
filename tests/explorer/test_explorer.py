"""The explorer page in headless Chromium against a running node: a transaction and its batch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from solders.keypair import Keypair

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "node"))
from node_harness import ROOT, NodeProcess, free_port_pair

from heliostat.cli import main


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:  # a setup bug, not a reason to skip: `make setup` installs it
        raise RuntimeError("Debian's chromium is missing; `make setup` installs it")
    return path


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    base = tmp_path_factory.mktemp("explorer")
    env = {"HELIOSTAT_NODE_BATCH_MAX_TRANSACTIONS": "2"}
    process = NodeProcess(base / "data", free_port_pair(), Keypair(), env=env).start()
    yield process
    process.stop()


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.fixture(scope="module")
def sent(node: NodeProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Two transfers (a faucet airdrop and a wallet transfer) sealed into batch 1."""
    folder = tmp_path_factory.mktemp("keys")
    alice, bob = folder / "alice.json", folder / "bob.json"
    assert main(["keys", "new", str(alice)]) == 0 and main(["keys", "new", str(bob)]) == 0
    assert main(["airdrop", str(alice), "3000000000", "--url", node.url]) == 0
    bob_address = str(Keypair.from_bytes(bytes(json.loads(bob.read_text()))).pubkey())
    before = {s["signature"] for s in node.result("getSignaturesForAddress", bob_address)}
    assert main(["transfer", bob_address, "1000000", "--from", str(alice), "--url", node.url]) == 0
    after = node.result("getSignaturesForAddress", bob_address)
    signature = next(s["signature"] for s in after if s["signature"] not in before)
    deadline = time.monotonic() + 30
    while node.result("heliostat_getBatchStatus", 1) is None:
        assert time.monotonic() < deadline, "batch 1 was never sealed"
        time.sleep(0.1)
    return {"signature": signature, "bob": bob_address}


def explorer_url(node: NodeProcess) -> str:
    return f"http://127.0.0.1:{node.port + 1}/explorer"


def test_api_answers_and_refuses_garbage(node: NodeProcess, sent: dict[str, str]) -> None:
    base = explorer_url(node) + "/api/"
    status, summary = get(base + "summary")
    assert status == 200
    assert sent["signature"] in [e["signature"] for e in summary["entries"]]
    assert summary["batches"][-1]["batch"] == 1
    status, account = get(base + "account/" + sent["bob"])
    assert status == 200 and account["lamports"] == 1_000_000
    assert account["owner"] == "11111111111111111111111111111111"
    status, tx = get(base + "tx/" + sent["signature"])
    assert status == 200 and tx["ok"] and tx["fee"] == 5000
    assert any("11111111111111111111111111111111 success" in line for line in tx["logs"])
    assert get(base + "account/not-base58!")[0] == 400
    assert get(base + "tx/" + "1" * 88)[0] in (400, 404)


def test_page_in_headless_chromium(node: NodeProcess, sent: dict[str, str], tmp_path: Path) -> None:
    browser = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    browser += ["--virtual-time-budget=4000", "--window-size=1400,1000"]
    dom = subprocess.run(
        [*browser, "--dump-dom", explorer_url(node)], capture_output=True, timeout=120, check=True
    ).stdout.decode()
    assert sent["signature"] in dom  # the submitted transaction, rendered by the page's script
    assert 'data-batch-status="1"' in dom  # its batch, with its L1 status
    status = node.result("heliostat_getBatchStatus", 1)["status"]
    assert f'data-batch-status="1">{status}<' in dom
    shot = tmp_path / "explorer.png"
    subprocess.run([*browser, f"--screenshot={shot}", explorer_url(node)],
                   capture_output=True, timeout=120, check=True)  # fmt: skip
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    keep = ROOT / "build" / "explorer.png"  # for people: what the page looked like in the run
    keep.parent.mkdir(exist_ok=True)
    shutil.copy(shot, keep)
