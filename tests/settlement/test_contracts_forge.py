"""The batch contracts' forge tests (contracts/test/*.t.sol), run offline through the solc shim."""

from __future__ import annotations

import re
import subprocess

from heliostat.settlement.toolchain import CONTRACTS_DIR, forge_path


def test_forge_tests_pass() -> None:
    done = subprocess.run(
        [str(forge_path()), "test"],
        cwd=CONTRACTS_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    summary = re.findall(r"(\d+) tests passed, (\d+) failed, (\d+) skipped", done.stdout)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert summary, done.stdout[-2000:]
    passed, failed, skipped = map(int, summary[-1])
    assert failed == 0 and skipped == 0
    assert passed >= 43  # every rule has its test (Rollup, Escape, DataAvailability .t.sol)
