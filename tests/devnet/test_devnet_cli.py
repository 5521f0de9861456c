"""The devnet and bridge commands: each explains itself with --help, and mistakes a person
makes get one line saying what is wrong (exit status 1), not a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from solders.keypair import Keypair

from heliostat.cli import main


@pytest.mark.parametrize(
    ("command", "words"),
    [
        (["devnet"], ["anvil", "deploy", "prover", "resumes", "Ctrl-C"]),
        (["l1", "deploy"], ["StarkBatchVerifier", "HeliostatRollup", "genesis"]),
        (["deposit"], ["depositETH", "gwei", "--wait"]),
        (["withdraw"], ["bridge", "claim"]),
        (["claim"], ["Merkle", "executed", "recipient"]),
        (["force"], ["forceTransaction", "FORCED_BLOCKHASH", "escape mode", "--wait"]),
    ],
)
def test_every_command_explains_itself(
    command: list[str], words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for word in words:
        assert word in text, (word, text)


KEY = "0x" + "11" * 32


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["deposit", "--sol", "1.0000000001", "--to", str(Keypair().pubkey()),
          "--private-key", KEY, "--l1-rpc", "http://127.0.0.1:9", "--rollup", "0x" + "0" * 40],
         "more than 9 decimals"),
        (["deposit", "--lamports", "0", "--to", str(Keypair().pubkey()), "--private-key", KEY],
         "must be positive"),
        (["deposit", "--sol", "1", "--to", "not-an-address", "--private-key", KEY],
         "neither a base58 address nor a keypair file"),
        (["deposit", "--sol", "1", "--to", str(Keypair().pubkey()), "--private-key", KEY,
          "--l1-rpc", "http://127.0.0.1:9", "--rollup", "0x" + "0" * 40],
         "cannot reach an Ethereum node"),
        (["deposit", "--sol", "1", "--to", str(Keypair().pubkey()), "--private-key", KEY],
         "--l1-rpc is required"),
        (["claim", "--devnet", "/nonexistent/devnet", "--private-key", KEY, "--signature", "x"],
         "is `heliostat devnet --data-dir /nonexistent/devnet` running?"),
        (["l1", "deploy", "--l1-rpc", "http://127.0.0.1:9", "--private-key", KEY,
          "--genesis-root", "abcd"], "must be 32 bytes"),
        (["l1", "deploy", "--l1-rpc", "http://127.0.0.1:9", "--private-key", "0x12",
          "--genesis-root", "00" * 32], "not an Ethereum private key"),
        (["devnet", "--workers", "0"], "--workers must be at least 1"),
    ],
)  # fmt: skip
def test_mistakes_get_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_withdraw_refuses_a_bad_l1_address(tmp_path: Path) -> None:
    keypair = tmp_path / "me.json"
    keypair.write_text(str(list(bytes(Keypair()))))
    done = subprocess.run(
        [sys.executable, "-m", "heliostat.cli", "withdraw", "--keypair", str(keypair),
         "--to", "0x1234", "--sol", "1", "--url", "http://127.0.0.1:9"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "is not an Ethereum address" in done.stderr and "Traceback" not in done.stderr
