"""The node's executor over heliostat.runtime: groups equal one-by-one execution, and a
restart keeps the Poseidon2 state tree's layout (hence its root)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from solders.account import Account
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from heliostat.node.execution import BlockContext, GroupItem
from heliostat.node.replay import replay
from heliostat.node.runtime_executor import RuntimeExecutor
from heliostat.node.sequencer.chain import BatchPolicy
from heliostat.node.sequencer.entries import SequencerConfig
from heliostat.node.sequencer.sequencer import Sequencer
from heliostat.node.storage.sqlite import SqliteStorage
from heliostat.runtime.executor import PendingStateExecutor
from heliostat.runtime.runtime import Runtime

SYSTEM = Pubkey.from_string("11111111111111111111111111111111")
PAYERS = [Keypair.from_seed(bytes([i + 1]) * 32) for i in range(3)]
BROKE = Keypair.from_seed(bytes([9]) * 32)  # never funded: its transactions are refused
SINKS = [Pubkey(bytes([0x40 + i]) * 32) for i in range(3)]
BLOCKHASH = Hash(bytes([7]) * 32)
STALE = Hash(bytes([8]) * 32)
GENESIS = [(p.pubkey(), Account(10_000_000, b"", SYSTEM, False, 0)) for p in PAYERS]


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    return Runtime()


def _transfer(payer: Keypair, to: Pubkey, lamports: int, blockhash: Hash) -> VersionedTransaction:
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=lamports))
    return VersionedTransaction(
        Message.new_with_blockhash([ix], payer.pubkey(), blockhash), [payer]
    )


# One queued transaction: (payer or -1 for the unfunded one, sink, lamports, stale blockhash,
# preflight). Amounts up to twice a payer's balance make fee-paying failures common.
_ITEM = st.tuples(
    st.integers(-1, len(PAYERS) - 1),
    st.integers(0, len(SINKS) - 1),
    st.integers(1, 8_000_000),
    st.booleans(),
    st.booleans(),
)


def _items(spec: list[tuple[int, int, int, bool, bool]], repeat: list[int]) -> list[GroupItem]:
    items: list[GroupItem] = []
    for payer, sink, lamports, stale, preflight in spec:
        tx = _transfer(
            BROKE if payer < 0 else PAYERS[payer],
            SINKS[sink],
            lamports,
            STALE if stale else BLOCKHASH,
        )
        items.append((tx, bytes(tx), preflight))
    for i in repeat:  # resubmit earlier transactions: duplicates
        if items:
            items.append(items[i % len(items)])
    return items


@settings(max_examples=12)
@given(st.lists(_ITEM, min_size=1, max_size=10), st.lists(st.integers(0, 9), max_size=2))
def test_a_group_equals_the_runtimes_own_one_by_one_execution(
    runtime: Runtime, spec: list[tuple[int, int, int, bool, bool]], repeat: list[int]
) -> None:
    context = BlockContext(3, 1_700_000_000, frozenset([BLOCKHASH]))
    grouped = RuntimeExecutor(GENESIS, runtime)
    reference = PendingStateExecutor(runtime, GENESIS)
    grouped.begin_slot(context)
    reference.begin_slot(context)
    items = _items(spec, repeat)
    got = grouped.execute_many(items)
    expected = [reference.execute(tx, require_success=pre) for tx, _, pre in items]
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        assert (a.signature, a.included, a.err, a.fee, a.compute_units, a.logs) == (
            b.signature, b.included, b.err, b.fee, b.compute_units, b.logs,
        )  # fmt: skip
        assert a.changed_accounts == b.changed_accounts
    assert grouped.state_root() == reference.state_root()
    for key in [p.pubkey() for p in PAYERS] + SINKS:
        assert grouped.get_account(key) == reference.get_account(key)


def test_a_failing_runtime_leaves_the_group_without_effect(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    executor = RuntimeExecutor(GENESIS, runtime)
    executor.begin_slot(BlockContext(3, 1_700_000_000, frozenset([BLOCKHASH])))
    root = executor.state_root()
    first = _transfer(PAYERS[0], SINKS[0], 5, BLOCKHASH)
    failing = _transfer(PAYERS[1], SINKS[1], 10**9, BLOCKHASH)  # preflight failure: a rerun
    last = _transfer(PAYERS[2], SINKS[2], 7, BLOCKHASH)
    calls = 0
    real = runtime.execute

    def second_run_faults(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("kernel fault")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runtime, "execute", second_run_faults)
    with pytest.raises(RuntimeError):
        executor.execute_many([(t, bytes(t), True) for t in (first, failing, last)])
    assert calls == 2 and executor.state_root() == root
    assert executor.get_account(SINKS[0]) is None


def _chain_run(
    path: Path, payer: Keypair, rounds: list[list[Pubkey]], tail: list[Pubkey]
) -> tuple[bytes, bytes]:
    """Each round creates accounts and seals a batch, then `tail` is created in the open
    slot; returns (the state root at the end, the last sealed batch's root)."""
    genesis = [(payer.pubkey(), Account(10**12, b"", SYSTEM, False, 0))]

    async def run() -> tuple[bytes, bytes]:
        seq = Sequencer(
            RuntimeExecutor(genesis),
            SqliteStorage(path),
            Keypair.from_seed(bytes([3]) * 32),
            SequencerConfig(slot_ms=10_000, batch=BatchPolicy(max_entries=1, max_age_s=3600)),
            clock=lambda: 1_700_000_000.0,
        )
        await seq.start()
        for keys in rounds:
            blockhash = Hash(seq.latest_blockhash().blockhash or b"")
            txs = [_transfer(payer, key, 10**9, blockhash) for key in keys]
            await asyncio.gather(*(seq.submit(t, bytes(t), preflight=True) for t in txs))
            seq.seal_slot()
        blockhash = Hash(seq.latest_blockhash().blockhash or b"")
        txs = [_transfer(payer, key, 10**9, blockhash) for key in tail]
        await asyncio.gather(*(seq.submit(t, bytes(t), preflight=True) for t in txs))
        await seq.stop()
        last = seq.storage.last_batch()
        assert last is not None
        return seq.executor.state_root(), last.state_root

    return asyncio.run(run())


def test_restart_restores_the_tree_layout_and_the_replay_agrees(tmp_path: Path) -> None:
    payer = Keypair.from_seed(bytes([5]) * 32)
    high, low = Pubkey(bytes([0xF0]) * 32), Pubkey(bytes([0x10]) * 32)
    # The high key is created a batch before the low one: key order differs from creation
    # order, so a tree rebuilt from the accounts alone would place them the other way round.
    # The tail is created after the last sealed batch: not placed in the tree yet.
    tail = Pubkey(bytes([0x30]) * 32)
    root, sealed = _chain_run(tmp_path / "db.sqlite", payer, [[high], [low]], [tail])
    genesis = [(payer.pubkey(), Account(10**12, b"", SYSTEM, False, 0))]
    storage = SqliteStorage(tmp_path / "db.sqlite")
    stored = list(storage.accounts_with_leaves())
    leaves = {bytes(k): leaf for k, _, leaf in stored}
    assert leaves[bytes(high)] is not None and leaves[bytes(low)] is not None
    assert leaves[bytes(high)] < leaves[bytes(low)] and leaves[bytes(tail)] is None

    restored = RuntimeExecutor(genesis)
    restored.restore_state(stored)
    assert restored.state_root() == root != sealed

    naive = RuntimeExecutor(genesis)
    naive.restore((k, a) for k, a, _ in stored)
    assert naive.state_root() != root, "the layout did not matter: the test proves nothing"

    result = replay(storage, RuntimeExecutor(genesis))
    assert result.state_root == root and result.entries == 3
    storage.close()
