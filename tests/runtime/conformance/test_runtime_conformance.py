"""The LiteSVM conformance table: every scenario, both executors, identical outcomes."""

from __future__ import annotations

import pytest
from runtime_harness import TxScenario, outcome_name, run_both
from runtime_program_scenarios import SCENARIOS as PROGRAMS
from runtime_sol_scenarios import SCENARIOS as SOL
from runtime_spl_scenarios import SCENARIOS as SPL

ALL: list[TxScenario] = [*SOL, *SPL, *PROGRAMS]


@pytest.mark.parametrize("scenario", ALL, ids=lambda s: s.name)
def test_matches_litesvm(scenario: TxScenario) -> None:
    result = run_both(scenario)
    assert tuple(outcome_name(t.error) for t in result.theirs) == scenario.expect
    for index, (ours, theirs) in enumerate(zip(result.ours, result.theirs, strict=True)):
        assert ours.error == theirs.error, f"tx {index}"
        assert ours.included == theirs.included, f"tx {index}"
        assert ours.logs == theirs.logs, f"tx {index}"
        assert ours.compute_units == theirs.compute_units, f"tx {index}"
        if theirs.included:
            assert ours.fee == theirs.fee, f"tx {index}"
        assert ours.return_data == theirs.return_data, f"tx {index}"
    assert result.our_state == result.their_state


def test_table_size() -> None:
    assert len(ALL) >= 60
