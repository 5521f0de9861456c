"""`heliostat prove` / `heliostat verify` on a real program: accepted, tampered, malformed."""

from __future__ import annotations

from pathlib import Path

import pytest

from heliostat.cli import main
from heliostat.cli.prove import read_proof_file, write_proof_file
from heliostat.toolchain import program_elf


@pytest.fixture(scope="module")
def proof_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("prove")
    elf = folder / "compute_heavy.so"
    elf.write_bytes(program_elf("compute_heavy"))
    out = folder / "run.proof"
    args = [
        "prove",
        str(elf),
        "--data",
        "0a00000000000000",
        "--params",
        "fast-test",
        "-o",
        str(out),
    ]
    assert main(args) == 0
    return out


def test_prove_then_verify(proof_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(proof_file)]) == 0
    assert "verified: status EXITED" in capsys.readouterr().out


def test_a_tampered_proof_is_rejected(
    proof_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request, artifact = read_proof_file(proof_file)
    tampered = bytearray(artifact)
    tampered[len(tampered) // 3] ^= 0x40
    bad = tmp_path / "bad.proof"
    write_proof_file(bad, request, bytes(tampered))
    assert main(["verify", str(bad)]) == 1
    out = capsys.readouterr()
    assert "REJECTED" in out.out or "error:" in out.err


def test_garbage_and_bad_arguments_get_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk"
    junk.write_bytes(b"not a proof")
    assert main(["verify", str(junk)]) == 1
    assert "not a Heliostat proof file" in capsys.readouterr().err
    assert main(["verify", str(tmp_path / "missing")]) == 1
    elf = tmp_path / "junk.so"
    elf.write_bytes(b"\x7fELF garbage")
    assert main(["prove", str(elf), "--params", "fast-test", "-o", str(tmp_path / "o")]) == 1
    assert "cannot prove" in capsys.readouterr().err
    assert main(["prove", str(elf), "--params", "nonsense", "-o", str(tmp_path / "o")]) == 1
    assert "unknown parameter set" in capsys.readouterr().err
