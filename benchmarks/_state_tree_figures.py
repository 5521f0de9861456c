"""The state tree's figures for benchmarks/runtime.py: proving cost of a tree update, node speed.

- Cost in the proof: Poseidon2 permutations (syscalls, one chip row each) and the sBPF
  instructions of c/lib/state_tree (the harness's own instructions are left out), for one
  update, one creation and batches, in a tree of N accounts (default 2^16). Deterministic.
- Node side: genesis of N accounts and batch updates with the Python tree (wall clock).
- The C library's native run time in Heliostat's numba interpreter.
"""

from __future__ import annotations

import bisect
import random
import time
from collections import Counter

import numpy as np

from heliostat.runtime import state_witness as sw
from heliostat.runtime.state_tree import AccountValue, StateTree
from heliostat.svm.syscalls import poseidon2
from heliostat.testing.state_tree_sbpf import (
    HARNESS_SOURCE,
    LIB_DIR,
    OP_COMMIT,
    encode_request,
    harness,
)
from heliostat.toolchain.build import link_sources

HARNESS_FUNCTIONS = {"entrypoint", "answer", "rd", "sol_deserialize"}
TOKEN_ACCOUNT_BYTES = 165


def say(line: str) -> None:
    print(line, flush=True)


def random_accounts(rng: random.Random, n: int) -> dict[bytes, AccountValue]:
    accounts = {}
    for i in range(n):
        data = rng.randbytes(TOKEN_ACCOUNT_BYTES) if i % 5 == 0 else b""
        accounts[rng.randbytes(32)] = AccountValue(rng.randrange(1, 10**12), data=data)
    return accounts


class LibraryCounter:
    """Runs the harness traced and splits its instructions into harness and library."""

    def __init__(self) -> None:
        linked = link_sources(
            [HARNESS_SOURCE, LIB_DIR / "state_tree.c", LIB_DIR / "st_hash.c"],
            include_dirs=[LIB_DIR], extra_syscalls=[poseidon2.NAME],
        )  # fmt: skip
        placed = sorted((addr, name) for name, addr in linked.functions.items())
        self.starts = [(addr - linked.text_offset) // 8 for addr, _ in placed]
        self.names = [name for _, name in placed]

    def run(self, tree: StateTree, touched, changes) -> tuple[int, int, int]:
        """(library instructions, permutations, records) of committing ``changes``."""
        witness = sw.make_witness(tree, touched)
        finals = sw.finals_for(tree, witness, changes)
        start = sw.initial_values(witness)
        changed = [(i, f) for i, (s, f) in enumerate(zip(start, finals, strict=True)) if s != f]
        data = encode_request(OP_COMMIT, tree.root(), witness.encode(), changed)
        result = harness().execute(data, trace=True)
        if result.execution is None or result.execution.trace is None:
            raise RuntimeError("the harness did not record a trace")
        trace = result.execution.trace
        pcs, counts = np.unique(trace.steps[:, 0].astype(np.int64), return_counts=True)
        per_function: Counter[str] = Counter()
        for pc, count in zip(pcs, counts, strict=True):
            per_function[self.names[bisect.bisect_right(self.starts, pc) - 1]] += int(count)
        library = sum(c for name, c in per_function.items() if name not in HARNESS_FUNCTIONS)
        permutations = sum(1 for call in trace.syscalls if call.name == poseidon2.NAME)
        expected = sw.commit(witness, finals, tree.root()).new_root
        if result.return_data[1][16:48] != expected:
            raise RuntimeError("the C library and the Python reference disagree")
        return library, permutations, len(witness.records)


def proving_costs(tree: StateTree, keys: list[bytes], rng: random.Random) -> dict[str, float]:
    counter = LibraryCounter()
    figures: dict[str, float] = {}
    system = next(k for k in keys if not tree.record(k).value.data)
    token = next(k for k in keys if tree.record(k).value.data)
    new = rng.randbytes(32)
    cases = [
        ("update", "one lamports update (system account)", [system],
         {system: AccountValue(7)}),
        ("token_update", "one token-account update (165 B data)", [token],
         {token: AccountValue(7, data=rng.randbytes(TOKEN_ACCOUNT_BYTES))}),
        ("creation", "one creation (empty account, low leaf updated)", [new],
         {new: AccountValue(7)}),
    ]  # fmt: skip
    for batch in (40, 200):
        chosen = rng.sample(keys, batch)
        cases.append((f"batch{batch}", f"{batch} lamports updates in one batch", chosen,
                      {k: AccountValue(rng.randrange(1, 10**9)) for k in chosen}))  # fmt: skip
    for name, label, touched, changes in cases:
        instructions, permutations, records = counter.run(tree, touched, changes)
        per = len(changes)
        say(f"{label:52s} {permutations / per:8.1f} permutations {instructions / per:9,.0f} "
            f"instructions per account ({records} records)")  # fmt: skip
        figures[f"{name}_permutations_per_account"] = round(permutations / per, 1)
        figures[f"{name}_instructions_per_account"] = round(instructions / per)
    return figures


def native_commit(tree: StateTree, keys: list[bytes], rng: random.Random) -> dict[str, float]:
    chosen = rng.sample(keys, 200)
    witness = sw.make_witness(tree, chosen)
    finals = sw.finals_for(tree, witness, {k: AccountValue(5) for k in chosen})
    changed = list(enumerate(finals))
    encoded = witness.encode()
    harness().run(OP_COMMIT, tree.root(), encoded, changed)  # warm
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        run = harness().run(OP_COMMIT, tree.root(), encoded, changed)
        best = min(best, time.perf_counter() - start)
    if run.code != sw.WitnessErrorCode.OK:
        raise RuntimeError(f"commit failed: {run.code}")
    say(f"C commit of 200 updates in the VM (numba interpreter)   {best * 1e3:8.1f} ms")
    return {"vm_commit_200_ms": round(best * 1e3, 1)}


def node_side(n: int, rng: random.Random) -> tuple[StateTree, list[bytes], dict[str, float]]:
    accounts = random_accounts(rng, n)
    start = time.perf_counter()
    tree = StateTree.from_accounts(accounts)
    genesis = time.perf_counter() - start
    say(f"genesis of {n:,} accounts (Python tree)                 {genesis:8.2f} s")
    keys = list(accounts)
    batches, per_batch = 10, 1000
    start = time.perf_counter()
    for _ in range(batches):
        changes: dict[bytes, AccountValue | None] = {
            k: AccountValue(rng.randrange(1, 10**9)) for k in rng.sample(keys, per_batch - 50)
        }
        changes.update({rng.randbytes(32): AccountValue(1) for _ in range(50)})
        sw.update(tree, changes)
    elapsed = time.perf_counter() - start
    rate = batches * per_batch / elapsed
    say(f"node: {batches} batches of {per_batch} changes (5% creations)   "
        f"{elapsed / batches * 1e3:8.1f} ms/batch, {rate:,.0f} accounts/s")  # fmt: skip
    return (
        tree,
        keys,
        {
            "genesis_s": round(genesis, 2),
            "node_batch_1000_ms": round(elapsed / batches * 1e3, 1),
            "node_accounts_per_s": round(rate),
        },
    )


def state_tree_figures(accounts: int = 1 << 16) -> dict[str, float]:
    """The state tree's section of benchmarks/runtime.py."""
    rng = random.Random(2024)
    tree, keys, figures = node_side(accounts, rng)
    figures["state_tree_accounts"] = accounts
    figures.update(proving_costs(tree, keys, rng))
    figures.update(native_commit(tree, keys, rng))
    return figures
