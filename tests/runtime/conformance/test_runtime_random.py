"""Hypothesis: random sequences of transfers (SOL and SPL, some failing) agree with LiteSVM."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from runtime_harness import TxScenario, run_both
from runtime_sol_scenarios import PAYER, SOL, funded, send, tx
from runtime_spl_scenarios import ALICE, BOB, MINT, ata, with_balances
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from heliostat.testing import spl_token as tk

CAROL = Keypair.from_seed(bytes([4] * 32))
NEW = Pubkey(bytes([88] * 32))
PEOPLE = (PAYER, ALICE, BOB, CAROL)

step = st.one_of(
    st.tuples(st.just("sol"), st.integers(0, 3), st.integers(0, 4),
              st.sampled_from([0, 1, 1000, SOL, 3 * SOL, 20 * SOL])),
    st.tuples(st.just("spl"), st.sampled_from([0, 1]), st.integers(0, 1),
              st.sampled_from([0, 1, 999, 10**6, 10**7])),
)  # fmt: skip


def build(steps):
    def body(svm):
        with_balances(svm, alice=10**6, bob=5)
        funded(svm, ALICE, BOB, CAROL, lamports=5 * SOL)
        txs = []
        for n, (kind, a, b, amount) in enumerate(steps):
            if kind == "sol":
                src = PEOPLE[a]
                dst = NEW if b == 4 else PEOPLE[b].pubkey()
                ixs = [send(src, dst, amount + n)]  # distinct bytes: no accidental duplicates
                txs.append(tx(svm, ixs, *([src] if src is not PAYER else [])))
            else:
                owner = (ALICE, BOB)[a]
                other = (BOB, ALICE)[b] if a != b else (ALICE, BOB)[1 - a]
                ix = tk.transfer_checked(ata(owner.pubkey()), MINT.pubkey(), ata(other.pubkey()),
                                         owner.pubkey(), amount, 6)  # fmt: skip
                txs.append(tx(svm, [ix, send(PAYER, CAROL.pubkey(), n + 1)], owner))
        return txs

    return body


@settings(max_examples=25, deadline=None)
@given(st.lists(step, min_size=1, max_size=6))
def test_random_transfers_match_litesvm(steps) -> None:
    scenario = TxScenario("random", build(steps), ())
    result = run_both(scenario)
    for ours, theirs in zip(result.ours, result.theirs, strict=True):
        assert (ours.error, ours.included, ours.logs, ours.compute_units) == (
            theirs.error, theirs.included, theirs.logs, theirs.compute_units,
        )  # fmt: skip
    assert result.our_state == result.their_state
