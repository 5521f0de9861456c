"""The wallet commands against a running node: keys, airdrop, balance, transfer, batch, errors."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from solders.keypair import Keypair

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "node"))
from node_harness import NodeProcess, free_port_pair

from heliostat.cli import main


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    base = tmp_path_factory.mktemp("wallet")
    process = NodeProcess(base / "data", free_port_pair(), Keypair()).start()
    yield process
    process.stop()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_keys_airdrop_transfer_balance(
    node: NodeProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alice, bob = tmp_path / "alice.json", tmp_path / "bob.json"
    assert run(capsys, "keys", "new", str(alice))[0] == 0
    assert run(capsys, "keys", "new", str(bob))[0] == 0
    code, _, err = run(capsys, "keys", "new", str(alice))
    assert code == 1 and "--force" in err
    bob_address = run(capsys, "keys", "show", str(bob))[1].strip()

    assert run(capsys, "airdrop", str(alice), "5000000000", "--url", node.url)[0] == 0
    code, out, _ = run(
        capsys, "transfer", bob_address, "1234567", "--from", str(alice), "--url", node.url
    )
    assert code == 0, out
    assert "receipt signed by sequencer" in out and "verified" in out
    assert run(capsys, "balance", str(bob), "--url", node.url)[1].startswith("1,234,567 lamports")
    # the RPC agrees, to the lamport, that Alice paid the amount and the fee
    alice_address = run(capsys, "keys", "show", str(alice))[1].strip()
    paid = 5_000_000_000 - node.result("getBalance", alice_address)["value"]
    assert paid == 1_234_567 + 5_000  # one signature at Solana's default 5,000 lamports


def test_errors_are_one_clear_line(
    node: NodeProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    poor = tmp_path / "poor.json"
    assert run(capsys, "keys", "new", str(poor))[0] == 0
    code, _, err = run(
        capsys, "transfer", str(Keypair().pubkey()), "10", "--from", str(poor), "--url", node.url
    )
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1
    code, _, err = run(capsys, "balance", "not-an-address", "--url", node.url)
    assert code == 1 and "neither a base58 address nor a keypair file" in err
    code, _, err = run(capsys, "balance", str(poor), "--url", "http://127.0.0.1:9")
    assert code == 1 and "cannot reach a node" in err
    code, _, err = run(capsys, "batch", "999999", "--url", node.url)
    assert code == 1 and "no batch 999999" in err
    junk = tmp_path / "junk.json"
    junk.write_text("[1, 2, 3]")
    code, _, err = run(capsys, "keys", "show", str(junk))
    assert code == 1 and "not a keypair file" in err
