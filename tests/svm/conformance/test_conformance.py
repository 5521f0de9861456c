"""Differential conformance: Heliostat runs every scenario exactly as LiteSVM does.

Both interpreters are checked against LiteSVM on every scenario: error, logs, compute units,
return data and the post-state of every instruction account.
"""

from __future__ import annotations

import pytest
from conformance_harness import OracleRun, Outcome, Scenario, run_heliostat, run_litesvm
from scenarios import SCENARIOS

from heliostat.svm.instruction_error import InstructionErrorKind

_ORACLE: dict[str, OracleRun] = {}


def oracle(scenario: Scenario) -> OracleRun:
    """LiteSVM's run of a scenario (once per session: both interpreters compare with it)."""
    if scenario.name not in _ORACLE:
        _ORACLE[scenario.name] = run_litesvm(scenario)
    return _ORACLE[scenario.name]


def test_table_is_large_and_names_are_unique() -> None:
    names = [s.name for s in SCENARIOS]
    assert len(names) >= 40
    assert len(set(names)) == len(names)


def test_table_covers_the_required_paths() -> None:
    """The brief's list: token families and errors, memo with/without signers, each fault."""
    names = " ".join(s.name for s in SCENARIOS)
    for family in ("initialize_mint2", "initialize_account3", "mint_to_checked", "transfer_checked",
                   "approve", "revoke", "burn", "close_account", "set_authority", "freeze_account",
                   "thaw_account", "insufficient_funds", "wrong_owner", "frozen", "memo_no_signers",
                   "memo_one_signer", "fault_divide_by_zero_fault", "fault_read_unmapped_fault",
                   "fault_call_depth_fault", "fault_compute_budget_fault"):  # fmt: skip
        assert family in names, family


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_litesvm_reports_what_the_scenario_expects(scenario: Scenario) -> None:
    """Guards the table: a scenario must exercise the path its name and `expect` claim."""
    assert (oracle(scenario).outcome.error or "ok") == scenario.expect


@pytest.mark.parametrize("fast", [False, True], ids=["reference", "numba"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_heliostat_matches_litesvm(scenario: Scenario, fast: bool) -> None:
    expected = oracle(scenario).outcome
    ours, _ = run_heliostat(scenario, oracle(scenario), fast=fast)
    assert ours.error == expected.error
    assert ours.logs == expected.logs
    assert ours.compute_units == expected.compute_units
    assert ours.return_data == expected.return_data
    assert ours.accounts == expected.accounts
    assert ours == expected


def _only(error: str) -> list[Scenario]:
    return [s for s in SCENARIOS if s.expect == error]


@pytest.mark.parametrize("scenario", SCENARIOS[:3] + _only("ok")[-3:], ids=lambda s: s.name)
def test_assumption_fee_payer_pays_only_the_fee(scenario: Scenario) -> None:
    """LiteSVM's fee payer loses exactly the fee (5000 lamports per signature)."""
    run = oracle(scenario)
    assert run.fee == 5000 * (1 + len(scenario.signers))
    assert run.fee_payer_delta == run.fee


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.expect == "ok"],
                         ids=lambda s: s.name)  # fmt: skip
def test_assumption_transaction_units_are_the_instructions(scenario: Scenario) -> None:
    """One instruction, no compute-budget instruction: the transaction's CU is the logged CU."""
    run = oracle(scenario)
    assert run.logged_units == run.outcome.compute_units


@pytest.mark.parametrize(
    "scenario",
    [s for s in SCENARIOS if s.name.endswith("_fault")],
    ids=lambda s: s.name,
)
def test_assumption_vm_fault_reports_the_whole_budget(scenario: Scenario) -> None:
    """FACTS.md: on a VM fault LiteSVM reports the whole budget; the log shows what ran."""
    run = oracle(scenario)
    assert run.outcome.error == InstructionErrorKind.PROGRAM_FAILED_TO_COMPLETE.rust_name
    assert run.outcome.compute_units == 200_000
    assert run.logged_units is not None
    if "compute_budget" in scenario.name:
        assert run.logged_units == 200_000
    else:
        assert run.logged_units < 200_000


def test_outcomes_that_differ_are_reported_as_different() -> None:
    """The comparison itself can fail: an outcome with one log line changed is not equal."""
    run = oracle(SCENARIOS[0])
    changed = Outcome(
        run.outcome.error,
        (*run.outcome.logs[:-1], "Program log: something else"),
        run.outcome.compute_units,
        run.outcome.return_data,
        run.outcome.accounts,
    )
    assert changed != run.outcome


@pytest.mark.parametrize(
    "name",
    ["exec_probe_memcpy_overlap", "exec_probe_syscall_bad_pointer", "custom_error_panic"],
)
def test_assumption_syscall_fault_does_not_deplete(name: str) -> None:
    """A failure raised inside a syscall is not a VM fault: only what ran is charged."""
    (scenario,) = [s for s in SCENARIOS if s.name == name]
    run = oracle(scenario)
    assert run.outcome.error == "ProgramFailedToComplete"
    assert run.logged_units is not None
    assert run.outcome.compute_units == run.logged_units < 200_000
