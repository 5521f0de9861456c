"""`python -m heliostat.demo` runs: it agrees with LiteSVM on both transfers and proves one."""

from __future__ import annotations

import pytest

from heliostat import demo


def test_demo_prints_matching_outcomes(capsys: pytest.CaptureFixture[str]) -> None:
    demo.main()
    out = capsys.readouterr().out
    assert out.count("same logs, compute units and balances: yes") == 2
    assert "source 750,000, destination 250,000" in out
    assert "failed: custom program error: 0x1 (Custom(1))" in out
    assert "failed: instruction 0: Custom(1)" in out
    assert "status EXITED, 76 compute units" in out
    assert "verified in" in out
