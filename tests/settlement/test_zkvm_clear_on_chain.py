"""A real zkVM proof with clear tables (default parameters) verified on chain: the contract adds
the clear tables' bus sums to the public interactions' terms, as the Python verifier does.

Regression: the contract used to overwrite the clear tables' sum with the public terms, so a
machine with both (the zkVM; no example machine) was refused with ``logup_sum_nonzero``.
The statement step of this proof needs more than EIP-7825's 2^24 gas, hence its own anvil.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from chain_cases import ChainCase
from solders.account import Account
from solders.pubkey import Pubkey
from solders.rent import Rent
from test_stark_verifier_agrees import assert_both_reject, python_verdict

from heliostat.settlement.anvil import Anvil
from heliostat.settlement.stark_verifier import OnChainVerifier
from heliostat.settlement.verifier_gen.generator import generate_verifier
from heliostat.stark.clear import clear_tables
from heliostat.stark.config import DEFAULT
from heliostat.stark.proof import ClearTrace
from heliostat.stark.prover import prove
from heliostat.svm import programs
from heliostat.svm.instruction import LoadedProgram
from heliostat.svm.syscalls.registry import default_registry
from heliostat.svm.syscalls.sysvars import RENT
from heliostat.testing import TestHost
from heliostat.testing import spl_token as tk
from heliostat.zkvm.execution import Execution, execute_program_instruction
from heliostat.zkvm.prover import proving_key
from heliostat.zkvm.trace_gen import generate

pytestmark = pytest.mark.slow  # proves an SPL Token instruction, deploys the zkVM verifier

CALL_GAS = 1 << 29  # the whole proof in one call: ~50M gas without clear tables
MINT = Pubkey(bytes([10] * 32))
OWNER = Pubkey(bytes([1] * 32))
SYSVAR_OWNER = Pubkey.from_string("Sysvar1111111111111111111111111111111111111")


def initialize_mint() -> Execution:
    """SPL Token's initialize_mint, from its ELF (as tests/zkvm/real_programs.py runs it)."""
    binary = programs.spl_token()
    token = LoadedProgram.load(binary.program_id, binary.elf, binary.loader_id, default_registry())
    accounts = {
        MINT: tk.mint_account(None, initialized=False),
        RENT: Account(1, bytes(Rent.default()), SYSVAR_OWNER),
    }
    instruction = tk.initialize_mint(MINT, 6, OWNER)
    return execute_program_instruction(token, instruction, accounts, TestHost(token.program_id))


@pytest.fixture(scope="module")
def zkvm_case() -> Iterator[ChainCase]:
    """The proof, its publics and the zkVM verifier on an anvil without the per-tx gas cap."""
    trace = generate(initialize_mint())
    pk = proving_key(DEFAULT)
    publics = [int(v) for v in trace.public_values.to_fields()]
    proof = prove(pk, trace.traces, publics)
    with Anvil(block_gas_limit=1 << 30, tx_gas_cap=False) as chain:
        w3 = chain.web3()
        onchain = OnChainVerifier.deploy(w3, generate_verifier(pk.vk, "Zkvm"), call_gas=CALL_GAS)
        yield ChainCase(pk, list(trace.traces), publics, proof, onchain)


def _clear_tables_on_buses(case: ChainCase) -> list[int]:
    machine = case.pk.machine
    clear = clear_tables(machine, case.proof.log_heights, DEFAULT)
    return [t for t in clear if machine.tables[t].interactions]


def test_a_zkvm_proof_with_clear_tables_is_accepted(zkvm_case: ChainCase) -> None:
    case = zkvm_case
    assert case.pk.machine.public_interactions  # the combination the contract got wrong
    assert len(_clear_tables_on_buses(case)) >= 4
    data = case.proof.to_bytes()
    assert python_verdict(case, data, case.publics) is None
    statement = case.onchain.check(data, case.publics)
    assert statement == case.onchain.contract.functions.statementOf(case.publics).call()


def test_a_tampered_zkvm_proof_is_rejected_by_both(zkvm_case: ChainCase) -> None:
    case = zkvm_case
    wrong = list(case.publics)
    wrong[0] = (wrong[0] + 1) % 0x78000001
    assert_both_reject(case, case.proof, wrong)
    # one value of a clear table on a bus: its rows or its bus sum no longer hold
    clear = clear_tables(case.pk.machine, case.proof.log_heights, DEFAULT)
    index = clear.index(_clear_tables_on_buses(case)[0])
    sent = case.proof.clear_traces[index]
    rows = [list(r) for r in sent.rows]
    rows[0][0] += 1
    traces = list(case.proof.clear_traces)
    traces[index] = ClearTrace(sent.width, tuple(map(tuple, rows)))
    assert_both_reject(case, replace(case.proof, clear_traces=tuple(traces)))
